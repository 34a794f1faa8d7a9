from django import forms

from apps.core.validation import check_text


class RunningLateForm(forms.Form):
    minutes = forms.IntegerField(min_value=1, max_value=240, initial=10, label="Minutes late")
    message = forms.CharField(max_length=240, required=False, label="Message (optional)")

    def clean_message(self):
        return check_text(self.cleaned_data["message"], max_length=240)
