"""Reads for scheduling. Access checks for this app live here (access_*): missing and
not-yours answer alike (NotFound). Pages and the API record PHI reads with audit.record*."""
import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Count, DateTimeField, ExpressionWrapper, F, Q
from django.utils import timezone

from apps.core.exceptions import NotFound, PermissionDenied
from apps.scheduling.models import Mode, Provider, Severity, TriageRule, Visit, VisitRequest, VisitSlot

STAFF_ALERT_ROLES = ("front_desk", "nurse", "provider")
SCHEDULING_DESK_ROLES = ("front_desk", "nurse")


def _get_or_404(qs, pk):
    try:
        return qs.get(pk=pk)
    except (qs.model.DoesNotExist, ValueError, TypeError, ValidationError):
        raise NotFound()


# --- access ---------------------------------------------------------------------------------

def _patient_of(user):
    from apps.patients.selectors import access_patient_for_user

    return access_patient_for_user(user)


def _require_staff(user, perm):
    if not (user.is_authenticated and user.is_clinic_staff):
        raise NotFound()
    if perm and not user.has_perm(perm):
        raise PermissionDenied()


def access_visit_request_for_patient(user, request_id):
    patient = _patient_of(user)
    return _get_or_404(VisitRequest.objects.filter(patient=patient).select_related("patient"), request_id)


def access_visit_request_for_staff(user, request_id, *, perm="scheduling.view_visitrequest"):
    _require_staff(user, perm)
    return _get_or_404(VisitRequest.objects.select_related("patient", "visit_type", "location"), request_id)


def access_visit_for_patient(user, visit_id):
    patient = _patient_of(user)
    return _get_or_404(Visit.objects.filter(patient=patient).select_related("slot", "provider__user", "visit_type", "location"), visit_id)


def access_visit_for_staff(user, visit_id, *, perm="scheduling.view_visit"):
    _require_staff(user, perm)
    return _get_or_404(Visit.objects.select_related("patient", "slot", "provider__user", "visit_type", "location"), visit_id)


def access_slot(slot_id):
    return _get_or_404(VisitSlot.objects.select_related("provider__user", "location"), slot_id)


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
    qs = VisitSlot.objects.free().upcoming(now)
    if provider is not None:
        qs = qs.filter(provider=provider)
    if location is not None:
        qs = qs.filter(location=location)
    if mode:
        qs = qs.filter(mode=mode)
    if start is not None:
        qs = qs.filter(start__gte=start)
    if end is not None:
        qs = qs.filter(start__lt=end)
    if visit_type is not None:
        qs = qs.filter(mode=visit_type.mode, provider__visit_types=visit_type, provider__is_active=True)
        qs = qs.filter(end__gte=_plus_minutes_expression(visit_type.duration_minutes))
    return qs.select_related("provider__user", "location").order_by("start", "provider_id")


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
