"""Forms of the patient portal's schedule pages. They parse input only, with the rules the API's
serializers use for the same input (apps/core/validation.py: supported years, preferred dates
and the day to book from today to the booking horizon); the rules of triage, holds and
windows live in apps/scheduling/services."""
import uuid

from django import forms
from django.conf import settings

from apps.core import validation
from apps.scheduling import selectors
from apps.scheduling.models import Location, Mode, Provider, TriageQuestion, VisitType

YES_NO = [("yes", "Yes"), ("no", "No")]

# The checklist. Each value is sent to triage as a symptom, so a label that contains a triage
# keyword (fever, vomiting, getting worse ...) is matched by the same rules as free text.
SYMPTOM_CHOICES = [
    ("Fever", "Fever or chills"),
    ("Cough", "Cough"),
    ("Sore throat", "Sore throat"),
    ("Runny or stuffy nose", "Runny or stuffy nose"),
    ("Earache", "Ear pain"),
    ("Headache", "Headache"),
    ("Vomiting", "Vomiting"),
    ("Diarrhea", "Diarrhea"),
    ("Stomach pain", "Stomach pain"),
    ("Rash", "Rash or skin problem"),
    ("Back or joint pain", "Back or joint pain"),
    ("Dizziness", "Dizziness"),
    ("Urinary symptoms", "Pain or burning when urinating"),
    ("Symptoms getting worse", "My symptoms are getting worse"),
]

# The yes/no questions come from the TriageQuestion rows clinic admins edit (the defaults:
# migration 0007); each answer is sent to triage under the question's key. Temperature and pain
# are this form's own numeric fields, sent as the built-in keys temperature_c and pain_scale
# (models.BUILTIN_ANSWER_KEYS).
PAIN_CHOICES = [("", "No answer")] + [(str(n), f"{n}" + {0: " (no pain)", 10: " (worst possible)"}.get(n, "")) for n in range(11)]

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _yes_no(label, required):
    return forms.ChoiceField(label=label, choices=YES_NO, widget=forms.RadioSelect, required=required,
                             error_messages={"required": "Please answer yes or no."})


class VisitRequestForm(forms.Form):
    """A visit request. `walk_in=True`: "I need to be seen today" (location required, no
    preferred dates or mode); otherwise a future visit."""

    reason = forms.CharField(label="What would you like to be seen for?", max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 3}))
    symptoms = forms.MultipleChoiceField(label="Tick all that apply", choices=SYMPTOM_CHOICES,
                                         widget=forms.CheckboxSelectMultiple, required=False)
    other_symptoms = forms.CharField(label="Other symptoms", required=False, max_length=1000,
                                     widget=forms.Textarea(attrs={"rows": 2}),
                                     help_text="One per line or separated by commas.")
    temperature_f = forms.DecimalField(label="Highest temperature (°F), if you measured it", required=False,
                                       min_value=90, max_value=110, decimal_places=1,
                                       widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}))
    pain_scale = forms.TypedChoiceField(label="Pain right now, 0 to 10", choices=PAIN_CHOICES, coerce=int,
                                        required=False, empty_value=None)
    preferred_date_1 = validation.DateField(label="Preferred date", required=False, widget=DATE_INPUT)
    preferred_date_2 = validation.DateField(label="Second choice", required=False, widget=DATE_INPUT)
    preferred_date_3 = validation.DateField(label="Third choice", required=False, widget=DATE_INPUT)
    preferred_mode = forms.ChoiceField(label="How would you like to be seen?", required=False, widget=forms.RadioSelect,
                                       choices=[("", "No preference"), *Mode.choices])
    location = forms.ModelChoiceField(label="Location", queryset=Location.objects.none(), required=False,
                                      empty_label="Any location")

    def __init__(self, *args, walk_in=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.walk_in = walk_in
        # One query; emergency questions first (required), then the others (optional).
        questions = sorted(TriageQuestion.objects.filter(is_active=True, kind=TriageQuestion.Kind.YES_NO),
                           key=lambda q: not q.is_emergency)
        self.question_keys = [q.key for q in questions]
        self.emergency_keys = [q.key for q in questions if q.is_emergency]
        for q in questions:
            self.fields[f"q_{q.key}"] = _yes_no(q.text, required=q.is_emergency)
            self.fields[f"q_{q.key}"].help_text = q.help_text
        self.fields["location"].queryset = Location.objects.filter(is_active=True)
        if walk_in:
            for name in ("preferred_date_1", "preferred_date_2", "preferred_date_3", "preferred_mode"):
                del self.fields[name]
            location = self.fields["location"]
            location.required, location.empty_label, location.label = True, None, "Where will you come in?"
            if location.queryset.count() == 1:
                location.initial = location.queryset.first()
        else:
            self.fields["location"].label = "Preferred location (for an in-person visit)"

    emergency_fields = property(lambda self: [self[f"q_{k}"] for k in self.emergency_keys])
    other_question_fields = property(lambda self: [self[f"q_{k}"] for k in self.question_keys if k not in self.emergency_keys])
    date_fields = property(lambda self: [self[n] for n in ("preferred_date_1", "preferred_date_2", "preferred_date_3") if n in self.fields])

    def clean(self):
        data = super().clean()
        for name in ("preferred_date_1", "preferred_date_2", "preferred_date_3"):
            day = data.get(name)
            if day:
                try:
                    validation.check_upcoming_date(day, days=settings.SCHEDULING_HORIZON_DAYS)
                except forms.ValidationError as exc:
                    self.add_error(name, exc)
        return data

    def service_kwargs(self):
        """cleaned_data as visit_request_create's arguments."""
        data = self.cleaned_data
        symptoms = list(data["symptoms"])
        for part in (data.get("other_symptoms") or "").replace("\r", "\n").replace(",", "\n").split("\n"):
            if part.strip() and part.strip() not in symptoms:
                symptoms.append(part.strip())
        answers = {}
        for key in self.question_keys:
            if data.get(f"q_{key}"):
                answers[key] = data[f"q_{key}"]
        if data.get("temperature_f") is not None:
            answers["temperature_c"] = round(float(data["temperature_f"] - 32) * 5 / 9, 1)
            if answers["temperature_c"] >= 38.0 and "fever" not in answers:
                answers["fever"] = "yes"
        if data.get("pain_scale") is not None:
            answers["pain_scale"] = data["pain_scale"]
        kwargs = {"reason": data["reason"].strip(), "symptoms": symptoms, "answers": answers, "location": data.get("location")}
        if not self.walk_in:
            dates = [data.get(n) for n in ("preferred_date_1", "preferred_date_2", "preferred_date_3")]
            kwargs["preferred_dates"] = sorted({d for d in dates if d})
            kwargs["preferred_mode"] = data.get("preferred_mode") or ""
        return kwargs


class DeclineOfferForm(forms.Form):
    reason = forms.CharField(label="Why don't these times work? (optional)", required=False, max_length=500,
                             widget=forms.Textarea(attrs={"rows": 2}))


class AcceptOfferForm(forms.Form):
    slot = forms.TypedChoiceField(label="Choose a time", widget=forms.RadioSelect, coerce=uuid.UUID,
                             error_messages={"required": "Choose one of the times."})

    def __init__(self, *args, slots=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slot"].choices = [(str(s.pk), str(s.pk)) for s in slots]


class SlotSearchForm(forms.Form):
    """Direct booking and rescheduling: which day (and visit type, provider) to list."""

    visit_type = forms.ModelChoiceField(label="Type of visit", queryset=VisitType.objects.none(), empty_label=None)
    provider = forms.ModelChoiceField(label="Provider", queryset=Provider.objects.none(), required=False,
                                      empty_label="Any provider")
    day = validation.DateField(label="Day", widget=DATE_INPUT)

    def __init__(self, *args, visit_types=None, fixed_visit_type=None, **kwargs):
        super().__init__(*args, **kwargs)
        if fixed_visit_type is not None:
            del self.fields["visit_type"]
            self.fields["provider"].queryset = selectors.providers_offering([fixed_visit_type])
        else:
            self.fields["visit_type"].queryset = visit_types
            self.fields["visit_type"].label_from_instance = lambda t: f"{t.name} · {t.get_mode_display()}"
            self.fields["provider"].queryset = selectors.providers_offering(visit_types)
        self.fields["provider"].label_from_instance = lambda p: f"{p} · {p.specialty}" if p.specialty else str(p)

    def clean_day(self):
        return validation.check_upcoming_date(self.cleaned_data["day"], days=settings.SCHEDULING_HORIZON_DAYS, noun="day")


class SlotChoiceForm(forms.Form):
    """The slot a patient picked from a list (hold or reschedule)."""

    slot = forms.UUIDField(widget=forms.HiddenInput)
    visit_type = forms.UUIDField(required=False, widget=forms.HiddenInput)
    request = forms.UUIDField(required=False, widget=forms.HiddenInput)


class BookingConfirmForm(forms.Form):
    """The idempotency key is generated into the page: submitting twice (double click,
    reload, back and submit) sends the same key, and booking_confirm returns the same visit."""

    idempotency_key = forms.CharField(max_length=100, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("idempotency_key", f"portal-{uuid.uuid4()}")
        super().__init__(*args, **kwargs)


class CancelRequestForm(forms.Form):
    reason = forms.CharField(label="Reason", required=False, max_length=500,
                             widget=forms.Textarea(attrs={"rows": 2}))


class CancelVisitForm(forms.Form):
    reason = forms.CharField(label="Reason (optional)", required=False, max_length=500,
                             widget=forms.Textarea(attrs={"rows": 2}))
