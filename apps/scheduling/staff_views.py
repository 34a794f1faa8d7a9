"""Staff scheduling pages: the live requests board, a request's page (triage, severity
override, provider review, offers, walk-in assignment, cancel), the ORANGE review queue, a
provider's day, the front desk's today, a visit's page (lifecycle, cancel, reschedule) and
slot blocking. Views parse input, call a selector or a service, and render; a service's
refusal becomes a form error (or the page's error line) and the page answers with the
refusal's status code: each view says how before it calls the service (core.pages.on_error)
and core's DomainErrorMiddleware draws it. A request or visit that does not exist is the 404
page; staff without the permission get the 403 page. Every page that shows patient data writes
audit read rows (record_many for lists)."""
import datetime

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.audit.services import record, record_many
from apps.core import access, pages
from apps.core.decorators import staff_required
from apps.core.exceptions import DomainError, ValidationFailed
from apps.scheduling import selectors, services
from apps.scheduling.hooks import staff_visit_links
from apps.scheduling.models import Severity, Visit, VisitRequest, VisitSlot
from apps.scheduling.staff_forms import (
    AssignForm, DayScheduleForm, FrontDeskForm, OfferForm, OverrideSeverityForm, ReasonForm, RescheduleForm,
    ReviewForm, SlotActionForm, TriageForm,
)

PAGE_SIZE = 50
TABS = {"scheduled": VisitRequest.Type.SCHEDULED, "walk-in": VisitRequest.Type.WALK_IN}
S = VisitRequest.Status
V = Visit.Status


def _with_status(exc):
    """A refusal as staff pages show it: its message with the status and code the page answers,
    "That time is no longer available. (409 slot_unavailable)"."""
    return f"{exc.message} ({exc.status_code} {exc.code})"


def _form_error(form, exc):
    """core.pages.form_error, with the status and code after a non-field refusal (field errors
    go on their fields as they are)."""
    pages.form_error(form, exc if isinstance(exc, ValidationFailed) else DomainError(_with_status(exc), code=exc.code))


def _filter_problem(form):
    """A bound filter form's errors as one line naming each field ("Date: Enter a date between
    the years 1800 and 2199."), or None when it is valid or unbound. The page then answers 400
    with the line, showing what the valid filters select."""
    if not form.is_bound or form.is_valid():
        return None
    return " ".join(f"{form.fields[name].label if name in form.fields else name}: {' '.join(errors)}"
                    for name, errors in form.errors.items())


def _next_url(request, default):
    return pages.safe_next(request, default)


# --- the requests board ---------------------------------------------------------------------

def _board_context(request):
    """The board's tab, page and rows; the walk-in tab may show one location's queue
    (?location=<id>: an unknown one is a 400 naming the field, showing every location)."""
    tab = request.GET.get("tab")
    tab = tab if tab in TABS else "scheduled"
    form = FrontDeskForm({"location": request.GET["location"]} if tab == "walk-in" and "location" in request.GET else None)
    problem = _filter_problem(form)
    location = form.cleaned_data.get("location") if form.is_bound and not problem else None
    page = Paginator(selectors.board_requests(request_type=TABS[tab], location=location), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    record_many("read", rows, detail={"view": "staff_request_board"})
    return {"tab": tab, "page": page, "rows": rows, "counts": selectors.board_counts(), "now": timezone.now(),
            "location_form": form, "location": location, "problem": problem}


@staff_required("scheduling.view_visitrequest")
@require_GET
def request_board(request):
    """Open requests, walk-in and scheduled tabs, most severe first then by arrival. With
    ?partial=1 only the board itself (what staff_board.js swaps in on a live event)."""
    context = _board_context(request)
    if context["problem"] and not request.GET.get("partial"):  # the live refresh shows no messages
        messages.error(request, context["problem"])
    template = "scheduling/staff/_board.html" if request.GET.get("partial") else "scheduling/staff/board.html"
    return render(request, template, context, status=400 if context["problem"] else 200)


@staff_required("scheduling.review_visitrequest")
@require_GET
def review_queue(request):
    """ORANGE requests waiting for a provider's review (providers only: the review service
    refuses anyone else, so the page does too)."""
    if selectors.provider_for_user(request.user) is None:
        return render(request, "403.html", status=403)
    page = Paginator(selectors.requests_awaiting_review().select_related("visit_type", "location"), PAGE_SIZE).get_page(
        request.GET.get("page"))
    rows = list(page.object_list)
    record_many("read", rows, detail={"view": "staff_review_queue"})
    return render(request, "scheduling/staff/review_queue.html", {"page": page, "rows": rows, "now": timezone.now()})


# --- one request ------------------------------------------------------------------------------

def _can(user, perm):
    return user.has_perm(f"scheduling.{perm}")


def _request_forms(user, vr, *, bound=None):
    """The action forms this user may use on this request now (a bound form with errors
    replaces its blank twin)."""
    bound = bound or {}
    forms = {}
    is_provider = selectors.provider_for_user(user) is not None
    if vr.status == S.NEW and _can(user, "triage_visitrequest"):
        forms["triage"] = TriageForm(visit_request=vr, can_override=_can(user, "override_severity_visitrequest"))
    if vr.is_open and vr.status != S.NEW and _can(user, "override_severity_visitrequest"):
        forms["override"] = OverrideSeverityForm(visit_request=vr)
    if vr.is_open and vr.severity == Severity.ORANGE and _can(user, "review_visitrequest") and (is_provider or "review" in bound):
        forms["review"] = ReviewForm(visit_request=vr)
    if (vr.request_type == VisitRequest.Type.SCHEDULED and vr.status == S.TRIAGED and _can(user, "offer_slots_visitrequest")
            and vr.severity != Severity.RED) or "offer" in bound:
        suggestions = selectors.suggested_slots_for_request(vr, limit=12) if vr.visit_type_id else []
        forms["offer"] = OfferForm(suggestions=suggestions, tz_name=timezone.get_current_timezone_name())
    if (vr.request_type == VisitRequest.Type.WALK_IN and vr.status in (S.NEW, S.TRIAGED) and _can(user, "offer_slots_visitrequest")
            and vr.severity != Severity.RED):
        forms["assign"] = AssignForm(visit_request=vr)
    if vr.status in (S.NEW, S.TRIAGED) and _can(user, "change_visitrequest"):
        forms["cancel"] = ReasonForm(prefix="cancel")
    forms.update(bound)
    return forms


def _render_request(request, vr, *, bound=None, status=200):
    visit = Visit.objects.filter(request=vr).select_related("provider__user", "location").first()
    context = {
        "vr": vr,
        "forms": _request_forms(request.user, vr, bound=bound),
        "events": list(vr.events.select_related("actor")),
        "held": list(selectors.holds_for_request(vr)) if vr.status == S.AWAITING_PATIENT_CONFIRMATION else [],
        "visit": visit,
        "is_provider": selectors.provider_for_user(request.user) is not None,
        "status_code": status,
    }
    # Logged whenever the page shows the request, including after a refused action.
    record("read", vr, detail={"view": "staff_request_detail"})
    return render(request, "scheduling/staff/request_detail.html", context, status=status)


@staff_required("scheduling.view_visitrequest")
@require_GET
def request_detail(request, request_id):
    vr = selectors.access_visit_request_for_staff(request.user, request_id)
    return _render_request(request, vr)


def _request_action(request, request_id, *, name, make_form, act, success):
    """POST one action form for a request: invalid input 400, a service refusal answers with
    its own status (RED 400, review required 409, slot taken 409, not a provider 403)."""
    vr = selectors.access_visit_request_for_staff(request.user, request_id)
    form = make_form(vr)
    if not form.is_valid():
        return _render_request(request, vr, bound={name: form}, status=400)

    def refused(exc):
        _form_error(form, exc)
        vr.refresh_from_db()
        return _render_request(request, vr, bound={name: form}, status=exc.status_code)

    pages.on_error(request, refused)
    result = act(vr, form)
    messages.success(request, success)
    if isinstance(result, Visit):
        return redirect("staff_scheduling_visit", visit_id=result.pk)
    return redirect("staff_scheduling_request", request_id=vr.pk)


@staff_required("scheduling.triage_visitrequest")
@require_POST
def request_triage(request, request_id):
    can_override = _can(request.user, "override_severity_visitrequest")
    return _request_action(
        request, request_id, name="triage",
        make_form=lambda vr: TriageForm(request.POST, visit_request=vr, can_override=can_override),
        act=lambda vr, f: services.visit_request_triage(
            request=vr, actor=request.user, severity=f.cleaned_data["severity"], reason=f.cleaned_data.get("reason", ""),
            visit_type=f.cleaned_data["visit_type"]),
        success="Request triaged.",
    )


@staff_required("scheduling.override_severity_visitrequest")
@require_POST
def request_override(request, request_id):
    return _request_action(
        request, request_id, name="override",
        make_form=lambda vr: OverrideSeverityForm(request.POST, visit_request=vr),
        act=lambda vr, f: services.visit_request_override_severity(
            request=vr, actor=request.user, severity=f.cleaned_data["severity"], reason=f.cleaned_data["reason"]),
        success="Severity changed; the reason is kept with the request.",
    )


@staff_required("scheduling.review_visitrequest")
@require_POST
def request_review(request, request_id):
    return _request_action(
        request, request_id, name="review",
        make_form=lambda vr: ReviewForm(request.POST, visit_request=vr),
        act=lambda vr, f: services.visit_request_review(
            request=vr, actor=request.user, note=f.cleaned_data["note"], severity=f.cleaned_data["severity"]),
        success="Review saved.",
    )


@staff_required("scheduling.offer_slots_visitrequest")
@require_POST
def request_offer(request, request_id):
    def make_form(vr):
        suggestions = selectors.suggested_slots_for_request(vr, limit=12) if vr.visit_type_id else []
        return OfferForm(request.POST, suggestions=suggestions, tz_name=timezone.get_current_timezone_name())

    return _request_action(
        request, request_id, name="offer", make_form=make_form,
        act=lambda vr, f: services.visit_request_offer_slots(
            request=vr, slots=f.cleaned_data["slots"], actor=request.user, hold_hours=f.hold_hours()),
        success="Times offered; the patient has been notified.",
    )


@staff_required("scheduling.offer_slots_visitrequest")
@require_POST
def request_assign(request, request_id):
    return _request_action(
        request, request_id, name="assign",
        make_form=lambda vr: AssignForm(request.POST, visit_request=vr),
        act=lambda vr, f: services.visit_request_assign_immediate(
            request=vr, provider=f.cleaned_data["provider"], actor=request.user, visit_type=f.cleaned_data["visit_type"]),
        success="Walk-in assigned; the patient has been told they will be seen now.",
    )


@staff_required("scheduling.change_visitrequest")
@require_POST
def request_cancel(request, request_id):
    return _request_action(
        request, request_id, name="cancel",
        make_form=lambda vr: ReasonForm(request.POST, prefix="cancel"),
        act=lambda vr, f: services.visit_request_cancel(request=vr, actor=request.user, reason=f.cleaned_data["reason"]),
        success="Request cancelled.",
    )


# --- a provider's day -------------------------------------------------------------------------

def _day_context(request, *, error=None):
    form = DayScheduleForm(request.GET or None)
    problem = _filter_problem(form)
    data = form.cleaned_data if form.is_bound else {}  # the valid filters, when some are not
    location = data.get("location")
    tz = location.tzinfo if location else timezone.get_current_timezone()
    day = data.get("date") or timezone.now().astimezone(tz).date()
    provider = data.get("provider") or selectors.provider_for_user(request.user) or selectors.active_providers().order_by(
        "user__full_name", "user__email").first()
    rows, visits = [], []
    if provider is not None:
        slots, visits = selectors.provider_day_schedule(provider=provider, day=day, tz=tz, location=location)
        by_slot = {v.slot_id: v for v in visits if v.slot_id}
        rows = [{"start": s.start, "end": s.end, "slot": s, "visit": by_slot.get(s.pk)} for s in slots]
        rows += [{"start": v.start, "end": v.end, "slot": None, "visit": v} for v in visits if not v.slot_id]
        rows.sort(key=lambda r: r["start"])
    record_many("read", visits, detail={"view": "staff_day_schedule"})
    query = request.GET.copy()
    query.pop("date", None)
    # Shown with what the page resolved (today, the user's own or the first provider).
    form = DayScheduleForm(initial={"date": day, "provider": provider, "location": location})
    return {
        "form": form, "provider": provider, "location": location, "day": day, "tz_name": str(tz.key if hasattr(tz, "key") else tz),
        "rows": rows, "booked": sum(1 for v in visits), "free": sum(1 for r in rows if r["slot"] and r["slot"].status == VisitSlot.Status.FREE),
        "prev_day": day - datetime.timedelta(days=1), "next_day": day + datetime.timedelta(days=1),
        "base_query": query.urlencode(), "error": " ".join(filter(None, (error, problem))) or None, "now": timezone.now(),
        "filter_problem": problem,
    }


@staff_required("scheduling.view_visitslot")
@require_GET
def day_schedule(request):
    """One provider's slots (with status) and visits (with patient names) on one day, at one
    location or all; times in the location's timezone (the clinic's for all locations). A filter
    that is not valid (a date outside the supported years, an unknown provider) answers 400
    with the page of the valid ones and a line naming the field."""
    context = _day_context(request)
    return render(request, "scheduling/staff/day.html", context, status=400 if context["filter_problem"] else 200)


def _slot_action(request, slot_id, *, act, success):
    slot = selectors.access_slot(request.user, slot_id, access.CHANGE)
    form = SlotActionForm(request.POST)
    default = reverse("staff_scheduling_day") + "?" + f"provider={slot.provider_id}&date={slot.local_start().date().isoformat()}"

    def refused(exc):
        # The provider's day again, on the slot's date, with the refusal on top.
        request.GET = request.GET.copy()
        request.GET.update({"provider": str(slot.provider_id), "date": slot.local_start().date().isoformat()})
        context = _day_context(request, error=_with_status(exc))
        return render(request, "scheduling/staff/day.html", context, status=exc.status_code)

    pages.on_error(request, refused)
    if not form.is_valid():  # an unreadable reason (NUL, too long) refuses the action, not only the reason
        return refused(ValidationFailed({k: list(v) for k, v in form.errors.items()}, message=_filter_problem(form)))
    act(slot, form.cleaned_data["reason"])
    messages.success(request, success)
    return redirect(_next_url(request, default))


@staff_required("scheduling.change_visitslot")
@require_POST
def slot_block(request, slot_id):
    return _slot_action(request, slot_id, success="Slot blocked.",
                        act=lambda slot, reason: services.slot_block(slot=slot, actor=request.user, reason=reason))


@staff_required("scheduling.change_visitslot")
@require_POST
def slot_unblock(request, slot_id):
    return _slot_action(request, slot_id, success="Slot unblocked.",
                        act=lambda slot, reason: services.slot_unblock(slot=slot, actor=request.user, reason=reason))


# --- the front desk ---------------------------------------------------------------------------

@staff_required("scheduling.view_visit")
@require_GET
def front_desk(request):
    """Today's visits, all providers (one location or all), with the actions each status
    allows. ?partial=1 for the live refresh."""
    form = FrontDeskForm(request.GET or None)
    problem = _filter_problem(form)
    if problem and not request.GET.get("partial"):  # the live refresh shows no messages: it only answers 400
        messages.error(request, problem)
    location = form.cleaned_data.get("location") if form.is_bound and not problem else None
    tz = location.tzinfo if location else timezone.get_current_timezone()
    today = timezone.now().astimezone(tz).date()
    visits = list(selectors.front_desk_visits(day=today, tz=tz, location=location))
    record_many("read", visits, detail={"view": "staff_front_desk"})
    context = {
        "form": form, "visits": visits, "today": today, "tz_name": str(tz), "now": timezone.now(),
        "can_change": _can(request.user, "change_visit"),
        "summary": [(label, n) for code, label in V.choices if (n := sum(1 for v in visits if v.status == code))],
    }
    template = "scheduling/staff/_front_desk.html" if request.GET.get("partial") else "scheduling/staff/front_desk.html"
    return render(request, template, context, status=400 if problem else 200)


# --- one visit --------------------------------------------------------------------------------

def _render_visit(request, visit, *, cancel_form=None, error=None, status=200):
    context = {
        "visit": visit,
        "events": list(visit.events.select_related("actor")),
        "cancel_form": cancel_form or ReasonForm(prefix="cancel"),
        "can_change": _can(request.user, "change_visit"),
        "attendance": selectors.attendance_counts(visit.patient),
        "error": error,
        "now": timezone.now(),
        "next": _next_url(request, ""),
        # Links from the apps above (hooks.staff_visit_links), e.g. the visit's note.
        "links": [link for link in staff_visit_links.all(request=request, visit=visit) if link],
    }
    record("read", visit, detail={"view": "staff_visit_detail"})
    return render(request, "scheduling/staff/visit_detail.html", context, status=status)


@staff_required("scheduling.view_visit")
@require_GET
def visit_detail(request, visit_id):
    visit = selectors.access_visit_for_staff(request.user, visit_id)
    return _render_visit(request, visit)


VISIT_ACTIONS = {
    "check-in": (services.visit_check_in, "Checked in."),
    "start": (services.visit_start, "Visit started."),
    "complete": (services.visit_complete, "Visit completed."),
    "no-show": (services.visit_mark_no_show, "Marked as a no-show."),
}


@staff_required("scheduling.change_visit")
@require_POST
def visit_action(request, visit_id, action):
    if action not in VISIT_ACTIONS:
        raise Http404()
    visit = selectors.access_visit_for_staff(request.user, visit_id, action=access.CHANGE)
    service, success = VISIT_ACTIONS[action]

    def refused(exc):
        visit.refresh_from_db()
        return _render_visit(request, visit, error=_with_status(exc), status=exc.status_code)

    pages.on_error(request, refused)
    service(visit=visit, actor=request.user)
    messages.success(request, success)
    return redirect(_next_url(request, reverse("staff_scheduling_visit", args=[visit.pk])))


@staff_required("scheduling.change_visit")
@require_POST
def visit_cancel(request, visit_id):
    visit = selectors.access_visit_for_staff(request.user, visit_id, action=access.CHANGE)
    form = ReasonForm(request.POST, prefix="cancel")
    if not form.is_valid():
        return _render_visit(request, visit, cancel_form=form, status=400)

    def refused(exc):
        _form_error(form, exc)
        visit.refresh_from_db()
        # The cancel form is shown only while the visit is PLANNED: otherwise the refusal goes on top.
        error = None if visit.status == V.PLANNED else _with_status(exc)
        return _render_visit(request, visit, cancel_form=form, error=error, status=exc.status_code)

    pages.on_error(request, refused)
    visit = services.visit_cancel(visit=visit, actor=request.user, reason=form.cleaned_data["reason"])
    if visit.late_cancel:
        messages.warning(request, "Visit cancelled. It was inside the cancellation window and is recorded as a late cancel.")
    else:
        messages.success(request, "Visit cancelled; the time is free again.")
    return redirect(_next_url(request, reverse("staff_scheduling_visit", args=[visit.pk])))


@staff_required("scheduling.change_visit")
@require_http_methods(["GET", "POST"])
def visit_reschedule(request, visit_id):
    visit = selectors.access_visit_for_staff(request.user, visit_id, action=access.CHANGE)
    options = selectors.reschedule_options(visit)
    form = RescheduleForm(request.POST or None, options=options)
    if request.method == "POST" and form.is_valid():
        def refused(exc):
            _form_error(form, exc)
            return _reschedule_page(request, visit, form, options, exc.status_code)

        pages.on_error(request, refused)
        services.visit_reschedule(visit=visit, new_slot=form.cleaned_data["slot"], actor=request.user,
                                  reason=form.cleaned_data["reason"])
        messages.success(request, "Visit moved; the patient has been notified.")
        return redirect("staff_scheduling_visit", visit_id=visit.pk)
    if form.is_bound and not form.is_valid():
        # The page shows the slot's errors beside the times; the others at the top, by name.
        for name, errors in list(form.errors.items()):
            if name != "slot":
                form.add_error(None, f"{form.fields[name].label}: {' '.join(errors)}")
    return _reschedule_page(request, visit, form, options, 400 if request.method == "POST" else 200)


def _reschedule_page(request, visit, form, options, status):
    record("read", visit, detail={"view": "staff_visit_reschedule"})
    return render(request, "scheduling/staff/visit_reschedule.html", {"visit": visit, "form": form, "options": options},
                  status=status)
