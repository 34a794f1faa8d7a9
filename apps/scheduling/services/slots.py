"""Slot generation from availability, time off, blocking."""
import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.core.exceptions import Conflict, ValidationFailed
from apps.scheduling.models import AvailabilityException, Provider, SlotEvent, VisitRequest, VisitSlot
from apps.scheduling.services._common import lock, notify_patient, request_move, slot_move

UTC = datetime.timezone.utc


@dataclass
class GenerationResult:
    created: int = 0
    blocked: int = 0


def _local_slot_starts(window, day, tz):
    """Wall-clock starts of `window` on local `day`, as aware UTC datetimes. Times that do
    not exist that day (the spring-forward gap) are skipped; ambiguous times (fall-back)
    take their first occurrence, so each wall-clock slot exists once."""
    step = datetime.timedelta(minutes=window.slot_minutes)
    cursor = datetime.datetime.combine(day, window.start_time)
    last_start = datetime.datetime.combine(day, window.end_time) - step
    while cursor <= last_start:
        aware = cursor.replace(tzinfo=tz, fold=0)
        as_utc = aware.astimezone(UTC)
        if as_utc.astimezone(tz).replace(tzinfo=None) == cursor:  # exists on this day
            yield as_utc
        cursor += step


def slots_generate(*, days=None, providers=None, now=None):
    """Materialise FREE slots for the next `days` days (SCHEDULING_HORIZON_DAYS) from each
    active provider's weekly windows, in the window location's timezone, stored in UTC, minus
    time off. Idempotent: existing slots (whatever their status) are never changed or
    duplicated, because rows that would collide with unique (provider, start) are skipped by
    bulk_create(ignore_conflicts=True). FREE slots inside time off become BLOCKED."""
    now = now or timezone.now()
    days = settings.SCHEDULING_HORIZON_DAYS if days is None else days
    result = GenerationResult()
    qs = Provider.objects.filter(is_active=True).prefetch_related("windows__location", "exceptions")
    if providers is not None:
        qs = qs.filter(pk__in=[getattr(p, "pk", p) for p in providers])
    horizon_end = now + datetime.timedelta(days=days + 1)
    for provider in qs:
        away = [(e.start, e.end) for e in provider.exceptions.all() if e.end > now]
        wanted = {}
        for window in provider.windows.all():
            if not window.location.is_active:
                continue
            tz = window.location.tzinfo
            today = now.astimezone(tz).date()
            for offset in range(days):
                day = today + datetime.timedelta(days=offset)
                if not window.applies_on(day):
                    continue
                for start in _local_slot_starts(window, day, tz):
                    end = start + datetime.timedelta(minutes=window.slot_minutes)
                    if start <= now or any(a < end and b > start for a, b in away):
                        continue
                    wanted.setdefault(start, VisitSlot(
                        provider=provider, location=window.location, start=start, end=end, mode=window.mode,
                    ))
        if wanted:
            existing = set(VisitSlot.objects.filter(provider=provider, start__in=list(wanted)).values_list("start", flat=True))
            new = [slot for start, slot in wanted.items() if start not in existing]
            # ignore_conflicts: a concurrent run (or a slot made meanwhile) loses quietly to the
            # unique constraint instead of failing the whole batch.
            VisitSlot.objects.bulk_create(new, batch_size=500, ignore_conflicts=True)
            result.created += len(new)
        for start, end in away:
            if start < horizon_end:
                result.blocked += _block_free_slots(provider, start, end, reason="Provider time off")
    return result


@transaction.atomic
def _block_free_slots(provider, start, end, *, reason, actor=None):
    slots = list(VisitSlot.objects.select_for_update().filter(provider=provider, status=VisitSlot.Status.FREE).overlapping(start, end))
    if not slots:
        return 0
    ids = [s.pk for s in slots]
    VisitSlot.objects.filter(pk__in=ids, status=VisitSlot.Status.FREE).update(status=VisitSlot.Status.BLOCKED, updated_at=timezone.now())
    SlotEvent.objects.bulk_create([
        SlotEvent(slot_id=pk, actor=actor, from_status=VisitSlot.Status.FREE, to_status=VisitSlot.Status.BLOCKED, reason=reason)
        for pk in ids
    ])
    return len(ids)


@transaction.atomic
def availability_exception_create(*, provider, start, end, reason="", actor=None):
    """Record time off for `provider` and BLOCK the FREE slots inside it. HELD and BOOKED
    slots are left alone and returned, so staff can move those visits. Returns
    (exception, conflicting_slots)."""
    if end <= start:
        raise ValidationFailed({"end": ["Time off must end after it starts."]})
    exception = AvailabilityException.objects.create(provider=provider, start=start, end=end, reason=reason, created_by=actor)
    _block_free_slots(provider, start, end, reason=f"Time off: {reason}"[:300] if reason else "Time off", actor=actor)
    conflicts = list(
        VisitSlot.objects.filter(provider=provider, status__in=[VisitSlot.Status.HELD, VisitSlot.Status.BOOKED]).overlapping(start, end)
    )
    return exception, conflicts


@transaction.atomic
def slot_block(*, slot, actor, reason=""):
    """FREE or HELD -> BLOCKED (staff). Blocking a slot held for an offer takes it out of the
    offer; when it was the offer's last slot, the request goes back to TRIAGED and the
    patient is told."""
    # Lock order everywhere: request before its slots (accept and the expiry job do the same).
    held_for = VisitSlot.objects.filter(pk=slot.pk).values_list("held_for_request_id", flat=True).first()
    request = lock(VisitRequest, held_for) if held_for else None
    slot = lock(VisitSlot, slot.pk)
    if slot.held_for_request_id != held_for:
        raise Conflict("The slot changed meanwhile; try again.", code="stale_state")
    slot_move(slot, VisitSlot.Status.BLOCKED, actor=actor, reason=reason or "Blocked by staff", request=request)
    if request is not None and request.status == VisitRequest.Status.AWAITING_PATIENT_CONFIRMATION:
        if not VisitSlot.objects.held().filter(held_for_request=request).exists():
            offered_at = request.offer_made_at
            request_move(request, VisitRequest.Status.TRIAGED, actor=actor, reason="Offered time withdrawn by staff",
                         offer_expires_at=None, offer_made_at=None, offer_reminded_at=None)
            notify_patient(request.patient, kind="offer_withdrawn", title="An offered time is no longer available",
                           body="The clinic will offer you new times.", link=f"/portal/schedule/requests/{request.pk}/",
                           outbox_key=f"offer_withdrawn:{request.pk}:{int(offered_at.timestamp()) if offered_at else 0}")
    return slot


@transaction.atomic
def slot_unblock(*, slot, actor, reason=""):
    """BLOCKED -> FREE (staff)."""
    slot = lock(VisitSlot, slot.pk)
    return slot_move(slot, VisitSlot.Status.FREE, actor=actor, reason=reason or "Unblocked by staff")
