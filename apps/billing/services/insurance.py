"""Insurance writes: coverages (add, change, remove) and eligibility checks (a 270 through the
clearinghouse, its 271 read), with the 24-hour cache and the nightly re-check of tomorrow's
visits. Money-free: what the patient will owe is estimates.py."""
import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.audit.services import record
from apps.billing.clearinghouse import ClearinghouseUnavailable, active_clearinghouse
from apps.billing.models import Coverage, EligibilityCheck, InvoiceCounter
from apps.billing.services._common import move, user_actor
from apps.billing.x12 import Inquiry, Party, X12Error, build_270, parse_271
from apps.core.exceptions import ValidationFailed
from apps.core.timezones import clinic_zone
from apps.core.transitions import lock, record_event
from apps.scheduling.models import Visit

E = EligibilityCheck.Status
COUNTER = "x12_interchange"
COVERAGE_FIELDS = ("payer", "member_id", "group_number", "relationship", "subscriber_first_name", "subscriber_last_name",
                   "subscriber_date_of_birth", "priority", "effective_from", "effective_to")
MAX_CONTROL_NUMBER = 999_999_999


def _today():
    return timezone.now().astimezone(clinic_zone()).date()


def _clean_coverage(data):
    """The rules a coverage keeps, as field errors (the forms and the API share them)."""
    errors = {}
    if data.get("relationship", Coverage.Relationship.SELF) != Coverage.Relationship.SELF:
        for name in ("subscriber_first_name", "subscriber_last_name", "subscriber_date_of_birth"):
            if not data.get(name):
                errors[name] = ["Give the subscriber's name and date of birth when the plan is someone else's."]
    else:
        for name in ("subscriber_first_name", "subscriber_last_name"):
            data[name] = ""
        data["subscriber_date_of_birth"] = None
    start, end = data.get("effective_from"), data.get("effective_to")
    if start and end and end < start:
        errors["effective_to"] = ["The coverage cannot end before it starts."]
    dob = data.get("subscriber_date_of_birth")
    if dob and dob > _today():
        errors["subscriber_date_of_birth"] = ["The date of birth cannot be in the future."]
    payer = data.get("payer")
    if payer is not None and not payer.is_active:
        errors["payer"] = ["This payer is no longer accepted."]
    if errors:
        raise ValidationFailed(errors)
    return data


def _priority_free(patient, priority, *, exclude=None):
    taken = Coverage.objects.filter(patient=patient, priority=priority, is_active=True)
    if exclude is not None:
        taken = taken.exclude(pk=exclude.pk)
    if taken.exists():
        raise ValidationFailed({"priority": [f"The patient already has an active {priority.lower()} coverage: remove it first."]})


@transaction.atomic
def coverage_add(*, patient, actor, **data):
    """A new active coverage (insurance card) for `patient`. Fields: COVERAGE_FIELDS. 400 with
    field errors for a second active card of the same priority, a subscriber missing when the
    plan is someone else's, dates out of order. Audited (create)."""
    data = _clean_coverage({k: v for k, v in data.items() if k in COVERAGE_FIELDS})
    data.setdefault("effective_from", _today())
    # The patient's row lock serialises two adds of the same priority (the partial unique
    # constraint is the backstop).
    type(patient).objects.select_for_update().filter(pk=patient.pk).first()
    _priority_free(patient, data.get("priority", Coverage.Priority.PRIMARY))
    coverage = Coverage.objects.create(patient=patient, **data)
    record("create", coverage, detail={"payer": coverage.payer.payer_id})
    return coverage


@transaction.atomic
def coverage_update(*, coverage, actor, **data):
    """Change an active coverage's card details (COVERAGE_FIELDS given). Audited (update) with
    the names of the fields changed, never their values."""
    coverage = lock(Coverage, coverage.pk, related=("payer",))
    if not coverage.is_active:
        raise ValidationFailed({"coverage": ["A removed coverage does not change."]})
    current = {name: getattr(coverage, name) for name in COVERAGE_FIELDS}
    merged = _clean_coverage({**current, **{k: v for k, v in data.items() if k in COVERAGE_FIELDS}})
    if merged["priority"] != coverage.priority:
        _priority_free(coverage.patient, merged["priority"], exclude=coverage)
    changed = [name for name in COVERAGE_FIELDS if merged[name] != current[name]]
    for name in changed:
        setattr(coverage, name, merged[name])
    if changed:
        coverage.save(update_fields=[*changed, "updated_at"])
        record("update", coverage, detail={"fields": changed})
    return coverage


@transaction.atomic
def coverage_remove(*, coverage, actor):
    """Take the card off the patient's file (kept, inactive, for the checks made with it)."""
    coverage = lock(Coverage, coverage.pk)
    if coverage.is_active:
        coverage.is_active = False
        coverage.save(update_fields=["is_active", "updated_at"])
        record("update", coverage, detail={"fields": ["is_active"], "removed": True})
    return coverage


def _next_control_number():
    """ISA13 for the next 270, under the counter row's lock (unique, never reused; wraps at
    nine digits, far past any clinic's volume)."""
    InvoiceCounter.objects.get_or_create(name=COUNTER)
    counter = InvoiceCounter.objects.select_for_update().get(name=COUNTER)
    number = counter.next_number
    counter.next_number = number + 1 if number < MAX_CONTROL_NUMBER else 1
    counter.save(update_fields=["next_number"])
    return number


def inquiry_for(coverage, *, service_type, service_date, trace_number):
    """The Inquiry (apps/billing/x12) for a check of `coverage`."""
    patient = coverage.patient
    sex = {"M": "M", "F": "F"}.get(getattr(patient, "sex_at_birth", ""), "")
    patient_party = Party(last_name=patient.last_name, first_name=patient.first_name, date_of_birth=patient.date_of_birth,
                          sex=sex)
    if coverage.is_self:
        subscriber, dependent = patient_party, None
    else:
        subscriber = Party(last_name=coverage.subscriber_last_name, first_name=coverage.subscriber_first_name,
                           date_of_birth=coverage.subscriber_date_of_birth)
        dependent = patient_party
    return Inquiry(
        payer_name=coverage.payer.name, payer_id=coverage.payer.payer_id, provider_name=settings.BILLING_PROVIDER_NAME,
        provider_npi=settings.BILLING_PROVIDER_NPI, subscriber=subscriber, member_id=coverage.member_id,
        group_number=coverage.group_number, patient=dependent, service_date=service_date, service_types=(service_type,),
        trace_number=trace_number, submitter_id=settings.BILLING_CLEARINGHOUSE_SUBMITTER_ID,
        originator_id="9" + settings.BILLING_PROVIDER_NPI[:9],
    )


def cached_check(coverage, service_type="30", *, now=None):
    """The COMPLETE check of `coverage` for `service_type` younger than 24 hours, or None."""
    now = now or timezone.now()
    since = now - datetime.timedelta(hours=EligibilityCheck.CACHE_HOURS)
    return (EligibilityCheck.objects.filter(coverage=coverage, service_type=service_type, status=E.COMPLETE,
                                            completed_at__gt=since).order_by("-completed_at").first())


def eligibility_check(*, coverage, actor, service_type="30", service_date=None, force=False, clearinghouse=None):
    """The eligibility of `coverage` for `service_type` on `service_date` (default today).

    Without `force`, a COMPLETE check younger than 24 hours is returned as it is (the cache).
    Otherwise: a PENDING check with the next interchange control number is committed, the 270
    is built and sent through the clearinghouse (outside any transaction: no lock is held
    while the payer answers), and the 271 read. PENDING -> COMPLETE with the parsed result and
    the outcome (ACTIVE, INACTIVE, REJECTED, UNKNOWN), or PENDING -> FAILED with the reason in
    words when the clearinghouse cannot be reached or the 271 is malformed (nothing stored as
    a result). Each read and write of the check is audited. Returns the check."""
    if not coverage.is_active:
        raise ValidationFailed({"coverage": ["This coverage was removed; add the patient's current card."]})
    service_date = service_date or _today()
    if not force:
        cached = cached_check(coverage, service_type)
        if cached is not None:
            record("read", cached, detail={"cached": True})
            return cached
    with transaction.atomic():
        check = EligibilityCheck.objects.create(
            coverage=coverage, patient_id=coverage.patient_id, service_type=service_type, service_date=service_date,
            control_number=_next_control_number(), requested_by=user_actor(actor))
        record_event(check, actor=actor, reason="Eligibility requested", data={"service_type": service_type})
    inquiry = inquiry_for(coverage, service_type=service_type, service_date=service_date,
                          trace_number=f"ELIG{check.control_number:09d}")
    failure, answer = "", None
    try:
        text = build_270(inquiry, interchange_number=check.control_number, test=settings.BILLING_CLEARINGHOUSE_TEST_MODE)
        answers = parse_271((clearinghouse or active_clearinghouse()).exchange(text))
        # One inquiry, one transaction set; a payer that answers several echoes our trace.
        answer = next((a for a in answers if a.trace_number == inquiry.trace_number), answers[0])
    except ClearinghouseUnavailable as exc:
        failure = f"The clearinghouse could not be reached: {exc}"
    except X12Error as exc:
        failure = f"The payer's answer could not be read: {exc}"
    with transaction.atomic():
        check = lock(EligibilityCheck, check.pk)
        if answer is None:
            move(check, E.FAILED, actor=actor, reason="Eligibility failed", message=failure[:500], completed_at=timezone.now())
        else:
            move(check, E.COMPLETE, actor=actor, reason="Eligibility answered", completed_at=timezone.now(),
                 outcome=answer.status, result=answer.as_dict(), message=answer.message[:500])
    return check


def eligibility_recheck_tomorrow(*, now=None, clearinghouse=None):
    """The nightly job: for every active coverage of a patient with a visit tomorrow (clinic
    time) that is not cancelled, a fresh check unless one younger than 24 hours exists (a
    second run the same night does nothing). Returns {"checked": n, "cached": m, "failed": k}."""
    now = now or timezone.now()
    zone = clinic_zone()
    tomorrow = now.astimezone(zone).date() + datetime.timedelta(days=1)
    start = datetime.datetime.combine(tomorrow, datetime.time.min, tzinfo=zone)
    end = start + datetime.timedelta(days=1)
    patients = (Visit.objects.filter(start__gte=start, start__lt=end)
                .exclude(status__in=[Visit.Status.CANCELLED, Visit.Status.COMPLETED]).values("patient_id"))
    counts = {"checked": 0, "cached": 0, "failed": 0}
    for coverage in Coverage.objects.filter(patient_id__in=patients, is_active=True).select_related("payer", "patient"):
        if not coverage.covers(tomorrow):
            continue
        if cached_check(coverage, now=now) is not None:
            counts["cached"] += 1
            continue
        check = eligibility_check(coverage=coverage, actor=None, service_date=tomorrow, force=True, clearinghouse=clearinghouse)
        counts["failed" if check.status == E.FAILED else "checked"] += 1
    return counts

