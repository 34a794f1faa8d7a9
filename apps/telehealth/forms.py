from django import forms
from django.utils import timezone

from apps.core.validation import check_text


class RunningLateForm(forms.Form):
    minutes = forms.IntegerField(min_value=1, max_value=240, initial=10, label="Minutes late")
    message = forms.CharField(max_length=240, required=False, label="Message (optional)")

    def clean_message(self):
        return check_text(self.cleaned_data["message"], max_length=240)


class SlotChoiceForm(forms.Form):
    """One of the slots the rebook page offers (selectors.rebook_slots)."""

    slot = forms.TypedChoiceField(coerce=str, label="New time", widget=forms.RadioSelect)

    def __init__(self, *args, slots=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slot"].choices = [
            (str(slot.pk), f"{timezone.localtime(slot.start):%a %d %b, %H:%M} with {slot.provider}") for slot in slots
        ]
