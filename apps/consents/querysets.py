"""Chainable domain filters for the consents app's models."""
from django.db import models
from django.utils import timezone


class ProcedurePlanQuerySet(models.QuerySet):
    def for_patient(self, patient):
        return self.filter(patient=patient)

    def open(self):
        return self.exclude(status__in=["COMPLETED", "CANCELLED"])


class ConsentFormQuerySet(models.QuerySet):
    def for_patient(self, patient):
        return self.filter(patient=patient)

    def due_for_expiry(self, now=None):
        return self.filter(status="SIGNED", expires_at__lte=now or timezone.now())

    def to_sign(self):
        return self.filter(status="PENDING")


class SurgicalCaseQuerySet(models.QuerySet):
    def for_patient(self, patient):
        return self.filter(patient=patient)

    def active(self):
        return self.exclude(status="CANCELLED")


class CaseItemQuerySet(models.QuerySet):
    def with_lot(self, lot_number):
        return self.filter(lot_number__iexact=lot_number.strip())
