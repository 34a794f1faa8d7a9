from django.db import models

from apps.core.transitions import TransitionEvent


class Door(models.Model):
    class Status(models.TextChoices):
        CLOSED = "closed"
        OPEN = "open"
        LOCKED = "locked"

    TRANSITIONS = {
        Status.CLOSED: {Status.OPEN, Status.LOCKED},
        Status.OPEN: {Status.CLOSED},
        Status.LOCKED: {Status.CLOSED},
    }
    EVENT_MODEL = "machine.DoorEvent"

    status = models.CharField(max_length=8, default=Status.CLOSED)
    owner_patient_id = models.UUIDField(null=True, blank=True)
    note = models.CharField(max_length=50, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    @property
    def patient_id(self):
        return self.owner_patient_id


class DoorEvent(TransitionEvent):
    SUBJECT_FIELD = "door"

    door = models.ForeignKey(Door, on_delete=models.CASCADE, related_name="events")


class Window(models.Model):
    """No event rows and no audit: transitions still checked and saved."""

    class Status(models.TextChoices):
        SHUT = "shut"
        AJAR = "ajar"

    TRANSITIONS = {Status.SHUT: {Status.AJAR}, Status.AJAR: {Status.SHUT}}
    AUDIT_TRANSITIONS = False

    status = models.CharField(max_length=8, default=Status.SHUT)
