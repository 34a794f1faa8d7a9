"""Billing arrangements: a fee schedule, completed visits (through scheduling's service, so the
billing listener runs), invoices ready to pay."""
import datetime
from decimal import Decimal

import factory
from django.utils import timezone

from apps.billing import services
from apps.billing.models import Charge, Payer, ServiceCode, VisitTypeCode
from apps.scheduling.models import Visit
from apps.scheduling.services import visit_complete
from tests.consents.factories import verified, visit
from tests.scheduling.factories import ProviderFactory, VisitTypeFactory


class ServiceCodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceCode
        django_get_or_create = ("code", "effective_from")

    code = "99213"
    description = "Office visit, established patient, low complexity"
    price = Decimal("125.00")
    allowed_modifiers = ["25", "95"]
    effective_from = datetime.date(2020, 1, 1)


def fee_schedule():
    return {
        "99213": ServiceCodeFactory(code="99213", price=Decimal("125.00")),
        "99214": ServiceCodeFactory(code="99214", description="Office visit, established patient, moderate", price=Decimal("185.50")),
        "36415": ServiceCodeFactory(code="36415", description="Routine venipuncture", price=Decimal("12.33"), allowed_modifiers=[]),
        "47562": ServiceCodeFactory(code="47562", description="Laparoscopic cholecystectomy", price=Decimal("2400.00"),
                                    allowed_modifiers=["RT", "LT"]),
        "C1713": ServiceCodeFactory(code="C1713", system="HCPCS", description="Anchor/screw for tissue", price=Decimal("310.10"),
                                    allowed_modifiers=[]),
    }


def completed_visit(patient, *, codes=("99213",), mode="IN_PERSON", provider=None):
    """A visit of a type billing maps to `codes`, completed through scheduling's service."""
    provider = provider or ProviderFactory()
    visit_type = VisitTypeFactory(mode=mode, default_billing_codes=[])
    for position, code in enumerate(codes, start=1):
        VisitTypeCode.objects.create(visit_type=visit_type, code=code, position=position)
    v = visit(patient, provider, visit_type, status=Visit.Status.IN_PROGRESS)
    if mode != "IN_PERSON":
        Visit.objects.filter(pk=v.pk).update(mode=mode)
        v.refresh_from_db()
    return visit_complete(visit=v, actor=verified(provider.user))


def issued_invoice(patient, billing_user, *, codes=("99213",), insurance="0.00"):
    """A completed visit's charges approved, invoiced and issued."""
    completed_visit(patient, codes=codes)
    for charge in Charge.objects.filter(patient=patient, status=Charge.Status.PENDING_REVIEW):
        services.charge_approve(charge=charge, actor=billing_user)
    invoice = services.invoice_create(patient=patient, actor=billing_user, insurance_portion=insurance)
    return services.invoice_issue(invoice=invoice, actor=billing_user)


def in_days(days):
    return timezone.now() + datetime.timedelta(days=days)


class PayerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Payer
        django_get_or_create = ("payer_id",)

    name = "Aetna"
    payer_id = "60054"


def coverage(patient, *, member_id="W123456789", priority="PRIMARY", payer=None, **fields):
    """An active coverage (insurance card) added through the service."""
    return services.coverage_add(patient=patient, actor=None, payer=payer or PayerFactory(), member_id=member_id,
                                 group_number=fields.pop("group_number", "G100"), priority=priority,
                                 effective_from=fields.pop("effective_from", datetime.date(2026, 1, 1)), **fields)
