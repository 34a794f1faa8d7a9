"""Surgical cases: created from a plan with a signed, unexpired, verified procedure consent;
theatre booked (the database refuses a double-booked room or surgeon); started once the pre-op
checklist is done and the consent still verifies; consumables and implants recorded; completed
(billing's hook); cancelled."""
import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.audit.services import record
from apps.consents import hooks
from apps.consents.exceptions import ConsentNotValid, OutOfOrder, TheatreUnavailable
from apps.consents.models import (
    AnaesthesiaType, CaseItem, ConsentForm, ConsentKind, OperatingRoom, PreOpItem, ProcedurePlan, SurgicalCase,
    TheatreBooking,
)
from apps.consents.services._common import move, notify_patient, user_actor
from apps.consents.services.verification import consent_check, consent_verify
from apps.core.exceptions import ValidationFailed
from apps.core.timezones import local_time
from apps.core.transitions import lock, record_event
from apps.messaging.models import Channel
from apps.messaging.outbox import outbox_cancel_pending
from apps.messaging.services import message_enqueue

P = ProcedurePlan.Status
K = SurgicalCase.Status
MAX_CASE_HOURS = 16
CASE_PLAN_STATUSES = (P.CONSENT_SIGNED, P.SCHEDULED)


def _ensure_case_plan(plan):
    if plan.status in (P.DRAFT, P.PENDING_APPROVAL):
        raise OutOfOrder("The procedure plan has not been approved by the surgeon yet.", code="plan_not_approved")
    if plan.status in (P.APPROVED, P.CONSENT_PENDING):
        raise OutOfOrder("The patient has not signed the procedure consent yet.", code="consent_not_signed")
    if plan.status == P.CANCELLED:
        raise OutOfOrder("The procedure plan was cancelled.", code="plan_cancelled")
    if plan.status == P.COMPLETED:
        raise OutOfOrder("The procedure is already done.", code="plan_completed")


def _ensure_consent_of_plan(consent, plan):
    if consent.plan_id != plan.pk or consent.kind != ConsentKind.PROCEDURE:
        raise OutOfOrder("That consent is not the procedure consent of this plan.", code="consent_not_for_plan",
                         extra={"consent_id": str(consent.pk), "plan_id": str(plan.pk)})


def _ensure_still_valid(consent, now):
    """Under the lock: the consent verified a moment ago is still valid (not revoked or altered
    in between). Its audit entry was written by consent_verify before."""
    result = consent_check(consent, now=now)
    if not result.valid:
        raise ConsentNotValid(result.message, code=result.code, extra={"consent_id": result.consent_id})


def surgical_case_create(*, plan, consent, anaesthesia_type, actor=None, now=None):
    """A SCHEDULED surgical case for `plan`, relying on `consent`: the plan's own PROCEDURE
    consent, signed, unexpired and verified (consent_verify: audited, ConsentNotValid 409 with
    its code), the plan approved and its consent signed (OutOfOrder 409: plan_not_approved,
    consent_not_signed, plan_cancelled), and no other open case for the plan (case_exists).
    The theatre is booked next (theatre_book). Triggers: the case's first event row and its
    "create" audit entry."""
    now = now or timezone.now()
    if anaesthesia_type not in AnaesthesiaType.values:
        raise ValidationFailed({"anaesthesia_type": [f"One of {', '.join(AnaesthesiaType.values)}."]})
    plan = ProcedurePlan.objects.get(pk=plan.pk)
    _ensure_case_plan(plan)
    _ensure_consent_of_plan(consent, plan)
    # Outside the transaction below: a failed verification's audit entry stays when the case is refused.
    consent_verify(consent=consent, purpose="surgical_case_create", now=now)
    with transaction.atomic():
        plan = lock(ProcedurePlan, plan.pk)
        _ensure_case_plan(plan)
        consent = lock(ConsentForm, consent.pk, related=("template",))
        _ensure_consent_of_plan(consent, plan)
        _ensure_still_valid(consent, now)
        if SurgicalCase.objects.filter(plan=plan).active().exists():
            raise OutOfOrder("This plan already has a surgical case.", code="case_exists")
        case = SurgicalCase.objects.create(plan=plan, consent=consent, patient_id=plan.patient_id, surgeon_id=plan.surgeon_id,
                                           anaesthesia_type=anaesthesia_type, created_by=user_actor(actor), created_at=now)
        record_event(case, actor=actor, reason="Surgical case created", from_status="", audit=False,
                     data={"consent_id": str(consent.pk), "consent_sha256": consent.document_sha256})
        record("create", case)
    return case


@transaction.atomic
def theatre_book(*, case, room, start, end, actor=None, now=None):
    """Book `room` and the case's surgeon from `start` to `end` for a SCHEDULED case (a new
    booking replaces the case's current one). The database refuses a room or a surgeon booked
    twice at overlapping times (exclusion constraint / trigger): TheatreUnavailable (409),
    and the case keeps its old booking. Moves the plan CONSENT_SIGNED -> SCHEDULED. Triggers:
    an event row on the case, the patient's notice (date and place only) and their reminder
    before the case (case_reminder_sync: a moved booking moves it)."""
    now = now or timezone.now()
    if start is None or end is None or end <= start:
        raise ValidationFailed({"end": ["The booking must end after it starts."]})
    if end - start > datetime.timedelta(hours=MAX_CASE_HOURS):
        raise ValidationFailed({"end": [f"A booking is at most {MAX_CASE_HOURS} hours."]})
    if start <= now:
        raise ValidationFailed({"start": ["The booking must start in the future."]})
    case = lock(SurgicalCase, case.pk, related=("patient",))
    if case.status != K.SCHEDULED:
        raise OutOfOrder("Only a scheduled case can be booked into a theatre.", code="case_not_scheduled",
                         extra={"case_status": case.status})
    room = OperatingRoom.objects.filter(pk=room.pk, is_active=True).first()
    if room is None:
        raise ValidationFailed({"room": ["This operating room is not in use."]})
    TheatreBooking.objects.filter(case=case, status=TheatreBooking.Status.BOOKED).update(
        status=TheatreBooking.Status.CANCELLED, cancelled_at=now)
    try:
        # A savepoint: the refused insert rolls back alone, with the old booking's cancellation.
        with transaction.atomic():
            booking = TheatreBooking.objects.create(case=case, room=room, surgeon_id=case.surgeon_id, start=start, end=end,
                                                    created_by=user_actor(actor), created_at=now)
    except IntegrityError as exc:
        raise TheatreUnavailable(extra={"room_id": str(room.pk)}) from exc
    record_event(case, actor=actor, reason=f"Theatre booked: {room.name}",
                 data={"booking_id": str(booking.pk), "room": room.name, "start": start.isoformat(), "end": end.isoformat()})
    plan = lock(ProcedurePlan, case.plan_id)
    if plan.status == P.CONSENT_SIGNED:
        move(plan, P.SCHEDULED, actor=actor, reason="Surgery scheduled", data={"case_id": str(case.pk)})
    when = local_time(start, case.patient).strftime("%a %d %b %Y, %H:%M")
    notify_patient(case.patient, kind="case_scheduled", title="Your procedure date is booked", link="/portal/timeline/",
                   outbox_key=f"case:{case.pk}:booking:{booking.pk}",
                   context={"visit_time": when, "location_name": room.location.name if room.location_id else ""})
    case_reminder_sync(case=case, booking=booking, now=now)
    return booking


# The patient's reminder before surgery (fasting, medicines: the instructions are in the portal).
CASE_REMINDER_BEFORE = datetime.timedelta(hours=24)
# A reminder that quiet hours would push later than this before the start goes at its own time.
CASE_REMINDER_NOT_AFTER = datetime.timedelta(hours=3)


def _reminder_prefix(case):
    return f"case_reminder:{case.pk}:"


def case_reminder_sync(*, case, booking, now=None):
    """The patient's reminder before the case (SMS and email through the outbox, PHI-free: the
    date and place only), keyed per case and booked start ("case_reminder:<case>:<start>"), due
    CASE_REMINDER_BEFORE the start. A moved booking cancels the reminder of the old time and
    queues the new one; no booking (a cancelled case) cancels it. A booking made inside the
    window gets none (the booking notice covers it). Call inside the booking's transaction.
    Returns the reminder's outbox rows ([] when none)."""
    now = now or timezone.now()
    prefix = _reminder_prefix(case)
    if booking is None:
        outbox_cancel_pending(dedupe_key_prefix=prefix, reason="surgical case cancelled")
        return []
    key = f"{prefix}{int(booking.start.timestamp())}"
    outbox_cancel_pending(dedupe_key_prefix=prefix, keep_prefix=key + ":", reason="theatre booking moved")
    due = booking.start - CASE_REMINDER_BEFORE
    if due <= now:
        return []
    when = local_time(booking.start, case.patient).strftime("%a %d %b %Y, %H:%M")
    room = booking.room
    return message_enqueue(kind="case_reminder", dedupe_key=key, patient=case.patient,
                           channels=(Channel.SMS, Channel.EMAIL), due_at=due,
                           not_after=booking.start - CASE_REMINDER_NOT_AFTER, link="/portal/timeline/",
                           context={"visit_time": when, "location_name": room.location.name if room.location_id else ""})


def _missing_preop(plan):
    return list(PreOpItem.objects.filter(plan=plan, is_required=True, done_at__isnull=True).order_by("order", "id"))


def case_start(*, case, actor=None, now=None):
    """SCHEDULED -> IN_PROGRESS. Requires the theatre booked (theatre_not_booked), every
    required pre-op item done (preop_incomplete, naming them) and the consent still verifying
    (consent_verify, audited)."""
    now = now or timezone.now()
    case = SurgicalCase.objects.get(pk=case.pk)
    consent_verify(consent=case.consent, purpose="surgical_case_start", now=now)
    with transaction.atomic():
        case = lock(SurgicalCase, case.pk)
        if case.status == K.SCHEDULED:
            if not TheatreBooking.objects.filter(case=case, status=TheatreBooking.Status.BOOKED).exists():
                raise OutOfOrder("Book the theatre before starting the case.", code="theatre_not_booked")
            missing = _missing_preop(case.plan_id)
            if missing:
                raise OutOfOrder("Pre-op: " + ", ".join(f"{item.label} missing" for item in missing) + ".",
                                 code="preop_incomplete", extra={"missing": [item.code for item in missing]})
            _ensure_still_valid(lock(ConsentForm, case.consent_id, related=("template",)), now)
        return move(case, K.IN_PROGRESS, actor=actor, reason="Case started", started_at=now)


@transaction.atomic
def case_item_record(*, case, kind, name, manufacturer, lot_number, serial_number="", quantity=1, billable=True,
                     billing_code="", actor=None, now=None):
    """A consumable or implant used on an IN_PROGRESS case (case_not_in_progress otherwise):
    lot number always, serial number for an implant. Triggers an event row on the case and the
    item's "create" audit entry."""
    case = lock(SurgicalCase, case.pk)
    if case.status != K.IN_PROGRESS:
        raise OutOfOrder("Consumables and implants are recorded while the case is in progress.",
                         code="case_not_in_progress", extra={"case_status": case.status})
    values = {"name": name, "manufacturer": manufacturer, "lot_number": lot_number, "serial_number": serial_number,
              "billing_code": billing_code}
    values = {k: " ".join(str(v or "").split()) for k, v in values.items()}
    errors = {}
    if kind not in CaseItem.Kind.values:
        errors["kind"] = ["CONSUMABLE or IMPLANT."]
    for field_name, limit in (("name", 200), ("manufacturer", 200), ("lot_number", 80)):
        if not values[field_name] or len(values[field_name]) > limit:
            errors[field_name] = [f"Required, up to {limit} characters."]
    if len(values["serial_number"]) > 80:
        errors["serial_number"] = ["Up to 80 characters."]
    elif kind == CaseItem.Kind.IMPLANT and not values["serial_number"]:
        errors["serial_number"] = ["An implant needs its serial number."]
    if len(values["billing_code"]) > 5:
        errors["billing_code"] = ["A HCPCS code, e.g. L8699."]
    if not isinstance(quantity, int) or isinstance(quantity, bool) or not 1 <= quantity <= 10000:
        errors["quantity"] = ["A whole number from 1 to 10000."]
    if errors:
        raise ValidationFailed(errors)
    item = CaseItem.objects.create(case=case, kind=kind, quantity=quantity, billable=bool(billable),
                                   recorded_by=user_actor(actor), recorded_at=now or timezone.now(), **values)
    record_event(case, actor=actor, reason=f"{item.get_kind_display()} recorded: {item.name} lot {item.lot_number}",
                 data={"item_id": item.pk})
    record("create", item, patient_id=case.patient_id)
    return item


def billing_payload(case):
    """What billing needs of a completed case: the plan's procedure lines and the billable items."""
    codes = [{"code": line.code, "description": line.description, "site": line.site, "side": line.side,
              "estimated_fee": str(line.estimated_fee)} for line in case.plan.lines.all()]
    items = [{"kind": item.kind, "name": item.name, "manufacturer": item.manufacturer, "lot_number": item.lot_number,
              "serial_number": item.serial_number, "quantity": item.quantity, "billing_code": item.billing_code}
             for item in case.items.filter(billable=True)]
    return codes, items


@transaction.atomic
def case_complete(*, case, actor=None, now=None):
    """IN_PROGRESS -> COMPLETED, and the plan SCHEDULED -> COMPLETED. Triggers the
    `case_completed` hook (billing) with the procedure codes and billable items, inside this
    transaction."""
    now = now or timezone.now()
    case = lock(SurgicalCase, case.pk)
    move(case, K.COMPLETED, actor=actor, reason="Case completed", completed_at=now)
    plan = lock(ProcedurePlan, case.plan_id)
    if plan.status == P.SCHEDULED:
        move(plan, P.COMPLETED, actor=actor, reason="Surgery completed", completed_at=now)
    codes, items = billing_payload(case)
    hooks.case_completed.all(case=case, procedure_codes=codes, billable_items=items)
    return case


@transaction.atomic
def case_cancel(*, case, actor=None, reason, now=None):
    """SCHEDULED -> CANCELLED with a reason; its theatre booking is released and the patient's
    reminder cancelled."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed({"reason": ["Give the reason for cancelling the case."]})
    case = lock(SurgicalCase, case.pk)
    move(case, K.CANCELLED, actor=actor, reason=reason, cancelled_at=now, cancel_reason=reason[:2000])
    TheatreBooking.objects.filter(case=case, status=TheatreBooking.Status.BOOKED).update(
        status=TheatreBooking.Status.CANCELLED, cancelled_at=now)
    case_reminder_sync(case=case, booking=None, now=now)
    return case
