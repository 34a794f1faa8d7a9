"""Surgical cases (a plan and a signed, verified consent behind each: not-null foreign keys),
operating rooms and their theatre bookings (never two overlapping bookings of one room or one
surgeon: a PostgreSQL exclusion constraint over a tstzrange, and triggers on SQLite, migration
0002), and the consumables and implants used, traceable by lot number."""
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils import timezone

from apps.consents.querysets import CaseItemQuerySet, SurgicalCaseQuerySet
from apps.core.transitions import TransitionEvent


class OperatingRoom(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=120, unique=True)
    location = models.ForeignKey("scheduling.Location", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    is_active = models.BooleanField(default=True)
    notes = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class AnaesthesiaType(models.TextChoices):
    GENERAL = "GENERAL", "General"
    REGIONAL = "REGIONAL", "Regional"
    SEDATION = "SEDATION", "Monitored sedation"
    LOCAL = "LOCAL", "Local"


class SurgicalCase(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "SCHEDULED", "Scheduled"
        IN_PROGRESS = "IN_PROGRESS", "In progress"
        COMPLETED = "COMPLETED", "Completed"
        CANCELLED = "CANCELLED", "Cancelled"

    S = Status
    TRANSITIONS = {
        S.SCHEDULED: {S.IN_PROGRESS, S.CANCELLED},
        S.IN_PROGRESS: {S.COMPLETED},
    }
    EVENT_MODEL = "consents.CaseEvent"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Not null: a case cannot exist without the plan and the procedure consent behind it.
    plan = models.ForeignKey("consents.ProcedurePlan", on_delete=models.PROTECT, related_name="cases")
    consent = models.ForeignKey("consents.ConsentForm", on_delete=models.PROTECT, related_name="cases")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    surgeon = models.ForeignKey("scheduling.Provider", on_delete=models.PROTECT, related_name="+")
    anaesthesia_type = models.CharField(max_length=10, choices=AnaesthesiaType.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SCHEDULED)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.TextField(blank=True, max_length=2000)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SurgicalCaseQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["plan"], condition=~Q(status="CANCELLED"), name="case_one_active_per_plan"),
            models.CheckConstraint(condition=~Q(status="CANCELLED") | ~Q(cancel_reason=""), name="case_cancel_has_reason"),
            models.CheckConstraint(condition=~Q(status__in=["IN_PROGRESS", "COMPLETED"]) | Q(started_at__isnull=False),
                                   name="case_started_has_time"),
        ]

    def __str__(self):
        return f"Surgical case {self.id} ({self.status})"

    @property
    def active_booking(self):
        return self.bookings.filter(status=TheatreBooking.Status.BOOKED).select_related("room").first()


class CaseEvent(TransitionEvent):
    SUBJECT_FIELD = "case"

    case = models.ForeignKey(SurgicalCase, on_delete=models.CASCADE, related_name="events")

    class Meta(TransitionEvent.Meta):
        pass


class TheatreBooking(models.Model):
    """A room and a surgeon held for a case from `start` to `end` (half-open). BOOKED rows never
    overlap for one room or one surgeon: enforced by the database (migration 0002)."""

    class Status(models.TextChoices):
        BOOKED = "BOOKED", "Booked"
        CANCELLED = "CANCELLED", "Cancelled"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(SurgicalCase, on_delete=models.PROTECT, related_name="bookings")
    room = models.ForeignKey(OperatingRoom, on_delete=models.PROTECT, related_name="bookings")
    surgeon = models.ForeignKey("scheduling.Provider", on_delete=models.PROTECT, related_name="+")
    start = models.DateTimeField()
    end = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.BOOKED)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["start"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="theatre_booking_end_after_start"),
            models.UniqueConstraint(fields=["case"], condition=Q(status="BOOKED"), name="theatre_booking_one_per_case"),
        ]
        indexes = [models.Index(fields=["room", "start"], name="theatre_booking_room_start_idx")]

    def __str__(self):
        return f"{self.room} {self.start:%Y-%m-%d %H:%M}-{self.end:%H:%M} UTC ({self.status})"

    @property
    def patient_id(self):
        return self.case.patient_id


class CaseItem(models.Model):
    """A consumable or an implant used on a case. Every item has a lot (or batch) number, and an
    implant its serial number, so a recalled lot leads back to every patient who received it."""

    class Kind(models.TextChoices):
        CONSUMABLE = "CONSUMABLE", "Consumable"
        IMPLANT = "IMPLANT", "Implant"

    id = models.BigAutoField(primary_key=True)
    case = models.ForeignKey(SurgicalCase, on_delete=models.PROTECT, related_name="items")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    name = models.CharField(max_length=200)
    manufacturer = models.CharField(max_length=200)
    lot_number = models.CharField("lot or batch number", max_length=80)
    serial_number = models.CharField(max_length=80, blank=True)
    quantity = models.PositiveIntegerField(default=1)
    billable = models.BooleanField(default=True)
    billing_code = models.CharField("HCPCS code", max_length=5, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    objects = CaseItemQuerySet.as_manager()

    class Meta:
        ordering = ["case", "recorded_at", "id"]
        verbose_name = "consumable or implant"
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="case_item_quantity_positive"),
            models.CheckConstraint(condition=~Q(lot_number=""), name="case_item_has_lot"),
            models.CheckConstraint(condition=~Q(kind="IMPLANT") | ~Q(serial_number=""), name="case_item_implant_has_serial"),
        ]
        indexes = [models.Index(Upper("lot_number"), name="case_item_lot_idx")]

    def __str__(self):
        return f"{self.name} lot {self.lot_number}"

    @property
    def patient_id(self):
        return self.case.patient_id
