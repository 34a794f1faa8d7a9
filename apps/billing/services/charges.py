"""Charges: made once per completed visit and once per completed surgical case, inside the
completion's transaction; reviewed, adjusted (the reason kept) and approved by billing staff."""
import datetime
import zoneinfo
from decimal import Decimal

from django.db import transaction

from apps.billing import hooks
from apps.billing.models import Charge, ServiceCode, VisitTypeCode
from apps.billing.money import MAX_AMOUNT, cents, to_money
from apps.billing.services._common import move
from apps.core.exceptions import Conflict, ValidationFailed
from apps.core.transitions import lock, record_event

C = Charge.Status
OFFICE, TELEHEALTH_HOME, SURGERY_CENTER = "11", "10", "24"
TELEHEALTH_MODIFIER = "95"


def fee_for(code, on_date):
    """The fee-schedule row for `code` on `on_date` (the latest one in effect), or None."""
    rows = ServiceCode.objects.filter(code=code, is_active=True, effective_from__lte=on_date)
    return rows.exclude(effective_to__lt=on_date).order_by("-effective_from").first()


def _line(code, *, on_date, quantity=1, modifiers=(), place_of_service="", fallback_price=None, description=""):
    fee = fee_for(code, on_date)
    if fee is not None:
        price, description = fee.price, fee.description
    else:
        # Not in the fee schedule on that day: the charge waits for review at the price the
        # caller knows (a plan's estimate) or nothing, and says so.
        price = to_money(fallback_price) if fallback_price not in (None, "") else Decimal("0.00")
        description = f"{description or code} (not in the fee schedule)"
    quantity = max(int(quantity or 1), 1)
    unique_modifiers = list(dict.fromkeys(m for m in modifiers if m))
    return {"service_code": fee, "code": code, "description": description[:200], "quantity": quantity,
            "unit_price": price, "amount": cents(price * quantity), "modifiers": unique_modifiers,
            "place_of_service": place_of_service}


def _create(lines, *, patient, source, service_date, actor, **link):
    charges = []
    for number, line in enumerate(lines, start=1):
        charge = Charge.objects.create(patient=patient, source=source, line=number, service_date=service_date, **link, **line)
        record_event(charge, actor=actor, reason="Charge created", data={"source": source})
        charges.append(charge)
    return charges


def visit_type_codes(visit_type):
    """[(code, quantity, modifiers)] a visit of `visit_type` is charged (charges and estimates)."""
    mapped = list(VisitTypeCode.objects.filter(visit_type_id=visit_type.pk))
    if mapped:
        return [(m.code, m.quantity, list(m.modifiers)) for m in mapped]
    # The visit type's own list (scheduling's default_billing_codes) until billing maps it.
    return [(str(code), 1, []) for code in (visit_type.default_billing_codes or []) if code]


def _visit_context(visit):
    answer = hooks.visit_billing_context.first(visit=visit)
    if answer is not None:
        return answer.get("place_of_service") or "", list(answer.get("modifiers") or [])
    if visit.mode == "VIRTUAL":
        return TELEHEALTH_HOME, [TELEHEALTH_MODIFIER]
    return OFFICE, []


def charges_for_visit(*, visit, actor=None):
    """The charges of a COMPLETED visit: one per code of its visit type (billing's mapping, else
    the type's default_billing_codes) at the fee schedule's price on the visit's day, with the
    place of service and modifiers telehealth answers (visit_billing_context; a VIRTUAL visit
    with no answer: 10 and 95). Requires the caller's transaction (the completion's).
    Idempotent: a visit that has charges gets none again, and (visit, line) is unique in the
    database, so a second run can never double them. Returns the charges made now."""
    if Charge.objects.filter(visit_id=visit.pk).exists():
        return []
    place, extra_modifiers = _visit_context(visit)
    zone = _zone(visit)
    service_date = (visit.completed_at or visit.start).astimezone(zone).date()
    lines = [_line(code, on_date=service_date, quantity=quantity, modifiers=[*modifiers, *extra_modifiers],
                   place_of_service=place) for code, quantity, modifiers in visit_type_codes(visit.visit_type)]
    return _create(lines, patient=visit.patient, source=Charge.Source.VISIT, service_date=service_date, actor=actor,
                   visit=visit)


def _zone(visit):
    try:
        return zoneinfo.ZoneInfo(visit.location.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return datetime.timezone.utc


def charges_for_case(*, case, procedure_codes, billable_items, actor=None):
    """The charges of a COMPLETED surgical case: the plan's procedure codes (fee schedule price,
    else the plan's estimate) and the billable consumables and implants that carry a billing
    code, at the surgery centre (24). Same transaction and idempotency as charges_for_visit."""
    if Charge.objects.filter(case_id=case.pk).exists():
        return []
    service_date = (case.completed_at or datetime.datetime.now(datetime.timezone.utc)).date()
    lines = [_line(p["code"], on_date=service_date, fallback_price=p.get("estimated_fee"), description=p.get("description", ""),
                   place_of_service=SURGERY_CENTER) for p in procedure_codes if p.get("code")]
    lines += [_line(item["billing_code"], on_date=service_date, quantity=item.get("quantity") or 1,
                    description=item.get("name", ""), place_of_service=SURGERY_CENTER)
              for item in billable_items if item.get("billing_code")]
    return _create(lines, patient=case.patient, source=Charge.Source.CASE, service_date=service_date, actor=actor, case=case)


@transaction.atomic
def charge_adjust(*, charge, actor, reason, unit_price=None, quantity=None, modifiers=None):
    """Change a charge's price, quantity or modifiers before it is invoiced (PENDING_REVIEW or
    APPROVED); the reason and the before/after values are kept in its event row (and the
    audit log). Modifiers must be the code's allowed ones."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed({"reason": ["Give the reason for the adjustment."]})
    charge = lock(Charge, charge.pk)
    if charge.status not in (C.PENDING_REVIEW, C.APPROVED):
        raise Conflict("Only a charge not yet invoiced can be adjusted.", code="charge_not_adjustable")
    before = {"unit_price": str(charge.unit_price), "quantity": charge.quantity, "modifiers": list(charge.modifiers)}
    if unit_price is not None:
        charge.unit_price = to_money(unit_price)
        if charge.unit_price < 0:
            raise ValidationFailed({"unit_price": ["A price cannot be negative."]})
    if quantity is not None:
        if int(quantity) < 1:
            raise ValidationFailed({"quantity": ["At least 1."]})
        charge.quantity = int(quantity)
    if modifiers is not None:
        allowed = set(charge.service_code.allowed_modifiers) if charge.service_code else None
        # Telehealth's own modifier comes from the visit, never refused here.
        bad = [m for m in modifiers if allowed is not None and m not in allowed and m != TELEHEALTH_MODIFIER]
        if bad:
            raise ValidationFailed({"modifiers": [f"Not allowed for {charge.code}: {', '.join(bad)}."]})
        charge.modifiers = list(dict.fromkeys(modifiers))
    amount = cents(charge.unit_price * charge.quantity)
    if amount > MAX_AMOUNT:  # the amount column holds 12 digits: refuse, never overflow
        raise ValidationFailed({"unit_price": [f"Price times quantity may be at most {MAX_AMOUNT}."]})
    charge.amount = amount
    charge.save(update_fields=["unit_price", "quantity", "modifiers", "amount", "updated_at"])
    after = {"unit_price": str(charge.unit_price), "quantity": charge.quantity, "modifiers": list(charge.modifiers)}
    record_event(charge, actor=actor, reason=reason, data={"adjustment": {"before": before, "after": after}})
    return charge


@transaction.atomic
def charge_approve(*, charge, actor):
    """PENDING_REVIEW -> APPROVED: ready to be invoiced."""
    charge = lock(Charge, charge.pk)
    return move(charge, C.APPROVED, actor=actor, reason="Reviewed")


@transaction.atomic
def charge_void(*, charge, actor, reason):
    """PENDING_REVIEW / APPROVED -> VOID with a reason (billed in error)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed({"reason": ["Give the reason for voiding the charge."]})
    charge = lock(Charge, charge.pk)
    return move(charge, C.VOID, actor=actor, reason=reason)
