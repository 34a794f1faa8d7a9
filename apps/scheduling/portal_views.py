"""The patient portal's schedule pages (/portal/schedule/...): parse input, call a selector or
a service, render. Domain errors become form errors or a message page with the same status
code (409 for a slot taken or an offer gone, 400 for a rule such as the cancellation
window): each view says how it answers a refusal (core.pages.on_error) before it calls the
service, and core's DomainErrorMiddleware draws that answer; a request or visit that is not
the patient's is the 404 page. Every page that shows request or visit data writes audit rows."""
import datetime
import logging

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from apps.audit.services import record, record_many
from apps.core import pages
from apps.core.exceptions import InvalidTransition, NotFound, ValidationFailed
from apps.core.transitions import can_transition
from apps.patients.decorators import patient_required
from apps.scheduling import hooks, selectors, services
from apps.scheduling.exceptions import CancellationWindowClosed, HoldExpired, OfferExpired, OfferNotOpen
from apps.scheduling.models import Severity, Visit, VisitRequest
from apps.scheduling.portal_forms import (
    AcceptOfferForm, BookingConfirmForm, CancelRequestForm, CancelVisitForm, DeclineOfferForm, SlotChoiceForm, SlotSearchForm,
    VisitRequestForm,
)
from apps.scheduling.triage import EMERGENCY_INSTRUCTIONS

PAST_PAGE_SIZE = 10
HOLDS_SESSION_KEY = "portal_booking_holds"
T = "scheduling/portal/"
logger = logging.getLogger(__name__)


def _request_or_404(request, request_id):
    """The patient's own request (NotFound, the 404 page, for anyone else's)."""
    return selectors.access_visit_request_for_patient(request.user, request_id)


def _visit_or_404(request, visit_id):
    """The patient's own visit (NotFound, the 404 page, for anyone else's)."""
    return selectors.access_visit_for_patient(request.user, visit_id)


def _problem(request, exc, *, title, back_url, back_label, extra=None):
    """A domain error as a page, with the error's status code (409 conflict, 400 rule): core's
    problem page in the portal's own template (its subnav, the emergency instructions)."""
    return pages.problem(request, exc, title=title, back_url=back_url, back_label=back_label, template=T + "problem.html",
                         extra={"emergency": exc.code == "emergency_care_required",
                                "EMERGENCY_INSTRUCTIONS": EMERGENCY_INSTRUCTIONS, **(extra or {})})


def _invalid(form):
    """A form's errors as a refusal (400) whose message names each field."""
    fields = {name: list(errors) for name, errors in form.errors.items()}
    message = " ".join(f"{form.fields[name].label if name in form.fields else name}: {' '.join(errors)}"
                       for name, errors in fields.items())
    return ValidationFailed(fields, message=message)


def _booking_estimate(request, *, visit_type, slot):
    """What an app above answers to scheduling's booking_estimate hook for this visit (billing:
    the patient's estimated share), or None. The estimate is a courtesy on a page whose job is
    booking: a receiver that raises is logged and the page shows no estimate (never a 500)."""
    if visit_type is None or slot is None or not hooks.booking_estimate:
        return None
    try:
        return hooks.booking_estimate.first(patient=request.patient, visit_type=visit_type, slot=slot, actor=request.user)
    except Exception:
        logger.exception("booking_estimate receiver failed (slot %s); the page shows no estimate", slot.pk)
        return None


# --- overview -------------------------------------------------------------------------------

@patient_required
def schedule_home(request):
    patient, now = request.patient, timezone.now()
    upcoming = list(selectors.portal_upcoming_visits(patient, now=now))
    past_page = Paginator(selectors.portal_past_visits(patient, now=now), PAST_PAGE_SIZE).get_page(request.GET.get("page"))
    past = list(past_page.object_list)
    open_requests = selectors.portal_open_requests(patient)
    offers = [r for r in open_requests if r.status == VisitRequest.Status.AWAITING_PATIENT_CONFIRMATION]
    pending = [r for r in open_requests if r.status != VisitRequest.Status.AWAITING_PATIENT_CONFIRMATION]
    record_many("read", [*upcoming, *past, *open_requests], detail={"view": "portal_schedule"})
    return render(request, T + "home.html", {
        "upcoming": upcoming, "past": past, "page": past_page, "offers": offers, "pending": pending,
        "emergency": any(r.severity == Severity.RED for r in open_requests), "now": now,
        "EMERGENCY_INSTRUCTIONS": EMERGENCY_INSTRUCTIONS,
    })


# --- requests -------------------------------------------------------------------------------

@patient_required
def request_start(request):
    return render(request, T + "request_start.html", {"can_book": selectors.self_bookable_visit_types().exists()})


@patient_required
@require_http_methods(["GET", "POST"])
def request_create(request, kind):
    walk_in = kind == "walk-in"
    form = VisitRequestForm(request.POST or None, walk_in=walk_in)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            create = services.visit_request_create_walk_in if walk_in else services.visit_request_create
            # A refusal goes on the form: field errors on their fields (400), others at the top.
            pages.on_error(request, lambda exc: _request_form(request, form, walk_in, exc.status_code), form=form)
            outcome = create(patient=request.patient, actor=request.user, **form.service_kwargs())
            return redirect("portal_schedule_request", request_id=outcome.request.pk)
    return _request_form(request, form, walk_in, status)


def _request_form(request, form, walk_in, status):
    return render(request, T + "request_form.html", {"form": form, "walk_in": walk_in}, status=status)


@patient_required
def request_detail(request, request_id):
    visit_request = _request_or_404(request, request_id)
    record("read", visit_request, detail={"view": "portal_request"})
    visit = Visit.objects.filter(request=visit_request).select_related("location", "visit_type", "provider__user").first()
    can_book = (visit_request.severity == Severity.GREEN and visit_request.request_type == VisitRequest.Type.SCHEDULED
                and visit_request.status in (VisitRequest.Status.NEW, VisitRequest.Status.TRIAGED)
                and selectors.self_bookable_visit_types().exists())
    return render(request, T + "request_detail.html", {
        "req": visit_request, "visit": visit, "can_book": can_book,
        "can_cancel": can_transition(VisitRequest, visit_request.status, VisitRequest.Status.CANCELLED),
        "EMERGENCY_INSTRUCTIONS": EMERGENCY_INSTRUCTIONS,
        "yellow_hours": settings.SCHEDULING_YELLOW_WITHIN_HOURS,
    })


@patient_required
@require_POST
def request_cancel(request, request_id):
    visit_request = _request_or_404(request, request_id)

    def refused(exc):
        record("read", visit_request, detail={"view": "portal_request_cancel"})
        back = reverse("portal_schedule_request", args=[visit_request.pk])
        return _problem(request, exc, title="This request cannot be cancelled", back_url=back, back_label="Back to the request")

    pages.on_error(request, refused)
    form = CancelRequestForm(request.POST)
    if not form.is_valid():
        return refused(_invalid(form))
    services.visit_request_cancel(request=visit_request, actor=request.user, reason=form.cleaned_data["reason"])
    messages.success(request, "Your request was cancelled.")
    return redirect("portal_schedule")


# --- offers ---------------------------------------------------------------------------------

def _offer_problem(request, visit_request, exc):
    visit = Visit.objects.filter(request=visit_request).first()
    if visit is not None:
        back_url, back_label = reverse("portal_schedule_visit", args=[visit.pk]), "See your booked visit"
    else:
        back_url, back_label = reverse("portal_schedule_request", args=[visit_request.pk]), "Back to your request"
    return _problem(request, exc, title="This offer is no longer open", back_url=back_url, back_label=back_label)


@patient_required
@require_http_methods(["GET", "POST"])
def offer(request, request_id):
    visit_request = _request_or_404(request, request_id)
    record("read", visit_request, detail={"view": "portal_offer"})
    now = timezone.now()
    # Shown as 409 before the expiry job has run too: the services refuse it the same way.
    if visit_request.status != VisitRequest.Status.AWAITING_PATIENT_CONFIRMATION:
        return _offer_problem(request, visit_request, OfferNotOpen())
    if visit_request.offer_expires_at <= now:
        return _offer_problem(request, visit_request, OfferExpired())
    slots = [s for s in selectors.holds_for_request(visit_request) if s.held_until > now]
    if not slots:
        return _offer_problem(request, visit_request, OfferExpired())
    forms = {"accept": AcceptOfferForm(slots=slots), "decline": DeclineOfferForm()}
    if request.method != "POST":
        return _offer_page(request, visit_request, slots, forms, 200)

    def refused(exc):
        # The offer is gone (expired, declined, taken): a page of its own. Any other refusal
        # goes on the accept form, at its status.
        if exc.status_code == 409:
            return _offer_problem(request, visit_request, exc)
        pages.form_error(forms["accept"], exc)
        return _offer_page(request, visit_request, slots, forms, exc.status_code)

    if request.POST.get("action") == "decline":
        forms["decline"] = DeclineOfferForm(request.POST)
        if forms["decline"].is_valid():
            pages.on_error(request, refused)
            services.visit_request_decline_offer(request=visit_request, actor=request.user,
                                                 reason=forms["decline"].cleaned_data["reason"])
            messages.info(request, "You declined the offered times. The clinic will be in touch with other times.")
            return redirect("portal_schedule_request", request_id=visit_request.pk)
    else:
        forms["accept"] = AcceptOfferForm(request.POST, slots=slots)
        if forms["accept"].is_valid():
            pages.on_error(request, refused)
            visit = services.visit_request_accept_offer(request=visit_request, slot=forms["accept"].cleaned_data["slot"],
                                                        actor=request.user)
            messages.success(request, "Your visit is booked.")
            return redirect("portal_schedule_visit", visit_id=visit.pk)
    return _offer_page(request, visit_request, slots, forms, 400)


def _offer_page(request, visit_request, slots, forms, status):
    # One estimate for the offer: the times share the request's visit type (and, in practice,
    # the plan year); the first one dates the fee and the coverage. Only on the GET: a refused
    # POST writes nothing (an eligibility check, its audit row), and the patient saw it already.
    estimate = _booking_estimate(request, visit_type=visit_request.visit_type, slot=slots[0]) if request.method == "GET" else None
    return render(request, T + "offer.html", {
        "req": visit_request, "slots": slots, "accept_form": forms["accept"], "decline_form": forms["decline"],
        "estimate": estimate,
    }, status=status)


# --- direct booking -------------------------------------------------------------------------

def _holds(request):
    return request.session.get(HOLDS_SESSION_KEY, {})


def _remember_hold(request, slot, *, visit_type, visit_request):
    now = timezone.now()
    holds = {k: v for k, v in _holds(request).items()
             if datetime.datetime.fromisoformat(v["until"]) > now - datetime.timedelta(hours=1)}
    holds[str(slot.pk)] = {"token": str(slot.hold_token), "visit_type": str(visit_type.pk),
                           "request": str(visit_request.pk) if visit_request else "", "until": slot.held_until.isoformat()}
    request.session[HOLDS_SESSION_KEY] = holds


def _booking_request(request, request_id):
    """The GREEN request a booking is made for, when one is given (the patient's own)."""
    if not request_id:
        return None
    return _request_or_404(request, request_id)


def _slot_listing(form, *, visit_type=None, exclude_slot_id=None):
    data = form.cleaned_data
    visit_type = visit_type or data["visit_type"]
    day = data["day"]
    slots = selectors.free_slots_on_day(day=day, visit_type=visit_type, provider=data.get("provider"), exclude_slot_id=exclude_slot_id)
    following = None
    if not slots:
        following = selectors.next_free_slot(after_day=day, visit_type=visit_type, provider=data.get("provider"),
                                             exclude_slot_id=exclude_slot_id)
    return visit_type, slots, following


def _query_with_day(data, day):
    """The slot search's query string, moved to `day`."""
    query = QueryDict(mutable=True)
    for key in ("visit_type", "provider", "request"):
        if data.get(key):
            query[key] = str(data[key])
    query["day"] = day.isoformat()
    return query.urlencode()


@patient_required
@require_http_methods(["GET", "POST"])
def book(request):
    patient = request.patient
    visit_types = selectors.self_bookable_visit_types()
    source = request.POST if request.method == "POST" else request.GET
    visit_request = _booking_request(request, source.get("request"))
    if visit_request is not None:
        record("read", visit_request, detail={"view": "portal_book"})
    if request.method == "POST":
        choice = SlotChoiceForm(request.POST)
        if not choice.is_valid() or not choice.cleaned_data["visit_type"]:
            return redirect(request.path)
        visit_type = visit_types.filter(pk=choice.cleaned_data["visit_type"]).first()
        back = request.POST.get("back") or reverse("portal_schedule_book")
        if not back.startswith("/portal/schedule/book/"):
            back = reverse("portal_schedule_book")

        def refused(exc):
            title = "That time was just taken" if exc.status_code == 409 else "This time cannot be booked"
            return _problem(request, exc, title=title, back_url=back, back_label="Choose another time")

        if visit_type is None:
            return refused(NotFound("That visit type cannot be booked online."))
        pages.on_error(request, refused)
        slot = selectors.access_slot(request.user, choice.cleaned_data["slot"])
        slot = services.booking_hold(patient=patient, slot=slot, visit_type=visit_type, request=visit_request,
                                     actor=request.user)
        _remember_hold(request, slot, visit_type=visit_type, visit_request=visit_request)
        return redirect("portal_schedule_book_confirm", slot_id=slot.pk)

    emergency = selectors.patient_has_open_emergency(patient)
    first_type = visit_types.first()
    if "day" in request.GET:
        data = request.GET
    else:
        # Without a query, list the first day with free times of the first type at once.
        data = {"day": timezone.localdate().isoformat(), "visit_type": first_type.pk if first_type else ""}
        first_free = first_type and selectors.next_free_slot(after_day=timezone.localdate() - datetime.timedelta(days=1),
                                                             visit_type=first_type)
        if first_free:
            data["day"] = first_free.local_start().date().isoformat()
    form = SlotSearchForm(data, visit_types=visit_types)
    visit_type = slots = following = None
    if first_type is not None and form.is_valid() and not emergency:
        visit_type, slots, following = _slot_listing(form)
    return render(request, T + "book.html", {
        "form": form, "visit_type": visit_type, "slots": slots, "following": following, "req": visit_request,
        "emergency": emergency, "EMERGENCY_INSTRUCTIONS": EMERGENCY_INSTRUCTIONS, "has_types": visit_types.exists(),
        "next_day_query": _query_with_day(
            {"visit_type": data.get("visit_type"), "provider": data.get("provider"), "request": getattr(visit_request, "pk", "")},
            following.local_start().date()) if following else "",
        "back": request.get_full_path(),
    }, status=200 if form.is_valid() or first_type is None else 400)


@patient_required
@require_http_methods(["GET", "POST"])
def book_confirm(request, slot_id):
    patient = request.patient
    hold = _holds(request).get(str(slot_id))
    back = reverse("portal_schedule_book")
    if request.method == "POST":
        form = BookingConfirmForm(request.POST)
        if not form.is_valid():
            return redirect("portal_schedule_book_confirm", slot_id=slot_id)
        key = form.cleaned_data["idempotency_key"]

        def refused(exc):
            title = "That time is no longer held for you" if exc.status_code == 409 else "This visit cannot be booked"
            return _problem(request, exc, title=title, back_url=back, back_label="Choose another time")

        pages.on_error(request, refused)
        # A repeated submit (double click, reload) returns the visit the first one made.
        visit = services.visit_for_idempotency_key(patient=patient, key=key, slot=slot_id)
        if visit is None:
            if hold is None:
                return refused(HoldExpired())
            visit_type = selectors.self_bookable_visit_types().filter(pk=hold["visit_type"]).first()
            visit_request = _booking_request(request, hold["request"])
            if visit_type is None:
                return refused(NotFound("That visit type cannot be booked online."))
            visit = services.booking_confirm(patient=patient, slot=slot_id, hold_token=hold["token"],
                                             visit_type=visit_type, idempotency_key=key, request=visit_request,
                                             actor=request.user)
        messages.success(request, "Your visit is booked.")
        return redirect("portal_schedule_visit", visit_id=visit.pk)

    slot = selectors.direct_hold_for_patient(request.user, slot_id, token=hold["token"]) if hold is not None else None
    if slot is None:
        return _problem(request, HoldExpired(), title="This time is no longer held for you", back_url=back,
                        back_label="Choose another time")
    visit_type = selectors.self_bookable_visit_types().filter(pk=hold["visit_type"]).first()
    return render(request, T + "book_confirm.html", {
        "slot": slot, "visit_type": visit_type, "form": BookingConfirmForm(), "req_id": hold["request"],
        "estimate": _booking_estimate(request, visit_type=visit_type, slot=slot),
    })


@patient_required
@require_POST
def book_release(request, slot_id):
    hold = _holds(request).pop(str(slot_id), None)
    if hold is not None:
        # False when the hold is already gone (expired, booked): nothing to release.
        services.booking_release(patient=request.patient, slot=slot_id, hold_token=hold["token"], actor=request.user)
        request.session.modified = True
    messages.info(request, "The time was released.")
    return redirect("portal_schedule_book")


# --- visits ---------------------------------------------------------------------------------

def _change_allowed(visit, now):
    return visit.status == Visit.Status.PLANNED and now < selectors.visit_change_deadline(visit)


@patient_required
def visit_detail(request, visit_id):
    visit = _visit_or_404(request, visit_id)
    record("read", visit, detail={"view": "portal_visit"})
    now = timezone.now()
    return render(request, T + "visit_detail.html", {
        "visit": visit, "can_change": _change_allowed(visit, now), "deadline": selectors.visit_change_deadline(visit),
        "is_future": visit.start > now, "window_hours": settings.SCHEDULING_CANCELLATION_WINDOW_HOURS,
    })


def _window_closed_page(request, visit, status):
    return render(request, T + "window_closed.html", {
        "visit": visit, "window_hours": settings.SCHEDULING_CANCELLATION_WINDOW_HOURS,
        "deadline": selectors.visit_change_deadline(visit),
    }, status=status)


def _not_changeable(request, visit):
    """A visit that is not PLANNED (cancelled, done) cannot be moved or cancelled: 409."""
    exc = InvalidTransition(f"This visit is {visit.get_status_display().lower()}; it cannot be changed.")
    return _problem(request, exc, title="This visit cannot be changed",
                    back_url=reverse("portal_schedule_visit", args=[visit.pk]), back_label="Back to the visit")


@patient_required
@require_http_methods(["GET", "POST"])
def visit_reschedule(request, visit_id):
    visit = _visit_or_404(request, visit_id)
    record("read", visit, detail={"view": "portal_visit_reschedule"})
    now = timezone.now()
    if visit.status != Visit.Status.PLANNED or visit.slot_id is None:
        return _not_changeable(request, visit)
    if request.method == "POST":
        choice = SlotChoiceForm(request.POST)
        if not choice.is_valid():
            return redirect(request.path)
        back = request.POST.get("back") or request.path
        if not back.startswith(request.path):
            back = request.path

        def refused(exc):
            if isinstance(exc, CancellationWindowClosed):
                return _window_closed_page(request, visit, exc.status_code)
            title = "That time was just taken" if exc.status_code == 409 else "The visit cannot move to that time"
            return _problem(request, exc, title=title, back_url=back, back_label="Choose another time")

        pages.on_error(request, refused)
        visit = services.visit_reschedule(visit=visit, new_slot=choice.cleaned_data["slot"], actor=request.user,
                                          reason="Moved by the patient online")
        messages.success(request, "Your visit has moved.")
        return redirect("portal_schedule_visit", visit_id=visit.pk)

    if not _change_allowed(visit, now):
        return _window_closed_page(request, visit, 200)
    # Without a query, list the times on the visit's own day (same provider) at once.
    day = max(visit.start.astimezone(visit.location.tzinfo).date(), timezone.localdate())
    data = request.GET if "day" in request.GET else {"day": day.isoformat(), "provider": visit.provider_id}
    form = SlotSearchForm(data, fixed_visit_type=visit.visit_type)
    slots = following = None
    if form.is_valid():
        _, slots, following = _slot_listing(form, visit_type=visit.visit_type, exclude_slot_id=visit.slot_id)
    return render(request, T + "reschedule.html", {
        "visit": visit, "form": form, "slots": slots, "following": following,
        "next_day_query": _query_with_day(data, following.local_start().date()) if following else "",
        "back": request.get_full_path(),
    }, status=200 if form.is_valid() else 400)


@patient_required
@require_http_methods(["GET", "POST"])
def visit_cancel(request, visit_id):
    visit = _visit_or_404(request, visit_id)
    record("read", visit, detail={"view": "portal_visit_cancel"})
    if visit.status != Visit.Status.PLANNED:
        return _not_changeable(request, visit)
    form = CancelVisitForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        def refused(exc):
            if isinstance(exc, CancellationWindowClosed):
                # The domain's status for this rule (400): same as the API.
                return _window_closed_page(request, visit, exc.status_code)
            return _problem(request, exc, title="This visit cannot be cancelled",
                            back_url=reverse("portal_schedule_visit", args=[visit.pk]), back_label="Back to the visit")

        pages.on_error(request, refused)
        services.visit_cancel(visit=visit, actor=request.user, reason=form.cleaned_data["reason"])
        messages.success(request, "Your visit was cancelled.")
        return redirect("portal_schedule")
    if not _change_allowed(visit, timezone.now()):
        return _window_closed_page(request, visit, 200)
    return render(request, T + "cancel.html", {"visit": visit, "form": form}, status=400 if form.errors else 200)
