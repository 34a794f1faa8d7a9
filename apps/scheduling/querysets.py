"""Chainable domain filters for scheduling rows."""
from django.db import models
from django.db.models import Case, IntegerField, Value, When


def severity_rank_expression():
    # Literal strings (not the enum) so this module needs nothing from models.py.
    return Case(
        When(severity="RED", then=Value(0)),
        When(severity="ORANGE", then=Value(1)),
        When(severity="YELLOW", then=Value(2)),
        default=Value(3),
        output_field=IntegerField(),
    )


class VisitSlotQuerySet(models.QuerySet):
    def free(self):
        return self.filter(status="FREE")

    def held(self):
        return self.filter(status="HELD")

    def upcoming(self, now):
        return self.filter(start__gt=now)

    def between(self, start, end):
        return self.filter(start__gte=start, start__lt=end)

    def for_provider(self, provider):
        return self.filter(provider=provider)

    def expired_holds(self, now):
        return self.filter(status="HELD", held_until__lte=now)

    def overlapping(self, start, end):
        return self.filter(start__lt=end, end__gt=start)


class VisitRequestQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=["NEW", "TRIAGED", "AWAITING_PATIENT_CONFIRMATION"])

    def for_patient(self, patient):
        return self.filter(patient=patient)

    def walk_ins(self):
        return self.filter(request_type="WALK_IN")

    def scheduled(self):
        return self.filter(request_type="SCHEDULED")

    def by_urgency(self):
        """Most severe first, then first come first served."""
        return self.annotate(severity_order=severity_rank_expression()).order_by("severity_order", "created_at", "id")

    def offers_expired(self, now):
        return self.filter(status="AWAITING_PATIENT_CONFIRMATION", offer_expires_at__lte=now)

    def offers_expiring(self, now, within):
        return self.filter(
            status="AWAITING_PATIENT_CONFIRMATION",
            offer_reminded_at__isnull=True,
            offer_expires_at__gt=now,
            offer_expires_at__lte=now + within,
        )


class VisitQuerySet(models.QuerySet):
    def active(self):
        return self.exclude(status="CANCELLED")

    def for_patient(self, patient):
        return self.filter(patient=patient)

    def for_provider(self, provider):
        return self.filter(provider=provider)

    def upcoming(self, now):
        return self.filter(status="PLANNED", start__gte=now)

    def on_day(self, start, end):
        return self.filter(start__gte=start, start__lt=end)
