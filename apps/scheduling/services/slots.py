"""Slot generation from availability, time off, blocking."""
import bisect
import datetime
import zoneinfo
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone

from apps.core.exceptions import Conflict, ValidationFailed
from apps.core.transitions import lock, transition_rows
from apps.scheduling.models import AvailabilityException, Provider, SlotEvent, Visit, VisitRequest, VisitSlot
from apps.scheduling.services._common import notify_patient, request_move, slot_move

UTC = datetime.timezone.utc


@dataclass
class GenerationResult:
    created: int = 0  # slots made bookable: new rows, and retired slots brought back
    blocked: int = 0  # FREE slots blocked for time off
    retired: int = 0  # FREE slots that availability no longer produces: deleted, or BLOCKED


# The reason on the SlotEvent of a slot that generation retired by blocking it; for people to
# read. The marker is SlotEvent.retirement: a BLOCKED slot whose last event carries it is
# generation's to bring back; a slot blocked by staff, an API key or for time off never is,
# whatever words they used.
RETIRED_REASON = "No longer in the provider's availability"
RESTORED_REASON = "Back in the provider's availability"


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
    """Bring each provider's slots for the next `days` days (SCHEDULING_HORIZON_DAYS) in line
    with their availability. Run by the nightly job, `manage.py generate_slots`, the API and
    admin edits of availability (apps/scheduling/admin.py); idempotent: a second run changes
    nothing (created=0, retired=0).

    Wanted slots are cut from the weekly windows of an active provider at active locations, in
    the location's timezone (stored in UTC), in the future and outside time off. Each provider
    (`providers`, or every active provider and every inactive one with future FREE slots) is
    handled in one transaction holding its row, so two runs for one provider never interleave:
    - FREE slots inside time off are BLOCKED ("Provider time off").
    - FREE future slots no longer wanted, or whose location, end or mode differ from the wanted
      slot at their start, are retired: deleted when nothing refers to them (no SlotEvent, no
      Visit: never held, blocked or booked), otherwise FREE -> BLOCKED with a RETIRED_REASON
      event. Unwanted slots are retired only before the end of the local days this run covered
      (the earliest end among the timezones involved), never beyond.
    - A BLOCKED slot whose last event is that retirement, at a start wanted again, goes back
      BLOCKED -> FREE with the wanted location, end and mode (a RESTORED_REASON event). Slots
      blocked by staff or for time off are never unblocked here.
    - Wanted starts without a slot get a new FREE one, unless it would overlap a HELD, BOOKED or
      (not retired) BLOCKED slot at another start: a new slot length must not double-book.
    HELD and BOOKED slots are never changed (staff see them as conflicts). Slots are locked
    before they change and moved with conditional UPDATEs on their status, so a slot held or
    booked meanwhile is left alone. No notification or board event is sent. Returns a
    GenerationResult; `created` counts brought-back slots too."""
    now = now or timezone.now()
    days = settings.SCHEDULING_HORIZON_DAYS if days is None else days
    if providers is not None:
        pks = Provider.objects.filter(pk__in=[getattr(p, "pk", p) for p in providers])
    else:
        # Inactive providers too, while they still have FREE slots to retire.
        free_left = VisitSlot.objects.filter(provider=OuterRef("pk"), status=VisitSlot.Status.FREE, start__gt=now)
        pks = Provider.objects.filter(Q(is_active=True) | Exists(free_left))
    result = GenerationResult()
    for pk in pks.order_by("pk").values_list("pk", flat=True):
        _provider_generate(pk, days=days, now=now, result=result)
    return result


@transaction.atomic
def _provider_generate(provider_pk, *, days, now, result):
    # The provider's row lock serialises runs for one provider (the nightly job and an admin
    # edit): the second waits, then reads the availability the first left. FOR NO KEY UPDATE,
    # so bookings (their foreign keys take FOR KEY SHARE on the provider) never wait for it.
    provider = (Provider.objects.select_for_update(no_key=True).filter(pk=provider_pk).order_by("pk")
                .prefetch_related("windows__location", "exceptions").first())
    if provider is None:
        return
    horizon_end = now + datetime.timedelta(days=days + 1)  # beyond every timezone's last covered day
    away = [(e.start, e.end) for e in provider.exceptions.all() if e.end > now]
    for start, end in away:
        if start < horizon_end:
            result.blocked += _block_free_slots(provider, start, end, reason="Provider time off")

    wanted, zones = _wanted_slots(provider, days=days, now=now, away=away) if provider.is_active else ({}, set())
    rows = list(VisitSlot.objects.filter(provider=provider, start__gt=now, start__lt=horizon_end).values_list(
        "pk", "start", "end", "location_id", "mode", "status", "location__timezone", named=True))
    tombstones = _retired_ids([r.pk for r in rows if r.status == VisitSlot.Status.BLOCKED])
    busy = [(r.start, r.end) for r in rows if r.status in (VisitSlot.Status.HELD, VisitSlot.Status.BOOKED)
            or (r.status == VisitSlot.Status.BLOCKED and r.pk not in tombstones)]
    wanted = _not_overlapping(wanted, busy)
    free = [r for r in rows if r.status == VisitSlot.Status.FREE]
    zones |= {r.location__timezone for r in free}
    covered_until = min((_end_of_days(now, tz, days) for tz in zones), default=now)

    def fits(r):
        slot = wanted.get(r.start)
        return slot is not None and (r.end, r.location_id, r.mode) == (slot.end, slot.location_id, slot.mode)

    stale = [r.pk for r in free if not fits(r) and (r.start in wanted or r.start < covered_until)]
    comeback = [r.pk for r in rows if r.pk in tombstones and r.start in wanted]
    # Lock every slot this run may change, in one go and in pk order (as other batch lockers
    # do), before changing any of them.
    locked = dict(VisitSlot.objects.select_for_update().filter(pk__in=stale + comeback).order_by("pk")
                  .values_list("pk", "status"))
    deleted, blocked = _retire_free_slots([pk for pk in stale if locked.get(pk) == VisitSlot.Status.FREE])
    result.retired += len(deleted) + len(blocked)
    row = {r.pk: r for r in rows}
    # A slot held or booked (or blocked by staff) since it was read stays; nothing new may overlap it.
    kept = [(row[pk].start, row[pk].end) for pk in stale if locked.get(pk, VisitSlot.Status.FREE) != VisitSlot.Status.FREE]
    if kept:
        wanted = _not_overlapping(wanted, busy + kept)

    start_of = {pk: r.start for pk, r in row.items()}
    # Retired slots wanted again, and FREE ones just retired for a new shape (their history
    # keeps the row, so the wanted slot takes it over).
    back = [pk for pk in comeback if locked.get(pk) == VisitSlot.Status.BLOCKED] + list(blocked)
    back = [pk for pk in back if start_of[pk] in wanted]
    result.created += _restore_retired_slots({pk: wanted[start_of[pk]] for pk in back})

    taken = {r.start for r in rows if r.pk not in deleted}
    new = [slot for start, slot in wanted.items() if start not in taken]
    # ignore_conflicts: a slot made meanwhile loses quietly to the unique (provider, start)
    # constraint instead of failing the whole batch.
    VisitSlot.objects.bulk_create(new, batch_size=500, ignore_conflicts=True)
    result.created += len(new)


def _wanted_slots(provider, *, days, now, away):
    """{start: unsaved VisitSlot} from the provider's windows at active locations, and the
    timezones they were cut in."""
    wanted, zones = {}, set()
    for window in provider.windows.all():
        if not window.location.is_active:
            continue
        tz = window.location.tzinfo
        zones.add(window.location.timezone)
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
    return wanted, zones


def _end_of_days(now, timezone_name, days):
    """Generation covers the local days today .. today + days - 1: when the last one ends."""
    tz = zoneinfo.ZoneInfo(timezone_name)
    day_after = now.astimezone(tz).date() + datetime.timedelta(days=days)
    return datetime.datetime.combine(day_after, datetime.time.min).replace(tzinfo=tz)


def _not_overlapping(wanted, busy):
    """`wanted` without the slots that overlap a busy (start, end) period starting at another
    time: after a change of slot length, a new FREE slot must not double-book the provider. (A
    busy slot at the same start keeps it anyway.)"""
    if not busy:
        return wanted
    busy = sorted(busy)
    starts = [start for start, _ in busy]
    longest = max(end - start for start, end in busy)

    def overlaps(slot):
        first = bisect.bisect_right(starts, slot.start - longest)
        last = bisect.bisect_left(starts, slot.end)
        return any(start != slot.start and end > slot.start for start, end in busy[first:last])

    return {start: slot for start, slot in wanted.items() if not overlaps(slot)}


def _retired_ids(slot_ids):
    """Of these slots, the BLOCKED ones whose last event is generation's retirement."""
    if not slot_ids:
        return set()
    last = SlotEvent.objects.filter(slot=OuterRef("pk")).order_by("-at", "-id")
    return set(
        VisitSlot.objects.filter(pk__in=slot_ids, status=VisitSlot.Status.BLOCKED)
        .annotate(last_retirement=Subquery(last.values("retirement")[:1]))
        .filter(last_retirement=True)
        .values_list("pk", flat=True)
    )


def _retire_free_slots(ids):
    """Retire FREE slots the caller has locked: delete those nothing refers to (their event
    trail or a visit, even a cancelled one, keeps the row), block the others. Returns (deleted
    ids, blocked ids)."""
    if not ids:
        return set(), set()
    referred = Exists(SlotEvent.objects.filter(slot=OuterRef("pk"))) | Exists(Visit.objects.filter(slot=OuterRef("pk")))
    kept = set(VisitSlot.objects.filter(pk__in=ids).filter(referred).values_list("pk", flat=True))
    deleted = set(ids) - kept
    if deleted:
        VisitSlot.objects.filter(pk__in=deleted, status=VisitSlot.Status.FREE).delete()
    _block_locked(sorted(kept), reason=RETIRED_REASON, retirement=True)
    return deleted, kept


def _restore_retired_slots(wanted_by_pk):
    """BLOCKED -> FREE, reshaped to the wanted slot, for locked slots whose last event is
    still generation's retirement (checked under the lock: staff may have unblocked and
    blocked one since it was read)."""
    mine = _retired_ids(list(wanted_by_pk))
    slots = list(VisitSlot.objects.filter(pk__in=mine).order_by("pk"))
    if not slots:
        return 0
    stamp = timezone.now()
    # The move itself is one conditional UPDATE through the transitions table (BLOCKED ->
    # FREE); each slot then takes the wanted slot's shape. The rows are locked: all move.
    transition_rows(VisitSlot.objects.filter(pk__in=[slot.pk for slot in slots]), from_status=VisitSlot.Status.BLOCKED,
                    to=VisitSlot.Status.FREE, updated_at=stamp)
    for slot in slots:
        want = wanted_by_pk[slot.pk]
        slot.status, slot.location_id, slot.end, slot.mode = VisitSlot.Status.FREE, want.location_id, want.end, want.mode
    VisitSlot.objects.bulk_update(slots, ["location", "end", "mode"], batch_size=500)
    # Batches keep their own records: one insert for every event row.
    SlotEvent.objects.bulk_create([
        SlotEvent(slot=slot, from_status=VisitSlot.Status.BLOCKED, to_status=VisitSlot.Status.FREE, reason=RESTORED_REASON)
        for slot in slots
    ])
    return len(slots)


@transaction.atomic
def _block_free_slots(provider, start, end, *, reason, actor=None):
    slots = list(VisitSlot.objects.select_for_update().filter(provider=provider, status=VisitSlot.Status.FREE).overlapping(start, end))
    return _block_locked([s.pk for s in slots], reason=reason, actor=actor)


def _block_locked(ids, *, reason, actor=None, retirement=False):
    """FREE -> BLOCKED, with their events, for slots the caller locked while FREE;
    `retirement` marks generation's own blocks (SlotEvent.retirement)."""
    if not ids:
        return 0
    transition_rows(VisitSlot.objects.filter(pk__in=ids), from_status=VisitSlot.Status.FREE, to=VisitSlot.Status.BLOCKED,
                    updated_at=timezone.now())
    # Batches keep their own records: one insert for every event row.
    SlotEvent.objects.bulk_create([
        SlotEvent(slot_id=pk, actor=actor, from_status=VisitSlot.Status.FREE, to_status=VisitSlot.Status.BLOCKED, reason=reason,
                  retirement=retirement)
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
