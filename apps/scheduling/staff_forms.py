"""Forms of the staff scheduling pages. They parse input only (dates and times with the rules
the API shares, apps/core/validation.py); every rule lives in the services, whose errors the
views put back on these forms (core.pages.form_error)."""
import datetime
import uuid

from django import forms
from django.conf import settings
from django.utils import timezone

from apps.core import validation
from apps.scheduling.models import Location, Provider, Severity, VisitType
from apps.scheduling.services.requests import MAX_OFFERED_SLOTS

SEVERITY_CHOICES = [(s.value, s.label) for s in (Severity.RED, Severity.ORANGE, Severity.YELLOW, Severity.GREEN)]


class UUIDChoiceField(forms.MultipleChoiceField):
    """Checkboxes drawn from the suggestions, accepting any well-formed id: a slot taken since
    the page was drawn must reach the service and answer 409 (slot_unavailable), not 'not a
    valid choice'."""

    widget = forms.CheckboxSelectMultiple

    def valid_value(self, value):
        try:
            uuid.UUID(str(value))
        except ValueError:
            return False
        return True


def _visit_types():
    return VisitType.objects.filter(is_active=True).order_by("name")


def _providers():
    return Provider.objects.filter(is_active=True).select_related("user").order_by("user__full_name", "user__email")


class TriageForm(forms.Form):
    severity = forms.ChoiceField(choices=SEVERITY_CHOICES, label="Severity",
                                 help_text="Confirm the computed severity or choose another one (a reason is then required).")
    reason = forms.CharField(label="Reason for changing the severity", required=False,
                             widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)
    visit_type = forms.ModelChoiceField(queryset=VisitType.objects.none(), label="Visit type")

    def __init__(self, *args, visit_request, can_override, **kwargs):
        kwargs.setdefault("initial", {"severity": visit_request.severity, "visit_type": visit_request.visit_type_id})
        super().__init__(*args, **kwargs)
        self.visit_request = visit_request
        self.fields["visit_type"].queryset = _visit_types()
        if visit_request.severity == Severity.RED:  # nothing will be booked for it
            self.fields["visit_type"].required = False
        if not can_override:
            self.fields["severity"].disabled = True
            self.fields["severity"].help_text = "Your role confirms the computed severity; a nurse or provider can change it."
            del self.fields["reason"]

    def clean(self):
        data = super().clean()
        if "reason" in self.fields and data.get("severity") and data["severity"] != self.visit_request.severity:
            if not (data.get("reason") or "").strip():
                self.add_error("reason", "Give the reason for changing the severity.")
        return data


class OverrideSeverityForm(forms.Form):
    severity = forms.ChoiceField(choices=SEVERITY_CHOICES, label="New severity")
    reason = forms.CharField(label="Reason", widget=forms.Textarea(attrs={"rows": 2}), max_length=2000,
                             help_text="Kept with the request.")

    def __init__(self, *args, visit_request, **kwargs):
        kwargs.setdefault("initial", {"severity": visit_request.severity})
        super().__init__(*args, **kwargs)


class ReviewForm(forms.Form):
    severity = forms.ChoiceField(choices=SEVERITY_CHOICES, label="Severity after review")
    note = forms.CharField(label="Review note", widget=forms.Textarea(attrs={"rows": 3}), max_length=4000,
                           help_text="Also the reason when you change the severity.")

    def __init__(self, *args, visit_request, **kwargs):
        kwargs.setdefault("initial", {"severity": visit_request.severity})
        super().__init__(*args, **kwargs)


def _default_deadline():
    return timezone.localtime() + datetime.timedelta(hours=settings.SCHEDULING_OFFER_HOLD_HOURS)


class OfferForm(forms.Form):
    slots = UUIDChoiceField(label=f"Times to offer (1 to {MAX_OFFERED_SLOTS})",
                            error_messages={"required": f"Tick between 1 and {MAX_OFFERED_SLOTS} times."})
    hold_until = validation.DateTimeField(
        label="Hold the times until", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text="Clinic time. A time is never held past its own start.",
    )

    def __init__(self, *args, suggestions, tz_name, **kwargs):
        kwargs.setdefault("initial", {"hold_until": _default_deadline().strftime("%Y-%m-%dT%H:%M")})
        super().__init__(*args, **kwargs)
        self.suggestions = suggestions
        self.fields["slots"].choices = [(str(s.pk), s) for s in suggestions]

    def clean_slots(self):
        slots = self.cleaned_data["slots"]
        if not 1 <= len(slots) <= MAX_OFFERED_SLOTS:
            raise forms.ValidationError(f"Tick between 1 and {MAX_OFFERED_SLOTS} times.")
        return [uuid.UUID(s) for s in slots]

    def clean_hold_until(self):
        value = self.cleaned_data["hold_until"]
        now = timezone.now()
        if value <= now + datetime.timedelta(minutes=5):
            raise forms.ValidationError("The deadline must be at least a few minutes from now.")
        if value > now + datetime.timedelta(days=14):
            raise forms.ValidationError("Hold times for at most 14 days.")
        return value

    def hold_hours(self):
        return (self.cleaned_data["hold_until"] - timezone.now()).total_seconds() / 3600


class AssignForm(forms.Form):
    provider = forms.ModelChoiceField(queryset=Provider.objects.none(), label="Provider")
    visit_type = forms.ModelChoiceField(queryset=VisitType.objects.none(), label="Visit type")

    def __init__(self, *args, visit_request, **kwargs):
        kwargs.setdefault("initial", {"visit_type": visit_request.visit_type_id})
        super().__init__(*args, **kwargs)
        self.fields["provider"].queryset = _providers().prefetch_related("visit_types")
        self.fields["provider"].label_from_instance = (
            lambda p: f"{p} — {', '.join(t.name for t in p.visit_types.all() if t.is_active) or 'no visit types'}")
        self.fields["visit_type"].queryset = _visit_types()


class ReasonForm(forms.Form):
    """Cancel a request or a visit."""

    reason = forms.CharField(label="Reason", widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class RescheduleForm(forms.Form):
    slot = forms.ChoiceField(label="New time", widget=forms.RadioSelect)
    reason = forms.CharField(label="Reason", required=False, max_length=300)

    def __init__(self, *args, options, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slot"].choices = [(str(s.pk), s) for s in options]
        self.fields["slot"].valid_value = lambda value: UUIDChoiceField.valid_value(None, value)

    def clean_slot(self):
        return uuid.UUID(self.cleaned_data["slot"])


class SlotActionForm(forms.Form):
    reason = forms.CharField(label="Reason", required=False, max_length=300)


class DayScheduleForm(forms.Form):
    date = validation.DateField(label="Date", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    provider = forms.ModelChoiceField(queryset=Provider.objects.none(), label="Provider", required=False, empty_label=None)
    location = forms.ModelChoiceField(queryset=Location.objects.none(), label="Location", required=False,
                                      empty_label="All locations")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].queryset = _providers()
        self.fields["location"].queryset = Location.objects.filter(is_active=True)


class FrontDeskForm(forms.Form):
    location = forms.ModelChoiceField(queryset=Location.objects.none(), label="Location", required=False,
                                      empty_label="All locations")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = Location.objects.filter(is_active=True)
