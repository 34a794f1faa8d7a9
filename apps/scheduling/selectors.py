"""Reads for scheduling. Access checks for this app live here (access_*), through core's access
layer (apps/core/access.py, rules in apps/scheduling/rules.py): missing and not-yours answer
alike (NotFound); staff without the permission get PermissionDenied. Pages and the API record
PHI reads with audit.record*."""
import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Count, DateTimeField, ExpressionWrapper, F, Prefetch, Q
from django.utils import timezone

from apps.core import access
from apps.core.exceptions import NotFound
from apps.core.lookups import get_or_not_found
from apps.scheduling.models import Mode, Provider, Severity, TriageRule, Visit, VisitRequest, VisitSlot, VisitType

STAFF_ALERT_ROLES = ("front_desk", "nurse", "provider")
SCHEDULING_DESK_ROLES = ("front_desk", "nurse")

# What each page and answer shows of a request, a visit, a slot: loaded with the row.
REQUEST_RELATED = ("patient", "visit_type", "location")
VISIT_RELATED = ("patient", "slot", "provider__user", "visit_type", "location")
SLOT_RELATED = ("provider__user", "location")


def _get_or_404(qs, pk):
    return get_or_not_found(qs, pk=pk)


# --- access ---------------------------------------------------------------------------------
# Portal pages ask *_for_patient (the signed-in patient's own rows; staff and anyone else:
# NotFound), staff pages *_for_staff (staff with the action's permission; anyone else:
# NotFound), the API access_*(actor, id, action) with a user or an API key.

def _for_patient(user, queryset, pk):
    if access.patient_of(user) is None:
        raise NotFound()
    return access.get(user, queryset, pk, access.VIEW)


def _for_staff(user, queryset, pk, action):
    if not access.is_staff(user):
        raise NotFound()
    return access.get(user, queryset, pk, action)


def access_visit_request_for_patient(user, request_id):
    return _for_patient(user, VisitRequest.objects.select_related("patient"), request_id)


def access_visit_request_for_staff(user, request_id, *, action=access.VIEW):
    return _for_staff(user, VisitRequest.objects.select_related(*REQUEST_RELATED), request_id, action)


def access_visit_for_patient(user, visit_id):
    return _for_patient(user, Visit.objects.select_related("slot", "provider__user", "visit_type", "location"), visit_id)


def access_visit_for_staff(user, visit_id, *, action=access.VIEW):
    return _for_staff(user, Visit.objects.select_related(*VISIT_RELATED), visit_id, action)


def access_slot(actor, slot_id, action=access.VIEW):
    """A slot by id for anyone its rule lets look it up: any patient (to book it), staff and
    keys by permission and scope (changing one: action CHANGE)."""
    return access.get(actor, VisitSlot.objects.select_related(*SLOT_RELATED), slot_id, action)


def access_visit_request(actor, request_id, action=access.VIEW):
    """A request by id for the API: staff by the action's permission, keys by its scope."""
    return access.get(actor, VisitRequest.objects.select_related(*REQUEST_RELATED), request_id, action)


def access_visit(actor, visit_id, action=access.VIEW):
    """A visit by id for the API: staff by the action's permission, keys by its scope."""
    return access.get(actor, Visit.objects.select_related("patient", "provider__user", "visit_type", "location"),
                      visit_id, action)


def direct_hold_for_patient(user, slot_id, *, token, now=None):
    """The slot the user's patient holds while confirming a direct booking, with this hold
    token and still before its deadline; None otherwise (expired, released, booked, someone
    else's)."""
    patient = access.patient_of(user)
    if patient is None:
        return None
    now = now or timezone.now()
    held = VisitSlot.objects.held().filter(hold_kind=VisitSlot.HoldKind.DIRECT, held_for_patient=patient,
                                           hold_token=token, held_until__gt=now)
    return access.scope(user, held.select_related(*SLOT_RELATED)).filter(pk=slot_id).first()


# --- people ---------------------------------------------------------------------------------

def staff_users(*, roles):
    """Active staff users holding any of `roles` (group names)."""
    User = get_user_model()
    return User.objects.filter(is_active=True, is_staff=True, groups__name__in=list(roles)).distinct().order_by("pk")


def provider_for_user(user):
    return Provider.objects.filter(user=user, is_active=True).first() if user and user.is_authenticated else None


# --- queues ---------------------------------------------------------------------------------

def walk_in_queue(*, location=None):
    """Walk-ins waiting to be seen: most severe first, then by arrival."""
    qs = VisitRequest.objects.walk_ins().filter(status__in=[VisitRequest.Status.NEW, VisitRequest.Status.TRIAGED])
    if location is not None:
        qs = qs.filter(location=location)
    return qs.select_related("patient", "location").by_urgency()


def triage_queue(*, statuses=(VisitRequest.Status.NEW, VisitRequest.Status.TRIAGED)):
    """Scheduled requests staff have to act on: most severe first, then oldest."""
    return VisitRequest.objects.scheduled().filter(status__in=list(statuses)).select_related("patient", "visit_type").by_urgency()


def requests_awaiting_review():
    return VisitRequest.objects.open().filter(severity=Severity.ORANGE, reviewed_at__isnull=True).select_related("patient").by_urgency()


def active_triage_rules():
    return list(TriageRule.objects.filter(is_active=True))


# --- slots ----------------------------------------------------------------------------------

def free_slots(*, provider=None, location=None, mode=None, visit_type=None, start=None, end=None, now=None):
    """FREE future slots, filtered; with a visit type, only slots it fits (mode, provider
    offers it, long enough)."""
    now = now or timezone.now()
    # One filter() call (each call clones the query; this runs on every slot search).
    conditions = [Q(status=VisitSlot.Status.FREE, start__gt=now)]
    if provider is not None:
        conditions.append(Q(provider=provider))
    if location is not None:
        conditions.append(Q(location=location))
    if mode:
        conditions.append(Q(mode=mode))
    if start is not None:
        conditions.append(Q(start__gte=start))
    if end is not None:
        conditions.append(Q(start__lt=end))
    if visit_type is not None:
        conditions.append(Q(mode=visit_type.mode, provider__visit_types=visit_type, provider__is_active=True,
                            end__gte=_plus_minutes_expression(visit_type.duration_minutes)))
    return VisitSlot.objects.filter(*conditions).select_related("provider__user", "location").order_by("start", "provider_id")


def _plus_minutes_expression(minutes):
    return ExpressionWrapper(F("start") + datetime.timedelta(minutes=minutes), output_field=DateTimeField())


def slot_fits_request(slot, request, *, now):
    """Whether `slot` suits `request`: mode, visit type, provider, location, preferred dates,
    and for YELLOW the expedited window."""
    if slot.start <= now:
        return False
    if request.preferred_mode and slot.mode != request.preferred_mode:
        return False
    if request.preferred_provider_id and slot.provider_id != request.preferred_provider_id:
        return False
    if request.location_id and slot.mode == Mode.IN_PERSON and slot.location_id != request.location_id:
        return False
    vt = request.visit_type
    if vt is not None:
        if vt.mode != slot.mode or slot.duration < datetime.timedelta(minutes=vt.duration_minutes):
            return False
        if not slot.provider.visit_types.filter(pk=vt.pk).exists():
            return False
    if request.severity == Severity.YELLOW and slot.start > now + expedited_window():
        return False
    if request.preferred_dates:
        local_day = slot.start.astimezone(slot.location.tzinfo).date().isoformat()
        if local_day not in {str(d) for d in request.preferred_dates}:
            return False
    return True


def expedited_window():
    return datetime.timedelta(hours=settings.SCHEDULING_YELLOW_WITHIN_HOURS)


def suggested_slots_for_request(request, *, limit=10, now=None):
    """FREE slots staff might offer for `request`: YELLOW ones within the expedited window.
    Preferred dates are a preference here: slots on them come first."""
    now = now or timezone.now()
    qs = free_slots(visit_type=request.visit_type, mode=request.preferred_mode or None, now=now)
    if request.preferred_provider_id:
        qs = qs.filter(provider_id=request.preferred_provider_id)
    if request.severity == Severity.YELLOW:
        qs = qs.filter(start__lte=now + expedited_window())
    slots = list(qs[: limit * 5])
    preferred = {str(d) for d in request.preferred_dates or []}

    def key(slot):
        on_preferred = slot.start.astimezone(slot.location.tzinfo).date().isoformat() in preferred
        return (not on_preferred, slot.start)

    return sorted(slots, key=key)[:limit]


def waitlist_candidates(slot, *, now=None, limit=200):
    """TRIAGED scheduled requests that fit `slot` and were never offered it, best first
    (severity, then age). RED never; ORANGE only once reviewed."""
    now = now or timezone.now()
    offered_before = slot.events.filter(to_status=VisitSlot.Status.HELD, request__isnull=False).values("request_id")
    qs = (
        VisitRequest.objects.scheduled()
        .filter(status=VisitRequest.Status.TRIAGED, visit_type__isnull=False)
        .exclude(severity=Severity.RED)
        .exclude(severity=Severity.ORANGE, reviewed_at__isnull=True)
        .exclude(pk__in=offered_before)
        .select_related("visit_type", "patient")
        .by_urgency()
    )
    return [r for r in qs[:limit] if slot_fits_request(slot, r, now=now)]


def holds_for_request(request):
    return VisitSlot.objects.held().filter(held_for_request=request).select_related("provider__user", "location").order_by("start")


# --- visits ---------------------------------------------------------------------------------

def visits_for_patient(patient, *, upcoming_only=False, now=None):
    qs = Visit.objects.for_patient(patient)
    if upcoming_only:
        qs = qs.upcoming(now or timezone.now())
    return qs.select_related("provider__user", "visit_type", "location").order_by("start")


def provider_day(provider, day, *, tz=None):
    """A provider's slots and visits on one local day (location or given timezone)."""
    tz = tz or timezone.get_current_timezone()
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=tz)
    end = start + datetime.timedelta(days=1)
    slots = VisitSlot.objects.for_provider(provider).between(start, end).order_by("start")
    visits = Visit.objects.for_provider(provider).active().on_day(start, end).select_related("patient", "visit_type")
    return list(slots), list(visits)


def attendance_counts(patient):
    """Late cancels and no-shows of a patient (the spec says they are counted)."""
    return Visit.objects.for_patient(patient).aggregate(
        late_cancels=Count("pk", filter=Q(status=Visit.Status.CANCELLED, late_cancel=True)),
        no_shows=Count("pk", filter=Q(status=Visit.Status.NO_SHOW)),
    )


def slots_with_two_active_visits():
    """Should always be empty (the partial unique constraint); used by checks and tests."""
    return (
        Visit.objects.active().filter(slot__isnull=False).values("slot_id").annotate(n=Count("pk")).filter(n__gt=1)
    )


# --- staff pages (board, day schedule, front desk) ------------------------------------------

def local_day_bounds(day, tz):
    """[start, end) of local `day` in `tz`, as aware datetimes (DST days are 23 or 25 h)."""
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=tz)
    end = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz)
    return start, end


def board_requests(*, request_type, location=None):
    """Open requests of one type for the staff board (awaiting confirmation included, so
    staff see offers being accepted or declined): most severe first, then by arrival. One
    query whatever the number of rows."""
    qs = VisitRequest.objects.open().filter(request_type=request_type)
    if location is not None:
        qs = qs.filter(location=location)
    return qs.select_related("patient", "visit_type", "location").by_urgency()


def board_counts():
    """{"WALK_IN": n, "SCHEDULED": m, "RED": r} for open requests, in one query."""
    open_qs = VisitRequest.objects.open()
    counts = open_qs.aggregate(
        walk_in=Count("pk", filter=Q(request_type=VisitRequest.Type.WALK_IN)),
        scheduled=Count("pk", filter=Q(request_type=VisitRequest.Type.SCHEDULED)),
        red=Count("pk", filter=Q(severity=Severity.RED)),
        new=Count("pk", filter=Q(status=VisitRequest.Status.NEW)),
    )
    return counts


def provider_day_schedule(*, provider, day, tz, location=None):
    """One provider's slots and active visits on local `day` (in `tz`), optionally at one
    location: (slots, visits), two queries whatever their number."""
    start, end = local_day_bounds(day, tz)
    slots = VisitSlot.objects.for_provider(provider).between(start, end).select_related("location")
    visits = Visit.objects.for_provider(provider).active().on_day(start, end).select_related("patient", "visit_type", "location")
    if location is not None:
        slots = slots.filter(location=location)
        visits = visits.filter(location=location)
    return list(slots.order_by("start")), list(visits.order_by("start"))


def front_desk_visits(*, day, tz, location=None):
    """Every visit of local `day` (cancelled ones included, shown struck through), all
    providers, in time order; one query."""
    start, end = local_day_bounds(day, tz)
    qs = Visit.objects.on_day(start, end).select_related("patient", "provider__user", "visit_type", "location")
    if location is not None:
        qs = qs.filter(location=location)
    return qs.order_by("start", "provider_id")


def reschedule_options(visit, *, now=None, days=21, limit=40):
    """FREE slots a planned visit could move to: its visit type fits them, within `days`;
    the same provider's first."""
    now = now or timezone.now()
    slots = list(free_slots(visit_type=visit.visit_type, start=now, end=now + datetime.timedelta(days=days), now=now)[: limit * 3])
    slots.sort(key=lambda s: (s.provider_id != visit.provider_id, s.start))
    return slots[:limit]


def active_providers():
    return Provider.objects.filter(is_active=True).select_related("user")


def scheduling_dashboard_counts(*, now=None):
    """New requests waiting and today's visits (clinic timezone), for the staff dashboard:
    two cheap count queries."""
    now = now or timezone.now()
    start, end = local_day_bounds(timezone.localdate(now), timezone.get_current_timezone())
    return {
        "new_requests": VisitRequest.objects.filter(status=VisitRequest.Status.NEW).count(),
        "visits_today": Visit.objects.active().on_day(start, end).count(),
    }


# --- patient portal -------------------------------------------------------------------------
# Reads behind the portal's schedule pages (apps/scheduling/portal_views.py).

PORTAL_CURRENT_VISIT_STATUSES = [Visit.Status.PLANNED, Visit.Status.CHECKED_IN, Visit.Status.IN_PROGRESS]


def portal_upcoming_visits(patient, *, now=None):
    """Visits still ahead (or under way), soonest first. One query."""
    now = now or timezone.now()
    return (
        Visit.objects.for_patient(patient).filter(status__in=PORTAL_CURRENT_VISIT_STATUSES, end__gte=now)
        .select_related("provider__user", "visit_type", "location").order_by("start", "pk")
    )


def portal_past_visits(patient, *, now=None):
    """Finished, missed and cancelled visits, latest first (paginate it)."""
    now = now or timezone.now()
    current = Q(status__in=PORTAL_CURRENT_VISIT_STATUSES, end__gte=now)
    return (
        Visit.objects.for_patient(patient).exclude(current)
        .select_related("provider__user", "visit_type", "location").order_by("-start", "-pk")
    )


def portal_open_requests(patient, *, limit=50):
    """The patient's open requests, newest first, each with `offered_slots` (the slots held
    for it, soonest first). Two queries whatever the number of requests and slots."""
    held = VisitSlot.objects.held().select_related("provider__user", "location").order_by("start", "pk")
    return list(
        VisitRequest.objects.for_patient(patient).open()
        .select_related("location", "visit_type")
        .prefetch_related(Prefetch("held_slots", queryset=held, to_attr="offered_slots"))
        .order_by("-created_at", "-pk")[:limit]
    )


def patient_has_open_emergency(patient):
    """An open RED request: the portal shows the emergency instructions and books nothing."""
    return VisitRequest.objects.for_patient(patient).open().filter(severity=Severity.RED).exists()


def self_bookable_visit_types():
    """Visit types a patient may book themselves that an active provider offers."""
    return VisitType.objects.filter(is_active=True, self_bookable=True, providers__is_active=True).distinct().order_by("name")


def providers_offering(visit_types):
    """Active providers offering any of `visit_types` (a queryset or list)."""
    return (
        Provider.objects.filter(is_active=True, visit_types__in=visit_types).distinct()
        .select_related("user").order_by("user__full_name", "user__email")
    )


def free_slots_on_day(*, day, visit_type, provider=None, exclude_slot_id=None, now=None):
    """FREE future slots that fit `visit_type` and start on `day` in their location's local
    time. One query: the UTC range is widened by a day each side (any timezone), then the
    local date is checked in Python on the rows already loaded."""
    now = now or timezone.now()
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=datetime.timezone.utc) - datetime.timedelta(days=1)
    qs = free_slots(visit_type=visit_type, provider=provider, start=start, end=start + datetime.timedelta(days=3), now=now)
    if exclude_slot_id is not None:
        qs = qs.exclude(pk=exclude_slot_id)
    return [s for s in qs if s.local_start().date() == day]


def next_free_slot(*, after_day, visit_type, provider=None, exclude_slot_id=None, now=None):
    """The first FREE slot fitting `visit_type` on a day after `after_day` (local date)."""
    start = datetime.datetime.combine(after_day + datetime.timedelta(days=1), datetime.time.min,
                                      tzinfo=datetime.timezone.utc) - datetime.timedelta(hours=14)
    qs = free_slots(visit_type=visit_type, provider=provider, start=start, now=now)
    if exclude_slot_id is not None:
        qs = qs.exclude(pk=exclude_slot_id)
    for slot in qs[:50]:
        if slot.local_start().date() > after_day:
            return slot
    return None


def visit_change_deadline(visit):
    """Until when the patient may cancel or move `visit` online: the cancellation window
    (SCHEDULING_CANCELLATION_WINDOW_HOURS) before its start. Display only; visit_cancel and
    visit_reschedule enforce it."""
    return visit.start - datetime.timedelta(hours=settings.SCHEDULING_CANCELLATION_WINDOW_HOURS)


# --- the integrator API (apps/scheduling/api.py) --------------------------------------------

MAX_SLOT_SEARCH_DAYS = 31


def provider_list():
    """Active providers with the visit types they offer (two queries whatever the count)."""
    return Provider.objects.filter(is_active=True).select_related("user").prefetch_related("visit_types").order_by("user__full_name", "id")


def visit_type_list():
    return VisitType.objects.filter(is_active=True).order_by("name", "id")


def slot_get(slot_id):
    """A slot for an answer, once access was checked (access_slot)."""
    return _get_or_404(VisitSlot.objects.select_related(*SLOT_RELATED), slot_id)


def slot_search(*, start, end, provider=None, visit_type=None, mode=None, location=None, now=None):
    """FREE future slots starting in [start, end) (at most MAX_SLOT_SEARCH_DAYS apart), in
    start order. The API reads them as rows, `.values(*SLOT_SEARCH_COLUMNS)` (what an answer
    shows; joins only the provider's user, for the name, and the location), one query per
    page with the total (apps/core/api/pagination.py). The FREE-only partial indexes of
    migration 0004 serve it: (provider_id, start) for one provider, (start, provider_id) for
    any provider."""
    return free_slots(provider=provider, location=location, mode=mode or None, visit_type=visit_type, start=start, end=end,
                      now=now)


# The row keys are SlotOutput's sources with "__" for "." (its row path renders such rows).
SLOT_SEARCH_COLUMNS = (
    "id", "provider_id", "provider__user__full_name", "location_id", "location__name", "location__timezone",
    "start", "end", "mode", "status",
)


def visit_request_list(*, status=None, severity=None, request_type=None, patient=None, location=None):
    """Visit requests, oldest first, with what the list shows joined in (one query per page);
    `location` (an id) keeps one site's requests (its walk-in queue with type=WALK_IN)."""
    qs = VisitRequest.objects.select_related("patient", "visit_type", "location")
    if status:
        qs = qs.filter(status=status)
    if severity:
        qs = qs.filter(severity=severity)
    if request_type:
        qs = qs.filter(request_type=request_type)
    if patient is not None:
        qs = qs.filter(patient=patient)
    if location is not None:
        qs = qs.filter(location_id=location)
    return qs.order_by("created_at", "id")


def visit_request_get(request_id):
    """A request for an answer, once access was checked (access_visit_request)."""
    return _get_or_404(VisitRequest.objects.select_related(*REQUEST_RELATED), request_id)


def visit_list(*, patient=None, provider=None, day=None, tz=None):
    """Visits in start order; `day` is a local date in `tz` (the clinic's default timezone)."""
    qs = Visit.objects.select_related("patient", "provider__user", "visit_type", "location")
    if patient is not None:
        qs = qs.filter(patient=patient)
    if provider is not None:
        qs = qs.filter(provider=provider)
    if day is not None:
        tz = tz or timezone.get_current_timezone()
        start = datetime.datetime.combine(day, datetime.time.min, tzinfo=tz)
        qs = qs.on_day(start, datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz))
    return qs.order_by("start", "id")


def visit_get(visit_id):
    """A visit for an answer, once access was checked (access_visit)."""
    return _get_or_404(Visit.objects.select_related("patient", "provider__user", "visit_type", "location"), visit_id)


# --- messaging (two-way SMS, reminders) -----------------------------------------------------

def next_planned_visit(patient, *, now=None):
    """The patient's next PLANNED visit still ahead (what a texted C or X is about), or None.
    One query."""
    now = now or timezone.now()
    return (
        Visit.objects.for_patient(patient).upcoming(now).filter(start__gt=now)
        .select_related("location", "visit_type").order_by("start", "pk").first()
    )


def visit_reminder_wanted(*, visit_id, start_at):
    """Should a reminder queued for `visit_id` starting at `start_at` still go out? Only while
    the visit is PLANNED at that time (cancelled, no-show, checked in or moved: no). Asked by
    the messaging sender just before it sends (its reminder_visit_check hook); the
    key stores the start to the second."""
    try:
        return Visit.objects.filter(
            pk=visit_id, status=Visit.Status.PLANNED, start__gte=start_at, start__lt=start_at + datetime.timedelta(seconds=1),
        ).exists()
    except (ValidationError, ValueError):
        return False
