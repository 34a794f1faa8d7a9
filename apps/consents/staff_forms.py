"""Forms of the staff consents pages (/staff/surgery/). They parse input only (text, dates and
times with the rules the API shares, apps/core/validation.py); every rule of the chronology
lives in the services, whose refusals the views put back on these forms (core.pages)."""
import datetime
import uuid

from django import forms
from django.utils import timezone

from apps.consents.models import (
    AnaesthesiaType, CaseItem, ConsentForm, OperatingRoom, ProcedureLine, ProcedurePlan, SurgicalCase,
)
from apps.consents.selectors import published_templates
from apps.core import validation
from apps.scheduling.models import Provider

LINE_ROWS = 6
SIDES = ProcedureLine.Side.choices


class _Form(forms.Form):
    """Text fields refuse what the database cannot store (NUL...), with the shared words."""

    def clean(self):
        data = super().clean()
        for name, value in list(data.items()):
            if isinstance(value, str) and value:
                try:
                    validation.check_text(value, max_length=getattr(self.fields[name], "max_length", None))
                except forms.ValidationError as exc:
                    self.add_error(name, exc)
        return data


def _surgeons():
    return Provider.objects.filter(is_active=True).select_related("user").order_by("user__full_name", "user__email")


class IdChoiceField(forms.ChoiceField):
    """A choice of rows by id, drawn for the page but accepting any well-formed id, so a row
    gone since the page was drawn reaches the service (and its clear refusal)."""

    def valid_value(self, value):
        try:
            uuid.UUID(str(value))
        except ValueError:
            return False
        return True


class PlanFilterForm(_Form):
    status = forms.ChoiceField(label="Status", required=False, choices=[("", "Any status"), *ProcedurePlan.Status.choices])
    mine = forms.BooleanField(label="My patients only (as surgeon)", required=False)


class PlanForm(_Form):
    """A plan's surgeon, notes and procedure lines (LINE_ROWS rows; empty rows are ignored)."""

    surgeon = forms.ModelChoiceField(queryset=Provider.objects.none(), label="Surgeon", empty_label=None)
    notes = forms.CharField(label="Notes", required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))
    planned_date = validation.DateField(label="Planned surgery date (optional)", required=False,
                                        widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, plan=None, **kwargs):
        initial = kwargs.setdefault("initial", {})
        if plan is not None:
            initial.setdefault("surgeon", plan.surgeon_id)
            initial.setdefault("notes", plan.notes)
            initial.setdefault("planned_date", plan.planned_date)
            for number, line in enumerate(plan.lines.all(), start=1):
                for name in ("code", "description", "site", "side", "estimated_fee"):
                    initial.setdefault(f"{name}_{number}", getattr(line, name))
        super().__init__(*args, **kwargs)
        self.fields["surgeon"].queryset = _surgeons()
        for number in range(1, LINE_ROWS + 1):
            self.fields[f"code_{number}"] = forms.CharField(label=f"Line {number}: CPT/HCPCS code", required=False,
                                                            max_length=5)
            self.fields[f"description_{number}"] = forms.CharField(label=f"Line {number}: description", required=False,
                                                                   max_length=300)
            self.fields[f"site_{number}"] = forms.CharField(label=f"Line {number}: site", required=False, max_length=120)
            self.fields[f"side_{number}"] = forms.ChoiceField(label=f"Line {number}: side", required=False, choices=SIDES)
            self.fields[f"estimated_fee_{number}"] = forms.DecimalField(
                label=f"Line {number}: estimated fee ($)", required=False, max_digits=10, decimal_places=2, min_value=0)

    def lines(self):
        """The filled rows, as the services take them (clean_lines checks each)."""
        rows = []
        for number in range(1, LINE_ROWS + 1):
            values = {name: self.cleaned_data.get(f"{name}_{number}") for name in
                      ("code", "description", "site", "side", "estimated_fee")}
            if not any(values[name] not in (None, "") for name in ("code", "description", "site", "estimated_fee")):
                continue
            values["side"] = values["side"] or ProcedureLine.Side.NOT_APPLICABLE
            values["estimated_fee"] = "" if values["estimated_fee"] is None else str(values["estimated_fee"])
            rows.append(values)
        return rows

    def head_fields(self):
        """The fields above the lines (consultation, surgeon, notes), for the page."""
        return [self[name] for name in self.fields if not name.rsplit("_", 1)[-1].isdigit()]

    def line_rows(self):
        """The line fields grouped per row, for the page."""
        return [[self[f"{name}_{number}"] for name in ("code", "description", "site", "side", "estimated_fee")]
                for number in range(1, LINE_ROWS + 1)]


class PlanCreateForm(PlanForm):
    consultation = IdChoiceField(label="Completed consultation")

    def __init__(self, *args, consultations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["consultation"].choices = [
            (str(v.pk), f"{v.visit_type.name}, {timezone.localtime(v.start):%Y-%m-%d %H:%M} with {v.provider}")
            for v in consultations
        ]
        self.order_fields(["consultation", "surgeon"])


class ReasonForm(_Form):
    reason = forms.CharField(label="Reason", max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class PlannedDateForm(_Form):
    planned_date = validation.DateField(label="Planned surgery date", required=False,
                                        help_text="Leave empty to clear it. An unsigned consent is reminded before it.",
                                        widget=forms.DateInput(attrs={"type": "date"}))


class NoteForm(_Form):
    note = forms.CharField(label="Note", required=False, max_length=300)


class ConsentSendForm(_Form):
    template = IdChoiceField(label="Consent form")
    plan = IdChoiceField(label="Procedure plan (for a procedure consent)", required=False)

    def __init__(self, *args, plans=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].choices = [
            (str(t.pk), f"{t.title} (v{t.version}{', ' + t.jurisdiction if t.jurisdiction else ''})")
            for t in published_templates()
        ]
        self.fields["plan"].choices = [("", "None (not a procedure consent)")] + [
            (str(p.pk), f"Plan v{p.version} ({p.get_status_display()}), {p.surgeon}") for p in plans
        ]


class ConsentFilterForm(_Form):
    status = forms.ChoiceField(label="Status", required=False, choices=[("", "Any status"), *ConsentForm.Status.choices])


class PdfUploadForm(forms.Form):
    pdf = forms.FileField(label="A copy of the signed PDF to check", required=True,
                          widget=forms.ClearableFileInput(attrs={"accept": "application/pdf"}))


class CaseCreateForm(_Form):
    anaesthesia_type = forms.ChoiceField(label="Anaesthesia", choices=AnaesthesiaType.choices)


class CaseFilterForm(_Form):
    status = forms.ChoiceField(label="Status", required=False, choices=[("", "Any status"), *SurgicalCase.Status.choices])


class BookingForm(_Form):
    room = forms.ModelChoiceField(queryset=OperatingRoom.objects.none(), label="Operating room", empty_label=None)
    start = validation.DateTimeField(label="Start", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    end = validation.DateTimeField(label="End", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["room"].queryset = OperatingRoom.objects.filter(is_active=True).order_by("name")


class CaseItemForm(_Form):
    kind = forms.ChoiceField(label="Kind", choices=CaseItem.Kind.choices)
    name = forms.CharField(label="Item", max_length=200)
    manufacturer = forms.CharField(label="Manufacturer", max_length=200)
    lot_number = forms.CharField(label="Lot or batch number", max_length=80)
    serial_number = forms.CharField(label="Serial number (implants)", max_length=80, required=False)
    quantity = forms.IntegerField(label="Quantity", min_value=1, max_value=10_000, initial=1)
    billable = forms.BooleanField(label="Billable", required=False, initial=True)
    billing_code = forms.CharField(label="HCPCS code", max_length=5, required=False)


class TheatreFilterForm(_Form):
    date = validation.DateField(label="Date", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    room = forms.ModelChoiceField(queryset=OperatingRoom.objects.none(), label="Room", required=False,
                                  empty_label="All rooms")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["room"].queryset = OperatingRoom.objects.filter(is_active=True).order_by("name")

    def day(self):
        return (self.cleaned_data.get("date") if self.is_bound and self.is_valid() else None) or timezone.localdate()

    def span(self):
        day = self.day()
        zone = timezone.get_current_timezone()
        start = datetime.datetime.combine(day, datetime.time.min, tzinfo=zone)
        return start, datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone)


class TraceForm(_Form):
    lot = forms.CharField(label="Lot or batch number", max_length=80, required=False)
