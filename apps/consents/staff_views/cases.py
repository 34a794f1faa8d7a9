"""Staff pages of surgical cases: the list, creating one from a plan with its signed procedure
consent (verified by the service, audited), a case's page (pre-op checklist, theatre booking,
start, consumables and implants, complete, cancel, history), the theatre schedule per room and
day, and the lot-number trace."""
from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.audit.services import record, record_many
from apps.consents import rules, selectors, services
from apps.consents.models import SurgicalCase
from apps.consents.staff_forms import (
    BookingForm, CaseCreateForm, CaseFilterForm, CaseItemForm, NoteForm, ReasonForm, TheatreFilterForm, TraceForm,
)
from apps.consents.staff_views._common import T, filter_problem, on_refusal, paginate, posted
from apps.core import access
from apps.core.decorators import staff_required

K = SurgicalCase.Status


@staff_required("consents.view_surgicalcase")
@require_GET
def case_list(request):
    form = CaseFilterForm(request.GET or None)
    problem = filter_problem(form)
    data = form.cleaned_data if form.is_bound and not problem else {}
    page, rows = paginate(request, selectors.case_list(status=data.get("status") or None))
    record_many("read", rows, detail={"view": "staff_case_list"})
    return render(request, T + "case_list.html", {"form": form, "page": page, "rows": rows, "problem": problem},
                  status=400 if problem else 200)


def _create_page(request, plan, form, consent, *, status=200):
    return render(request, T + "case_create.html", {"plan": plan, "form": form, "consent": consent}, status=status)


@staff_required("consents.add_surgicalcase")
@require_http_methods(["GET", "POST"])
def case_create(request, plan_id):
    """A surgical case for the plan, relying on its procedure consent: the service verifies it
    (signed, unexpired, intact) and refuses anything out of order (409 with its code)."""
    plan = selectors.access_plan(request.user, plan_id)
    access.scope(request.user, SurgicalCase.objects.none(), rules.CREATE)
    consent = selectors.procedure_consent_of_plan(plan)
    record("read", plan, detail={"view": "staff_case_create"})
    form = CaseCreateForm(request.POST or None)
    if request.method == "GET":
        return _create_page(request, plan, form, consent)
    if not form.is_valid():
        return _create_page(request, plan, form, consent, status=400)
    on_refusal(request, lambda bound=None, status=400, error=None: _create_page(request, plan, form, consent, status=status),
               form=form, name="case")
    case = services.surgical_case_create(plan=plan, consent=consent, anaesthesia_type=form.cleaned_data["anaesthesia_type"],
                                         actor=request.user)
    messages.success(request, "Surgical case created: book the theatre next.")
    return redirect("staff_surgery_case", case_id=case.pk)


def _case_forms(user, case, bound=None):
    forms = {}
    if case.status == K.SCHEDULED and user.has_perm("consents.add_theatrebooking"):
        booking = case.active_booking
        initial = {"room": booking.room_id, "start": booking.start, "end": booking.end} if booking else None
        forms["book"] = BookingForm(prefix="book", initial=initial)
    if case.status == K.IN_PROGRESS and user.has_perm("consents.add_caseitem"):
        forms["item"] = CaseItemForm(prefix="item")
    if case.status == K.SCHEDULED and user.has_perm("consents.change_surgicalcase"):
        forms["cancel"] = ReasonForm(prefix="cancel")
    forms.update(bound or {})
    return forms


def _case_page(request, case, *, bound=None, error=None, status=200):
    record("read", case, detail={"view": "staff_case"})
    user = request.user
    return render(request, T + "case_detail.html", {
        "case": case, "plan": case.plan, "booking": case.active_booking,
        "bookings": list(case.bookings.all()), "items": list(case.items.all()),
        "preop_items": list(case.plan.preop_items.order_by("order", "id")), "events": list(selectors.case_events(case)),
        "forms": _case_forms(user, case, bound), "error": error, "note_form": NoteForm(),
        "can_change": user.has_perm("consents.change_surgicalcase"), "can_preop": user.has_perm("consents.change_preopitem"),
    }, status=status)


@staff_required("consents.view_surgicalcase")
@require_GET
def case_detail(request, case_id):
    return _case_page(request, selectors.access_case(request.user, case_id))


def _refusals_on_page(request, case, form=None, name=None):
    on_refusal(request, lambda **kw: _case_page(request, case, **kw), form=form, name=name)


@staff_required("consents.add_theatrebooking")
@require_POST
def case_book(request, case_id):
    """Book (or move) the case's theatre time: the database refuses a room or a surgeon booked
    twice (409 theatre_unavailable); the patient's reminder moves with the booking."""
    case = selectors.access_case(request.user, case_id, access.CHANGE)
    form = BookingForm(request.POST, prefix="book")
    if (answer := posted(request, form, name="book", draw=lambda **kw: _case_page(request, case, **kw))):
        return answer
    services.theatre_book(case=case, room=form.cleaned_data["room"], start=form.cleaned_data["start"],
                          end=form.cleaned_data["end"], actor=request.user)
    messages.success(request, "Theatre booked. The patient is told the date and place.")
    return redirect("staff_surgery_case", case_id=case.pk)


_MOVES = {
    "start": (services.case_start, "Case started."),
    "complete": (services.case_complete, "Case completed. Billing has what it needs."),
}


@staff_required("consents.change_surgicalcase")
@require_POST
def case_move(request, case_id, action):
    """Start (theatre booked, pre-op done, consent still verifying) or complete the case."""
    if action not in _MOVES:
        return render(request, "404.html", status=404)
    case = selectors.access_case(request.user, case_id, access.CHANGE)
    _refusals_on_page(request, case)
    service, done = _MOVES[action]
    service(case=case, actor=request.user)
    messages.success(request, done)
    return redirect("staff_surgery_case", case_id=case.pk)


@staff_required("consents.change_surgicalcase")
@require_POST
def case_cancel(request, case_id):
    case = selectors.access_case(request.user, case_id, access.CHANGE)
    form = ReasonForm(request.POST, prefix="cancel")
    if (answer := posted(request, form, name="cancel", draw=lambda **kw: _case_page(request, case, **kw))):
        return answer
    services.case_cancel(case=case, actor=request.user, reason=form.cleaned_data["reason"])
    messages.info(request, "Case cancelled; its theatre time and the patient's reminder are released.")
    return redirect("staff_surgery_case", case_id=case.pk)


@staff_required("consents.add_caseitem")
@require_POST
def case_item(request, case_id):
    case = selectors.access_case(request.user, case_id, access.CHANGE)
    form = CaseItemForm(request.POST, prefix="item")
    if (answer := posted(request, form, name="item", draw=lambda **kw: _case_page(request, case, **kw))):
        return answer
    item = services.case_item_record(case=case, actor=request.user, **form.cleaned_data)
    messages.success(request, f"Recorded: {item.name}, lot {item.lot_number}.")
    return redirect("staff_surgery_case", case_id=case.pk)


@staff_required("consents.view_theatrebooking")
@require_GET
def theatre_schedule(request):
    """Each operating room's bookings on a day (the clinic's day)."""
    form = TheatreFilterForm(request.GET or None)
    problem = filter_problem(form)
    start, end = form.span()
    room = form.cleaned_data.get("room") if form.is_bound and not problem else None
    rooms = selectors.theatre_day(start=start, end=end, room=room)
    record_many("read", [booking.case for _, bookings in rooms for booking in bookings], detail={"view": "staff_theatre"})
    return render(request, T + "theatre.html", {"form": form, "rooms": rooms, "day": form.day(), "problem": problem},
                  status=400 if problem else 200)


@staff_required("consents.view_caseitem")
@require_GET
def lot_trace(request):
    """Every patient who received an item of a lot or batch (a recall)."""
    form = TraceForm(request.GET or None)
    problem = filter_problem(form)
    lot = form.cleaned_data.get("lot", "").strip() if form.is_bound and not problem else ""
    items = list(selectors.items_with_lot(lot)[:500]) if lot else []
    record_many("read", [item.case for item in items], detail={"view": "staff_lot_trace"})
    return render(request, T + "trace.html", {"form": form, "items": items, "lot": lot, "problem": problem},
                  status=400 if problem else 200)
