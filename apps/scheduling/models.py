"""Scheduling data: who sees patients (Provider), where (Location), what kind of visit
(VisitType), when they are available (AvailabilityWindow, AvailabilityException), the
materialised slots (VisitSlot), what patients ask for (VisitRequest, with their answers to the
TriageQuestion rows, triaged by TriageRule) and what gets booked (Visit). Every status has a
TRANSITIONS table and an event model (a subclass of core's TransitionEvent): every transition
goes through apps.core.transitions and writes an event row. Only apps/scheduling/services
changes these rows."""
import datetime
import uuid
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.core.timezones import TIMEZONE_CHOICES
from apps.core.transitions import TransitionEvent
from apps.scheduling.querysets import VisitQuerySet, VisitRequestQuerySet, VisitSlotQuerySet


class Location(models.Model):
    """A clinic site. Its IANA timezone is how visit times are shown and slots generated."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200, unique=True)
    timezone = models.CharField(max_length=64, choices=TIMEZONE_CHOICES)
    address = models.TextField(blank=True)
    phone = models.CharField(max_length=20, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def tzinfo(self):
        return zoneinfo.ZoneInfo(self.timezone)


class Mode(models.TextChoices):
    IN_PERSON = "IN_PERSON", "In person"
    VIRTUAL = "VIRTUAL", "Virtual"


class Severity(models.TextChoices):
    GREEN = "GREEN", "Green (routine)"
    YELLOW = "YELLOW", "Yellow (expedited)"
    ORANGE = "ORANGE", "Orange (provider review)"
    RED = "RED", "Red (emergency)"


# Lower is more urgent; queues sort on it.
SEVERITY_RANK = {Severity.RED: 0, Severity.ORANGE: 1, Severity.YELLOW: 2, Severity.GREEN: 3}


class VisitType(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=120, unique=True)
    duration_minutes = models.PositiveSmallIntegerField(default=30)
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.IN_PERSON)
    self_bookable = models.BooleanField(default=False, help_text="Patients may book it themselves (GREEN only).")
    default_billing_codes = models.JSONField(default=list, blank=True, help_text='CPT/HCPCS codes, e.g. ["99213"].')
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.CheckConstraint(condition=Q(duration_minutes__gt=0), name="visit_type_duration_positive")]

    def __str__(self):
        return f"{self.name} ({self.get_mode_display()}, {self.duration_minutes} min)"


class Provider(models.Model):
    """A clinician: a staff user with a scheduling profile."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="provider_profile")
    specialty = models.CharField(max_length=120, blank=True)
    credentials = models.CharField(max_length=120, blank=True, help_text="e.g. MD, DO, NP, PA-C")
    licensed_states = models.JSONField(default=list, blank=True, help_text='Two-letter codes, e.g. ["NY", "NJ"].')
    visit_types = models.ManyToManyField(VisitType, blank=True, related_name="providers")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["user__full_name", "user__email"]

    def __str__(self):
        name = self.user.get_full_name()
        return f"{name}, {self.credentials}" if self.credentials else name

    def clean(self):
        if self.user_id and not self.user.is_staff:
            raise ValidationError({"user": "A provider must be a staff user."})

    def is_licensed_in(self, state):
        """Unknown state or no list kept: not refused (the front desk checks by phone)."""
        if not state or not self.licensed_states:
            return True
        return state.upper() in {s.upper() for s in self.licensed_states}


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class AvailabilityWindow(models.Model):
    """A weekly window in the location's local (wall-clock) time, cut into slots of
    `slot_minutes`, valid from `effective_from` to `effective_to` (inclusive, open-ended
    when empty)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="windows")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start_time = models.TimeField(help_text="Local time at the location.")
    end_time = models.TimeField(help_text="Local time at the location.")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="windows")
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.IN_PERSON)
    slot_minutes = models.PositiveSmallIntegerField(default=30)
    effective_from = models.DateField(default=datetime.date.today)
    effective_to = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["provider", "weekday", "start_time"]
        constraints = [
            models.CheckConstraint(condition=Q(end_time__gt=models.F("start_time")), name="window_end_after_start"),
            models.CheckConstraint(condition=Q(slot_minutes__gte=5), name="window_slot_minutes_min"),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gte=models.F("effective_from")),
                name="window_effective_range",
            ),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="window_weekday_range"),
        ]

    def __str__(self):
        return f"{self.provider} {self.get_weekday_display()} {self.start_time:%H:%M}-{self.end_time:%H:%M} @ {self.location}"

    def clean(self):
        if self.start_time and self.end_time and self.end_time <= self.start_time:
            raise ValidationError({"end_time": "The window must end after it starts."})
        if self.provider_id is None or self.start_time is None or self.end_time is None:
            return
        # Overlapping windows would cut overlapping slots (the unique constraint only catches
        # equal start times), so refuse them here.
        others = AvailabilityWindow.objects.filter(
            provider_id=self.provider_id, weekday=self.weekday, start_time__lt=self.end_time, end_time__gt=self.start_time
        ).exclude(pk=self.pk)
        far = datetime.date.max
        for other in others:
            if (other.effective_to or far) >= self.effective_from and (self.effective_to or far) >= other.effective_from:
                raise ValidationError("This window overlaps another window of the same provider.")

    def applies_on(self, day):
        return day.weekday() == self.weekday and self.effective_from <= day and (self.effective_to is None or day <= self.effective_to)


class AvailabilityException(models.Model):
    """Time off or a blocked period: no slots are generated inside it, and FREE slots already
    generated inside it are BLOCKED."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="exceptions")
    start = models.DateTimeField()
    end = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["provider", "start"]
        constraints = [models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="exception_end_after_start")]

    def __str__(self):
        return f"{self.provider} off {self.start:%Y-%m-%d %H:%M} - {self.end:%Y-%m-%d %H:%M}"


# --- slots ----------------------------------------------------------------------------------

class VisitSlot(models.Model):
    """A bookable period of one provider, stored in UTC. Booked at most once: unique
    (provider, start) for slots and a partial unique index on active visits per slot."""

    class Status(models.TextChoices):
        FREE = "FREE", "Free"
        HELD = "HELD", "Held"
        BOOKED = "BOOKED", "Booked"
        BLOCKED = "BLOCKED", "Blocked"

    class HoldKind(models.TextChoices):
        OFFER = "OFFER", "Offered by staff"
        WAITLIST = "WAITLIST", "Offered from the waitlist"
        DIRECT = "DIRECT", "Held while a patient confirms"

    TRANSITIONS = {
        # FREE -> BOOKED: a booking made in one step under the slot's lock (clinic, API,
        # reschedule) needs no hold in between (services._common.slot_book_now).
        Status.FREE: {Status.HELD, Status.BOOKED, Status.BLOCKED},
        Status.HELD: {Status.BOOKED, Status.FREE, Status.BLOCKED},
        # A cancelled or rescheduled visit gives its slot back (and the waitlist gets it).
        Status.BOOKED: {Status.FREE},
        Status.BLOCKED: {Status.FREE},
    }
    EVENT_MODEL = "scheduling.SlotEvent"
    # Slots carry no PHI and move by the thousand (generation, holds): their event rows are
    # their history, with no audit entry per move.
    AUDIT_TRANSITIONS = False

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="slots")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="slots")
    start = models.DateTimeField()
    end = models.DateTimeField()
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.IN_PERSON)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.FREE)
    hold_kind = models.CharField(max_length=8, choices=HoldKind.choices, blank=True)
    held_for_request = models.ForeignKey("VisitRequest", null=True, blank=True, on_delete=models.PROTECT, related_name="held_slots")
    held_for_patient = models.ForeignKey("patients.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    held_until = models.DateTimeField(null=True, blank=True)
    hold_token = models.UUIDField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = VisitSlotQuerySet.as_manager()

    class Meta:
        ordering = ["start", "provider"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "start"], name="slot_provider_start_uniq"),
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="slot_end_after_start"),
            # A hold always has a deadline and an owner: a request (offers) or a token (direct
            # booking); nothing else carries hold fields.
            models.CheckConstraint(
                condition=(
                    Q(status="HELD", held_until__isnull=False, hold_kind__in=["OFFER", "WAITLIST"],
                      held_for_request__isnull=False, hold_token__isnull=True)
                    | Q(status="HELD", held_until__isnull=False, hold_kind="DIRECT",
                        held_for_patient__isnull=False, hold_token__isnull=False, held_for_request__isnull=True)
                    | (~Q(status="HELD") & Q(hold_kind="", held_until__isnull=True, held_for_request__isnull=True,
                                             held_for_patient__isnull=True, hold_token__isnull=True))
                ),
                name="slot_hold_fields_consistent",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "start"], name="slot_status_start_idx"),
            models.Index(fields=["status", "held_until"], name="slot_hold_deadline_idx"),
            # The free-slot search (selectors.slot_search): partial indexes over FREE slots only,
            # in the search's own order, so a page is read in order and LIMIT stops early.
            models.Index(fields=["provider", "start"], condition=Q(status="FREE"), name="slot_free_provider_start_idx"),
            models.Index(fields=["start", "provider"], condition=Q(status="FREE"), name="slot_free_start_provider_idx"),
        ]

    def __str__(self):
        return f"{self.provider} {self.start:%Y-%m-%d %H:%M} UTC ({self.status})"

    @property
    def duration(self):
        return self.end - self.start

    def local_start(self):
        return self.start.astimezone(self.location.tzinfo)


class SlotEvent(TransitionEvent):
    """A slot's moves (held, booked, freed, blocked), with the request an offer held it for."""

    SUBJECT_FIELD = "slot"

    id = models.BigAutoField(primary_key=True)
    slot = models.ForeignKey(VisitSlot, on_delete=models.CASCADE, related_name="events")
    request = models.ForeignKey("VisitRequest", null=True, blank=True, on_delete=models.SET_NULL, related_name="slot_events")
    # Set only on the event of slot generation retiring a FREE slot by blocking it
    # (services/slots.py): a BLOCKED slot whose last event carries it is generation's to bring
    # back. The reason text is not the marker: staff or an API key may block with the same words.
    retirement = models.BooleanField(default=False, editable=False)

    class Meta(TransitionEvent.Meta):
        pass

    def __str__(self):
        return f"slot {self.slot_id}: {self.from_status or '-'} -> {self.to_status}"


# --- triage ---------------------------------------------------------------------------------

# Answer keys the portal form always sends, from its dedicated numeric fields rather than from a
# TriageQuestion: the temperature field (°F) reaches triage as temperature_c, rounded to 0.1 °C,
# and the pain field as pain_scale (0 to 10). Rules may test these keys with no question row.
BUILTIN_ANSWER_KEYS = {
    "temperature_c": "the temperature the patient measured, in °C (the form asks in °F)",
    "pain_scale": "pain right now, 0 to 10",
}


class TriageQuestion(models.Model):
    """A yes/no question of the portal's visit request form. Its key is the answer key triage
    rules test (answers[key] is "yes" or "no"). Emergency questions are asked first and must be
    answered; the others may be skipped. A question that an active rule reads cannot be
    deactivated, renamed (key) or deleted: the rule would silently stop matching."""

    class Kind(models.TextChoices):
        YES_NO = "YES_NO", "Yes / no"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    key = models.SlugField(max_length=64, unique=True, validators=[RegexValidator(
        r"^[a-z][a-z0-9_]*$", "Lower-case letters, digits and underscores, starting with a letter.")],
        help_text="The answer key triage rules test, e.g. pregnant.")
    text = models.CharField(max_length=300, help_text="The question as the patient reads it.")
    help_text = models.CharField(max_length=300, blank=True)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.YES_NO)
    is_emergency = models.BooleanField(default=False, help_text="Asked first, in the urgent block; an answer is required.")
    order = models.PositiveIntegerField(default=100, help_text="Lower first.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["order", "key"]
        constraints = [
            models.CheckConstraint(condition=Q(key__regex=r"^[a-z][a-z0-9_]*$"), name="triage_question_key_format"),
            models.CheckConstraint(condition=~Q(key__in=sorted(BUILTIN_ANSWER_KEYS)), name="triage_question_key_not_builtin"),
        ]

    def __str__(self):
        return self.key

    def clean(self):
        if self.key in BUILTIN_ANSWER_KEYS:
            raise ValidationError({"key": f"'{self.key}' is built in: the form always asks it."})
        stored = TriageQuestion.objects.filter(pk=self.pk, is_active=True).values_list("key", flat=True).first()
        if stored is None or (self.is_active and self.key == stored):
            return
        names = self.rules_reading(stored)
        if names:
            field, change = ("is_active", "deactivated") if not self.is_active else ("key", "renamed")
            raise ValidationError({field: f"This question cannot be {change}: active triage rules read its answer "
                                          f"({', '.join(names)}). Deactivate or change those rules first."})

    @staticmethod
    def rules_reading(key):
        """Names of the active rules that test the answer to `key`."""
        return list(TriageRule.objects.filter(is_active=True, answer_key__iexact=key).order_by("name").values_list("name", flat=True))


class TriageRule(models.Model):
    """One row of the triage table. A rule matches when every condition it sets holds:
    the keyword appears in a symptom or the reason (case-insensitive), the answer matches,
    the patient's age (months) is in range. A rule with no condition never matches. The
    request gets the most severe matching rule's severity (GREEN when none match); priority
    orders rules of the same severity."""

    class Operator(models.TextChoices):
        EQ = "eq", "equals"
        GTE = "gte", "at least (number)"
        LTE = "lte", "at most (number)"
        CONTAINS = "contains", "contains"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=120, unique=True)
    symptom_keyword = models.CharField(max_length=120, blank=True)
    answer_key = models.CharField(max_length=64, blank=True)
    answer_operator = models.CharField(max_length=8, choices=Operator.choices, default=Operator.EQ)
    answer_value = models.CharField(max_length=120, blank=True)
    min_age_months = models.PositiveIntegerField(null=True, blank=True)
    max_age_months = models.PositiveIntegerField(null=True, blank=True, help_text="Inclusive, e.g. 12 for infants.")
    severity = models.CharField(max_length=8, choices=Severity.choices)
    priority = models.IntegerField(default=100, help_text="Higher first among rules of the same severity.")
    is_active = models.BooleanField(default=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-priority", "name"]
        constraints = [
            models.CheckConstraint(
                condition=~(Q(symptom_keyword="") & Q(answer_key="") & Q(min_age_months__isnull=True) & Q(max_age_months__isnull=True)),
                name="triage_rule_has_condition",
            ),
        ]

    def __str__(self):
        return f"{self.name} -> {self.severity}"

    def clean(self):
        if self.answer_key and self.answer_value == "":
            raise ValidationError({"answer_value": "Give the value the answer is compared with."})
        if self.answer_operator in (self.Operator.GTE, self.Operator.LTE):
            try:
                float(self.answer_value)
            except ValueError:
                raise ValidationError({"answer_value": "A number is needed for this comparison."})
        key = self.answer_key.strip().lower()
        if key and self.is_active and key not in BUILTIN_ANSWER_KEYS \
                and not TriageQuestion.objects.filter(key=key, is_active=True).exists():
            hint = " Temperature reaches triage in °C: use temperature_c." if key == "temperature_f" else ""
            raise ValidationError({"answer_key": f"No question asks '{key}': add it under Triage questions first.{hint}"})


# --- requests -------------------------------------------------------------------------------

class VisitRequest(models.Model):
    class Type(models.TextChoices):
        WALK_IN = "WALK_IN", "Walk-in"
        SCHEDULED = "SCHEDULED", "Scheduled"

    class Status(models.TextChoices):
        NEW = "NEW", "New"
        TRIAGED = "TRIAGED", "Triaged"
        AWAITING_PATIENT_CONFIRMATION = "AWAITING_PATIENT_CONFIRMATION", "Awaiting patient confirmation"
        CONVERTED_TO_VISIT = "CONVERTED_TO_VISIT", "Converted to visit"
        CANCELLED = "CANCELLED", "Cancelled"

    TRANSITIONS = {
        Status.NEW: {Status.TRIAGED, Status.CANCELLED},
        # TRIAGED -> CONVERTED_TO_VISIT: a walk-in assigned now, or a GREEN patient's own booking.
        Status.TRIAGED: {Status.AWAITING_PATIENT_CONFIRMATION, Status.CONVERTED_TO_VISIT, Status.CANCELLED},
        Status.AWAITING_PATIENT_CONFIRMATION: {Status.CONVERTED_TO_VISIT, Status.TRIAGED},
    }
    OPEN_STATUSES = [Status.NEW, Status.TRIAGED, Status.AWAITING_PATIENT_CONFIRMATION]
    EVENT_MODEL = "scheduling.RequestEvent"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="visit_requests")
    request_type = models.CharField(max_length=10, choices=Type.choices, default=Type.SCHEDULED)
    reason = models.TextField(blank=True)
    symptoms = models.JSONField(default=list, blank=True)
    answers = models.JSONField(default=dict, blank=True)
    preferred_dates = models.JSONField(default=list, blank=True, help_text="ISO dates (location's local dates).")
    preferred_mode = models.CharField(max_length=16, choices=Mode.choices, blank=True)
    visit_type = models.ForeignKey(VisitType, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    preferred_provider = models.ForeignKey(Provider, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(Location, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    severity = models.CharField(max_length=8, choices=Severity.choices, default=Severity.GREEN)
    computed_severity = models.CharField(max_length=8, choices=Severity.choices, default=Severity.GREEN)
    matched_rules = models.JSONField(default=list, blank=True)
    severity_overridden_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    severity_overridden_at = models.DateTimeField(null=True, blank=True)
    severity_override_reason = models.TextField(blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True)

    status = models.CharField(max_length=32, choices=Status.choices, default=Status.NEW)
    triaged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    triaged_at = models.DateTimeField(null=True, blank=True)
    offer_made_at = models.DateTimeField(null=True, blank=True)
    offer_expires_at = models.DateTimeField(null=True, blank=True)
    offer_reminded_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = VisitRequestQuerySet.as_manager()

    class Meta:
        ordering = ["created_at"]
        permissions = [
            ("triage_visitrequest", "Can triage visit requests"),
            ("override_severity_visitrequest", "Can override a triage severity"),
            ("review_visitrequest", "Can review ORANGE visit requests"),
            ("offer_slots_visitrequest", "Can offer slots and assign walk-ins"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="AWAITING_PATIENT_CONFIRMATION") | Q(offer_expires_at__isnull=False),
                name="request_awaiting_has_deadline",
            ),
            models.CheckConstraint(
                condition=Q(request_type="SCHEDULED") | Q(location__isnull=False), name="request_walk_in_has_location"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "offer_expires_at"], name="request_offer_deadline_idx"),
            models.Index(fields=["request_type", "status", "created_at"], name="request_queue_idx"),
        ]

    def __str__(self):
        return f"{self.get_request_type_display()} request {self.id} ({self.severity}, {self.status})"

    @property
    def severity_rank(self):
        return SEVERITY_RANK[Severity(self.severity)]

    @property
    def is_open(self):
        return self.status in self.OPEN_STATUSES

    @property
    def needs_review(self):
        return self.severity == Severity.ORANGE and self.reviewed_at is None


class RequestEvent(TransitionEvent):
    """Status changes, severity overrides, reviews and offers of one request."""

    class Kind(models.TextChoices):
        STATUS = "status", "Status change"
        SEVERITY = "severity", "Severity override"
        REVIEW = "review", "Provider review"

    SUBJECT_FIELD = "request"

    id = models.BigAutoField(primary_key=True)
    request = models.ForeignKey(VisitRequest, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.STATUS)

    class Meta(TransitionEvent.Meta):
        pass

    def __str__(self):
        return f"request {self.request_id}: {self.kind} {self.from_status or '-'} -> {self.to_status or '-'}"


# --- visits ---------------------------------------------------------------------------------

class Visit(models.Model):
    class Status(models.TextChoices):
        PLANNED = "PLANNED", "Planned"
        CHECKED_IN = "CHECKED_IN", "Checked in"
        IN_PROGRESS = "IN_PROGRESS", "In progress"
        COMPLETED = "COMPLETED", "Completed"
        CANCELLED = "CANCELLED", "Cancelled"
        NO_SHOW = "NO_SHOW", "No-show"

    TRANSITIONS = {
        Status.PLANNED: {Status.CHECKED_IN, Status.CANCELLED, Status.NO_SHOW},
        Status.CHECKED_IN: {Status.IN_PROGRESS},
        Status.IN_PROGRESS: {Status.COMPLETED},
    }
    # Every status but CANCELLED keeps its slot: at most one of these per slot (DB-enforced).
    ACTIVE_STATUSES = [Status.PLANNED, Status.CHECKED_IN, Status.IN_PROGRESS, Status.COMPLETED, Status.NO_SHOW]
    EVENT_MODEL = "scheduling.VisitEvent"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="visits")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="visits")
    slot = models.ForeignKey(VisitSlot, null=True, blank=True, on_delete=models.PROTECT, related_name="visits")
    visit_type = models.ForeignKey(VisitType, on_delete=models.PROTECT, related_name="visits")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="visits")
    mode = models.CharField(max_length=16, choices=Mode.choices)
    start = models.DateTimeField()
    end = models.DateTimeField()
    is_walk_in = models.BooleanField(default=False)
    request = models.OneToOneField(VisitRequest, null=True, blank=True, on_delete=models.PROTECT, related_name="visit")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PLANNED)
    idempotency_key = models.CharField(max_length=100, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True, help_text="When the patient confirmed this time (two-way SMS C/YES); cleared by a reschedule.")
    checked_in_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    cancel_reason = models.TextField(blank=True)
    late_cancel = models.BooleanField(default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = VisitQuerySet.as_manager()

    class Meta:
        ordering = ["start"]
        constraints = [
            # The database guarantee behind "a slot is booked at most once".
            models.UniqueConstraint(fields=["slot"], condition=~Q(status="CANCELLED"), name="visit_one_active_per_slot"),
            models.UniqueConstraint(
                fields=["patient", "idempotency_key"], condition=~Q(idempotency_key=""), name="visit_patient_idempotency_uniq"
            ),
            models.CheckConstraint(condition=Q(slot__isnull=False) | Q(is_walk_in=True), name="visit_slot_unless_walk_in"),
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="visit_end_after_start"),
        ]
        indexes = [
            models.Index(fields=["provider", "start"], name="visit_provider_start_idx"),
            models.Index(fields=["patient", "start"], name="visit_patient_start_idx"),
        ]

    def __str__(self):
        return f"Visit {self.id} ({self.status})"


class IdempotencyRecord(models.Model):
    """The first answer to POST /api/v1/visits/ with an Idempotency-Key, payment-style
    (NOTES.md): its status and body, whatever the status, replayed for the same caller,
    patient and key (services/idempotency.py). Written in the booking's own transaction (a
    refused booking: right after it), by an INSERT that waits for a concurrent request with
    the same key to finish, so the first one to finish is the one saved and nothing else is.
    `fingerprint` is a hash of the other parameters (slot, visit type, request): the same key
    with others is refused. The hourly job scheduling.purge_idempotency_records deletes them
    after SCHEDULING_IDEMPOTENCY_KEEP_HOURS (24; NOTES.md: keep keys 24 h at least).
    Not a transition subject: written once, never changed."""

    MAX_KEY_LENGTH = 255

    id = models.BigAutoField(primary_key=True)
    # "api_key:<id>" or "user:<id>": one caller's keys never answer another's requests.
    owner = models.CharField(max_length=64)
    # No index of its own: lookups go through the unique (owner, patient, key) index.
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="+", db_index=False)
    key = models.CharField(max_length=MAX_KEY_LENGTH)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    # The answer's JSON as text, not jsonb (which reorders keys): a replay is the same document.
    body = models.TextField()
    visit = models.ForeignKey(Visit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "patient", "key"], name="idempotency_owner_patient_key_uniq"),
        ]
        # The hourly purge deletes by age: without this it reads the whole table.
        indexes = [models.Index(fields=["created_at"], name="idempotency_created_idx")]

    def __str__(self):
        return f"{self.owner} {self.key} -> {self.status_code}"


class VisitEvent(TransitionEvent):
    SUBJECT_FIELD = "visit"

    id = models.BigAutoField(primary_key=True)
    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="events")

    class Meta(TransitionEvent.Meta):
        pass

    def __str__(self):
        return f"visit {self.visit_id}: {self.from_status or '-'} -> {self.to_status}"
