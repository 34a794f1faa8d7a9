"""Forms of the records pages (portal and staff). They parse and type-check with the rules the
API shares (apps/core/validation.py); every rule lives in the services, whose refusals land on
the form through core.pages.on_error."""
from django import forms

from apps.core import validation
from apps.records.models import Allergy, Document, LabResult, Medication, Problem, VisitNote
from apps.scheduling.models import Provider

_DATES = {"onset_date": validation.DateField, "start_date": validation.DateField, "end_date": validation.DateField}
_DATE_INPUT = forms.DateInput(attrs={"type": "date"})


class RefillForm(forms.Form):
    pharmacy = forms.CharField(label="Pharmacy (name and town or phone)", max_length=200)
    note = forms.CharField(label="Anything your provider should know (optional)", max_length=1000, required=False,
                           widget=forms.Textarea(attrs={"rows": 3}))


class DocumentForm(forms.Form):
    category = forms.ChoiceField(choices=Document.Category.choices)
    title = forms.CharField(max_length=200, required=False, help_text="Optional, e.g. “Front of my card”.")
    file = forms.FileField(help_text="A PDF or a photo (PNG, JPEG, HEIC).")


class StaffDocumentForm(DocumentForm):
    share = forms.BooleanField(label="Share with the patient now", required=False)


class NoteForm(forms.ModelForm):
    diagnosis_codes = forms.CharField(label="Diagnosis codes (ICD-10-CM, comma separated)", max_length=200,
                                      required=False)

    class Meta:
        model = VisitNote
        fields = ["subjective", "objective", "assessment", "plan", "diagnosis_codes", "summary_assessment",
                  "follow_up", "medications_changed"]
        widgets = {name: forms.Textarea(attrs={"rows": 4}) for name in
                   ["subjective", "objective", "assessment", "plan", "summary_assessment", "follow_up",
                    "medications_changed"]}
        help_texts = {"summary_assessment": "What the patient reads in their visit summary, in plain words."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance and isinstance(self.instance.diagnosis_codes, list) and not self.is_bound:
            self.initial["diagnosis_codes"] = ", ".join(self.instance.diagnosis_codes)

    def clean_diagnosis_codes(self):
        text = self.cleaned_data.get("diagnosis_codes") or ""
        return [code.strip().upper() for code in text.replace(";", ",").split(",") if code.strip()]

    def _post_clean(self):
        # The service validates the note (and refuses a signed one); the form only parses.
        pass


class AddendumForm(forms.Form):
    text = forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))


class LabForm(forms.Form):
    test_name = forms.CharField(max_length=200)
    loinc_code = forms.CharField(label="LOINC code", max_length=10)
    value = forms.CharField(max_length=100)
    unit = forms.CharField(max_length=40, required=False)
    reference_low = forms.DecimalField(max_digits=12, decimal_places=4, required=False)
    reference_high = forms.DecimalField(max_digits=12, decimal_places=4, required=False)
    reference_text = forms.CharField(max_length=100, required=False, help_text="A range that is not two numbers.")
    abnormal_flag = forms.ChoiceField(choices=[("", "From the range"), *LabResult.Flag.choices], required=False)
    collected_at = validation.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    resulted_at = validation.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))


class _ChartForm(forms.ModelForm):
    def _post_clean(self):
        # Parsed here, validated by the service (the same rules as the API).
        pass


class ProblemForm(_ChartForm):
    class Meta:
        model = Problem
        fields = ["code", "description", "onset_date", "note"]
        field_classes = _DATES
        widgets = {"onset_date": _DATE_INPUT, "note": forms.Textarea(attrs={"rows": 2})}


class AllergyForm(_ChartForm):
    class Meta:
        model = Allergy
        fields = ["substance", "substance_system", "substance_code", "reaction", "severity"]


class MedicationForm(_ChartForm):
    class Meta:
        model = Medication
        fields = ["name", "rxnorm_code", "dose", "route", "frequency", "prescriber", "start_date", "end_date"]
        field_classes = _DATES
        widgets = {"start_date": _DATE_INPUT, "end_date": _DATE_INPUT}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["prescriber"].queryset = Provider.objects.select_related("user").filter(is_active=True)


class StatusForm(forms.Form):
    status = forms.CharField(max_length=16)
    reason = forms.CharField(max_length=500, required=False)


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("deny", "Deny")])
    note = forms.CharField(label="Note to the patient", max_length=1000, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))
