from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from apps.core import validation
from apps.patients.models import DuplicateReview, Patient
from apps.patients.phone import normalize_phone
from apps.patients.selectors import duplicate_group_members
from apps.patients.services import CONTACT_FIELDS, PATIENT_FIELDS, registration_submit

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class PatientSignupForm(forms.Form):
    """Extra fields on allauth's signup form. allauth calls signup() after creating the user."""

    first_name = forms.CharField(max_length=100, label="Legal first name", widget=forms.TextInput(attrs={"autocomplete": "given-name"}))
    last_name = forms.CharField(max_length=100, label="Legal last name", widget=forms.TextInput(attrs={"autocomplete": "family-name"}))
    date_of_birth = validation.BirthDateField(widget=DATE)
    phone = forms.CharField(
        label="Mobile phone", max_length=32, widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
        help_text="For visit reminders by text. You can turn texts off later.",
    )
    accept_terms = forms.BooleanField(
        label="I accept the terms of use and the privacy notice",
        error_messages={"required": "You must accept the terms of use and the privacy notice to register."},
    )

    field_order = ["first_name", "last_name", "date_of_birth", "email", "phone", "password1", "password2", "accept_terms"]

    def clean_phone(self):
        try:
            return normalize_phone(self.cleaned_data["phone"])
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages)

    def signup(self, request, user):
        data = self.cleaned_data
        user.full_name = f"{data['first_name']} {data['last_name']}"
        user.save(update_fields=["full_name"])
        registration_submit(
            user=user,
            first_name=data["first_name"],
            last_name=data["last_name"],
            date_of_birth=data["date_of_birth"],
            phone=data["phone"],
            terms_version=settings.TERMS_VERSION,
        )


LABELS = {
    "address_line1": "Address line 1",
    "address_line2": "Address line 2",
    "timezone": "Time zone",
    "sms_opt_in": "Send me text messages",
    "email_opt_in": "Send me emails",
}
HELP = {
    "phone": "For example +1 212 555 0123.",
    "emergency_contact_phone": "For example +1 212 555 0123.",
}


class _PhoneFieldsMixin:
    """Accept phones as people type them; store E.164."""

    def _normalized(self, name):
        try:
            return normalize_phone(self.cleaned_data.get(name, ""))
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages)

    def clean_phone(self):
        return self._normalized("phone")

    def clean_emergency_contact_phone(self):
        return self._normalized("emergency_contact_phone")


class PatientContactForm(_PhoneFieldsMixin, forms.ModelForm):
    """What a patient edits in the portal."""

    class Meta:
        model = Patient
        fields = CONTACT_FIELDS
        widgets = {"quiet_hours_start": TIME, "quiet_hours_end": TIME}
        labels = LABELS
        help_texts = HELP


class StaffPatientForm(_PhoneFieldsMixin, forms.ModelForm):
    """Every field staff may set. Validation proper happens in the service; the date of birth
    is checked as at signup and in the API (apps/core/validation.py)."""

    class Meta:
        model = Patient
        fields = PATIENT_FIELDS
        widgets = {"date_of_birth": DATE, "quiet_hours_start": TIME, "quiet_hours_end": TIME}
        labels = LABELS
        help_texts = HELP
        field_classes = {"date_of_birth": validation.BirthDateField}


class PatientSearchForm(forms.Form):
    q = forms.CharField(label="Name, MRN or phone", required=False, max_length=200)
    date_of_birth = validation.DateField(label="Date of birth", required=False, widget=DATE)


class DuplicateResolveForm(forms.Form):
    resolution = forms.ChoiceField(choices=[])
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=1000)

    def __init__(self, *args, review, **kwargs):
        super().__init__(*args, **kwargs)
        S = DuplicateReview.Status
        if review.registration_id:
            choices = [(S.LINKED, "Same person: link the login to the existing record"), (S.CREATED_NEW, "Different person: create a new record")]
        else:
            choices = [(S.MERGED, "Same person: merge the newer record into the existing one"), (S.DISMISSED, "Different people: keep both")]
        self.fields["resolution"].choices = choices
        # The records of the review's group it may be compared with (its strongest match first):
        # a choice only when the group holds more than that one.
        self.targets = [] if review.status != S.OPEN else [review.existing] + [
            m.patient for m in duplicate_group_members(review.group_id)
            if m.patient_id not in (review.existing_id, review.other_id) and m.patient.merged_into_id is None
        ]
        if len(self.targets) > 1:
            self.fields["target"] = forms.ChoiceField(
                label="Existing record", required=False, initial=str(review.existing_id),
                choices=[(str(p.pk), f"{p.last_name}, {p.first_name} · MRN {p.mrn} · born {p.date_of_birth:%Y-%m-%d}") for p in self.targets],
                help_text="The record this one is the same person as, or not.",
            )
            self.order_fields(["target", "resolution", "note"])
