"""Input and output shapes of the billing API (apps/billing/api.py). Inputs parse and
type-check (hostile input: core's validation); every rule lives in the services. Money is a
string with two decimals in and out, never a float."""
from decimal import Decimal

from rest_framework import serializers

from apps.billing.models import Charge, Coverage, EligibilityCheck, Invoice, Payer, Payment
from apps.billing.money import MAX_AMOUNT
from apps.core import validation
from apps.patients.models import Patient
from apps.scheduling.models import VisitType


def Money(**kwargs):
    return serializers.DecimalField(max_digits=12, decimal_places=2, coerce_to_string=True, **kwargs)


def MoneyInput(**kwargs):
    return serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"), max_value=MAX_AMOUNT,
                                    **kwargs)


class ChargeReasonInput(serializers.Serializer):
    reason = serializers.CharField(max_length=500)

    def validate_reason(self, value):
        return validation.for_api(validation.check_text, value, max_length=500)


# --- fee schedule ------------------------------------------------------------------------------

class ServiceCodeOutput(serializers.Serializer):
    id = serializers.UUIDField()
    code = serializers.CharField()
    system = serializers.CharField()
    description = serializers.CharField()
    price = Money()
    allowed_modifiers = serializers.ListField(child=serializers.CharField())
    effective_from = serializers.DateField()
    effective_to = serializers.DateField(allow_null=True)


# --- charges -----------------------------------------------------------------------------------

class ChargeFilterInput(validation.QueryInput):
    status = serializers.ChoiceField(choices=Charge.Status.choices, required=False)
    patient = serializers.UUIDField(required=False)


class ChargeOutput(serializers.Serializer):
    id = serializers.UUIDField()
    patient = serializers.UUIDField(source="patient_id")
    source = serializers.CharField()
    visit = serializers.UUIDField(source="visit_id", allow_null=True)
    case = serializers.UUIDField(source="case_id", allow_null=True)
    line = serializers.IntegerField()
    code = serializers.CharField()
    description = serializers.CharField()
    modifiers = serializers.ListField(child=serializers.CharField())
    place_of_service = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = Money()
    amount = Money()
    service_date = serializers.DateField()
    status = serializers.CharField()
    invoice = serializers.UUIDField(source="invoice_id", allow_null=True)


class ChargeAdjustInput(ChargeReasonInput):
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0"), max_value=MAX_AMOUNT,
                                          required=False)
    quantity = serializers.IntegerField(min_value=1, max_value=999, required=False)
    modifiers = serializers.ListField(child=serializers.RegexField(r"^[A-Z0-9]{2}$", max_length=2), max_length=4, required=False)


# --- invoices ----------------------------------------------------------------------------------

class InvoiceFilterInput(validation.QueryInput):
    status = serializers.ChoiceField(choices=Invoice.Status.choices, required=False)
    patient = serializers.UUIDField(required=False)


class InvoiceLineOutput(serializers.Serializer):
    position = serializers.IntegerField()
    kind = serializers.CharField()
    code = serializers.CharField()
    description = serializers.CharField()
    modifiers = serializers.ListField(child=serializers.CharField())
    service_date = serializers.DateField(allow_null=True)
    quantity = serializers.IntegerField()
    unit_price = Money()
    amount = Money()


class InvoiceOutput(serializers.Serializer):
    id = serializers.UUIDField()
    number = serializers.CharField(source="display_number")
    patient = serializers.UUIDField(source="patient_id")
    status = serializers.CharField()
    subtotal = Money()
    insurance_portion = Money()
    patient_responsibility = Money()
    amount_paid = Money()
    amount_due = Money()
    due_date = serializers.DateField(allow_null=True)
    issued_at = serializers.DateTimeField(allow_null=True)
    paid_at = serializers.DateTimeField(allow_null=True)
    voided_at = serializers.DateTimeField(allow_null=True)


class InvoiceDetailOutput(InvoiceOutput):
    lines = InvoiceLineOutput(many=True)


class InvoiceCreateInput(serializers.Serializer):
    patient = serializers.PrimaryKeyRelatedField(queryset=Patient.objects.all())
    charges = serializers.ListField(child=serializers.UUIDField(), required=False, max_length=200,
                                    help_text="The APPROVED charges to put on it (all of the patient's when left out).")
    insurance_portion = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0"), max_value=MAX_AMOUNT,
                                                 required=False, default=Decimal("0.00"))


class InvoiceIssueInput(serializers.Serializer):
    due_date = validation.ApiDateField(required=False)


# --- payments ----------------------------------------------------------------------------------

class PaymentFilterInput(validation.QueryInput):
    invoice = serializers.UUIDField(required=False)
    patient = serializers.UUIDField(required=False)


class PaymentOutput(serializers.Serializer):
    id = serializers.UUIDField()
    receipt_number = serializers.CharField()
    invoice = serializers.UUIDField(source="invoice_id")
    patient = serializers.UUIDField(source="patient_id")
    status = serializers.CharField()
    method = serializers.CharField()
    amount = Money()
    amount_refunded = Money()
    gateway = serializers.CharField()
    card_brand = serializers.CharField()
    card_last4 = serializers.CharField()
    failure_code = serializers.CharField()
    created_at = serializers.DateTimeField()
    succeeded_at = serializers.DateTimeField(allow_null=True)


class PaymentCreateInput(serializers.Serializer):
    invoice = serializers.UUIDField()
    amount = MoneyInput()
    source = serializers.CharField(max_length=200, help_text="A test card number (test gateway) or a Stripe PaymentMethod id.")

    def validate_source(self, value):
        return validation.for_api(validation.check_text, value, max_length=200)


class RefundInput(ChargeReasonInput):
    amount = MoneyInput(required=False, allow_null=True, help_text="Left out: all that is left of the payment.")


class RefundOutput(serializers.Serializer):
    id = serializers.UUIDField()
    payment = serializers.UUIDField(source="payment_id")
    amount = Money()
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()


class BalanceOutput(serializers.Serializer):
    patient = serializers.UUIDField()
    balance = Money()


# --- insurance ---------------------------------------------------------------------------------

class PayerOutput(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    payer_id = serializers.CharField()


class CoverageFilterInput(validation.QueryInput):
    patient = serializers.UUIDField(required=False)


class CoverageOutput(serializers.Serializer):
    id = serializers.UUIDField()
    patient = serializers.UUIDField(source="patient_id")
    payer = PayerOutput()
    member_id = serializers.CharField()
    group_number = serializers.CharField()
    relationship = serializers.CharField()
    subscriber_first_name = serializers.CharField()
    subscriber_last_name = serializers.CharField()
    subscriber_date_of_birth = serializers.DateField(allow_null=True)
    priority = serializers.CharField()
    effective_from = serializers.DateField()
    effective_to = serializers.DateField(allow_null=True)
    is_active = serializers.BooleanField()


class CoverageInput(serializers.Serializer):
    """A card's details; on a change every field is optional (partial)."""

    payer = serializers.SlugRelatedField(slug_field="payer_id", queryset=Payer.objects.filter(is_active=True),
                                         help_text="The payer's id (GET /api/v1/payers/).")
    member_id = serializers.RegexField(r"^[A-Za-z0-9-]{2,80}$", max_length=80)
    group_number = serializers.RegexField(r"^[A-Za-z0-9 -]{0,50}$", max_length=50, required=False, allow_blank=True)
    relationship = serializers.ChoiceField(choices=Coverage.Relationship.choices, required=False)
    subscriber_first_name = serializers.CharField(max_length=35, required=False, allow_blank=True)
    subscriber_last_name = serializers.CharField(max_length=60, required=False, allow_blank=True)
    subscriber_date_of_birth = validation.ApiBirthDateField(required=False, allow_null=True)
    priority = serializers.ChoiceField(choices=Coverage.Priority.choices, required=False)
    effective_from = validation.ApiDateField(required=False)
    effective_to = validation.ApiDateField(required=False, allow_null=True)


class CoverageCreateInput(CoverageInput):
    patient = serializers.PrimaryKeyRelatedField(queryset=Patient.objects.all())


class EligibilityFilterInput(validation.QueryInput):
    patient = serializers.UUIDField(required=False)
    coverage = serializers.UUIDField(required=False)


class EligibilityCheckOutput(serializers.Serializer):
    id = serializers.UUIDField()
    coverage = serializers.UUIDField(source="coverage_id")
    patient = serializers.UUIDField(source="patient_id")
    service_type = serializers.CharField()
    service_date = serializers.DateField()
    status = serializers.CharField()
    outcome = serializers.CharField()
    message = serializers.CharField()
    result = serializers.JSONField(help_text="The 271 read: status, benefits (info, service_types, amount, percent, "
                                             "time_period, in_network, authorization_required...) and rejections.")
    requested_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)


class EligibilityCheckInput(serializers.Serializer):
    coverage = serializers.UUIDField()
    service_type = serializers.RegexField(r"^[A-Z0-9]{1,2}$", max_length=2, required=False, default="30")
    service_date = validation.ApiDateField(required=False)
    force = serializers.BooleanField(required=False, default=False,
                                     help_text="Ask the payer even when a check younger than 24 hours exists.")


class EstimateInput(serializers.Serializer):
    patient = serializers.PrimaryKeyRelatedField(queryset=Patient.objects.all())
    visit_type = serializers.PrimaryKeyRelatedField(queryset=VisitType.objects.filter(is_active=True))
    date = validation.ApiDateField()


class EstimateOutput(serializers.Serializer):
    fee = Money()
    patient_amount = Money()
    insurance_amount = Money()
    basis = serializers.ChoiceField(choices=["copay", "deductible_coinsurance", "self_pay"])
    explanation = serializers.CharField()
    copay = Money(allow_null=True)
    deductible_remaining = Money(allow_null=True)
    coinsurance = serializers.DecimalField(max_digits=5, decimal_places=4, coerce_to_string=True, allow_null=True)
    eligibility_check = serializers.UUIDField(source="check.pk", allow_null=True, default=None)
