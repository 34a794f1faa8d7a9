"""The fee schedule: service codes (CPT and HCPCS) with their price, allowed modifiers and
effective dates, and the codes a visit type bills by default."""
import datetime
import uuid

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q

from apps.billing.money import money_field

CODE_VALIDATOR = RegexValidator(r"^[A-Z0-9]{5}$", "A CPT or HCPCS code is five letters or digits (99213, J1100).")
MODIFIER_VALIDATOR = RegexValidator(r"^[A-Z0-9]{2}$", "A modifier is two letters or digits (25, 95, RT).")


class ServiceCode(models.Model):
    """One priced code for a period: a new price is a new row with a later effective_from (the
    old row gets its effective_to), so charges made earlier keep the price of their day."""

    class System(models.TextChoices):
        CPT = "CPT", "CPT"
        HCPCS = "HCPCS", "HCPCS"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.CharField(max_length=5, validators=[CODE_VALIDATOR])
    system = models.CharField(max_length=5, choices=System.choices, default=System.CPT)
    description = models.CharField(max_length=200)
    price = money_field()
    allowed_modifiers = models.JSONField(default=list, blank=True, help_text='Two-character modifiers, e.g. ["25", "95"].')
    effective_from = models.DateField(default=datetime.date.today)
    effective_to = models.DateField(null=True, blank=True, help_text="Last day this price applies (empty: open).")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["code", "effective_from"], name="billing_service_code_period_uniq"),
            models.CheckConstraint(condition=Q(price__gte=0), name="billing_service_code_price_not_negative"),
            models.CheckConstraint(condition=Q(effective_to__isnull=True) | Q(effective_to__gte=F("effective_from")),
                                   name="billing_service_code_period_ordered"),
        ]

    def __str__(self):
        return f"{self.code} {self.description} (${self.price})"


class VisitTypeCode(models.Model):
    """A code a completed visit of this type is charged (scheduling's VisitType, keyed here so
    the fee schedule stays billing's)."""

    id = models.BigAutoField(primary_key=True)
    visit_type = models.ForeignKey("scheduling.VisitType", on_delete=models.CASCADE, related_name="billing_codes")
    code = models.CharField(max_length=5, validators=[CODE_VALIDATOR])
    quantity = models.PositiveSmallIntegerField(default=1)
    modifiers = models.JSONField(default=list, blank=True)
    position = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["visit_type", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["visit_type", "code"], name="billing_visit_type_code_uniq"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="billing_visit_type_code_quantity_positive"),
        ]

    def __str__(self):
        return f"{self.visit_type_id}: {self.code} x{self.quantity}"
