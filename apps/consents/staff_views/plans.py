"""Staff pages of procedure plans: the list, drafting one from a patient's completed
consultation, editing a DRAFT, a plan's page (lines, versions, pre-op checklist, history and
its actions: submit, approve, cancel, new version, pre-op items done) and the surgeon's
approval queue. Views parse, call a selector or a service, and render."""
from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.audit.services import record, record_many
from apps.consents import rules, selectors, services
from apps.consents.models import ProcedurePlan
from apps.consents.staff_forms import NoteForm, PlanCreateForm, PlanFilterForm, PlanForm, PlannedDateForm, ReasonForm
from apps.consents.staff_views._common import T, filter_problem, on_refusal, paginate, posted
from apps.consents.workflow import plan_workflow, workflow_for_patient
from apps.core import access
from apps.core.decorators import staff_required
from apps.core.lookups import get_or_not_found
from apps.patients.selectors import access_patient_for_staff
from apps.scheduling.models import Provider, Visit

P = ProcedurePlan.Status


def _surgeon_of(user):
    return Provider.objects.filter(user=user, is_active=True).first()


@staff_required("consents.view_procedureplan")
@require_GET
def plan_list(request):
    form = PlanFilterForm(request.GET or None)
    problem = filter_problem(form)
    data = form.cleaned_data if form.is_bound and not problem else {}
    surgeon = _surgeon_of(request.user) if data.get("mine") else None
    qs = selectors.plan_list(status=data.get("status") or None, surgeon=surgeon)
    if data.get("mine") and surgeon is None:
        qs = qs.none()
    page, rows = paginate(request, qs)
    record_many("read", rows, detail={"view": "staff_plan_list"})
    return render(request, T + "plan_list.html", {"form": form, "page": page, "rows": rows, "problem": problem},
                  status=400 if problem else 200)


def _create_page(request, patient, form, *, status=200):
    return render(request, T + "plan_form.html", {"patient": patient, "form": form, "plan": None}, status=status)


@staff_required("consents.add_procedureplan")
@require_http_methods(["GET", "POST"])
def plan_create(request, patient_id):
    """Draft a plan for the patient from one of their COMPLETED consultations."""
    patient = access_patient_for_staff(request.user, patient_id)
    access.scope(request.user, ProcedurePlan.objects.none(), rules.CREATE)
    consultations = list(selectors.completed_consultations(patient))
    record("read", patient, detail={"view": "staff_plan_create"})
    initial = {"surgeon": getattr(_surgeon_of(request.user), "pk", None)}
    form = PlanCreateForm(request.POST or None, consultations=consultations, initial=initial)
    if request.method == "GET":
        return _create_page(request, patient, form)
    if not form.is_valid():
        return _create_page(request, patient, form, status=400)
    on_refusal(request, lambda bound=None, status=400, error=None: _create_page(request, patient, form, status=status),
               form=form, name="plan")
    consultation = get_or_not_found(Visit.objects.all(), pk=form.cleaned_data["consultation"])
    plan = services.procedure_plan_create(patient=patient, consultation=consultation, surgeon=form.cleaned_data["surgeon"],
                                          lines=form.lines(), notes=form.cleaned_data["notes"],
                                          planned_date=form.cleaned_data["planned_date"], actor=request.user)
    messages.success(request, "Plan drafted. Submit it for the surgeon's approval when it is ready.")
    return redirect("staff_surgery_plan", plan_id=plan.pk)


def _plan_forms(user, plan, bound=None):
    forms = {}
    if plan.status not in (P.COMPLETED, P.CANCELLED) and user.has_perm("consents.change_procedureplan"):
        forms["cancel"] = ReasonForm(prefix="cancel")
    if plan.status in services.plans.NEW_VERSION_FROM and user.has_perm("consents.change_procedureplan"):
        forms["new_version"] = ReasonForm(prefix="version")
    if plan.status in services.plans.PLANNED_DATE_STATUSES and user.has_perm("consents.change_procedureplan"):
        forms["planned_date"] = PlannedDateForm(prefix="date", initial={"planned_date": plan.planned_date})
    forms.update(bound or {})
    return forms


def _plan_page(request, plan, *, bound=None, error=None, status=200):
    record("read", plan, detail={"view": "staff_plan"})
    user = request.user
    workflow = plan_workflow(plan.patient, plan)
    context = {
        "plan": plan, "lines": list(plan.lines.all()), "preop_items": list(plan.preop_items.all()),
        "versions": selectors.plan_versions(plan), "events": list(selectors.plan_events(plan)),
        "consents": list(selectors.consent_list(plan=plan)), "cases": list(selectors.case_list().filter(plan=plan)),
        "workflow": workflow, "forms": _plan_forms(user, plan, bound), "error": error,
        "is_surgeon": plan.surgeon.user_id == user.pk,
        "can_change": user.has_perm("consents.change_procedureplan"),
        "can_approve": user.has_perm("consents.approve_procedureplan") and plan.surgeon.user_id == user.pk,
        "can_preop": user.has_perm("consents.change_preopitem"),
        "can_send": user.has_perm("consents.send_consentform"),
        "consentable": plan.status in services.consents.CONSENTABLE_PLAN_STATUSES,
        "can_case": user.has_perm("consents.add_surgicalcase"),
        "note_form": NoteForm(),
    }
    return render(request, T + "plan_detail.html", context, status=status)


@staff_required("consents.view_procedureplan")
@require_GET
def plan_detail(request, plan_id):
    return _plan_page(request, selectors.access_plan(request.user, plan_id))


def _edit_page(request, plan, form, *, status=200):
    return render(request, T + "plan_form.html", {"patient": plan.patient, "form": form, "plan": plan}, status=status)


@staff_required("consents.change_procedureplan")
@require_http_methods(["GET", "POST"])
def plan_edit(request, plan_id):
    """Edit a DRAFT plan (after that the service refuses: plan_frozen, make a new version)."""
    plan = selectors.access_plan(request.user, plan_id, access.CHANGE)
    record("read", plan, detail={"view": "staff_plan_edit"})
    form = PlanForm(request.POST or None, plan=plan)
    if request.method == "GET":
        return _edit_page(request, plan, form)
    if not form.is_valid():
        return _edit_page(request, plan, form, status=400)
    on_refusal(request, lambda bound=None, status=400, error=None: _edit_page(request, plan, form, status=status),
               form=form, name="plan")
    services.procedure_plan_update(plan=plan, actor=request.user, lines=form.lines(), notes=form.cleaned_data["notes"],
                                   surgeon=form.cleaned_data["surgeon"], planned_date=form.cleaned_data["planned_date"])
    messages.success(request, "Plan saved.")
    return redirect("staff_surgery_plan", plan_id=plan.pk)


def _refusals_on_page(request, plan, form=None, name=None):
    on_refusal(request, lambda **kw: _plan_page(request, plan, **kw), form=form, name=name)


@staff_required("consents.change_procedureplan")
@require_POST
def plan_submit(request, plan_id):
    plan = selectors.access_plan(request.user, plan_id, access.CHANGE)
    _refusals_on_page(request, plan)
    services.procedure_plan_submit(plan=plan, actor=request.user)
    messages.success(request, "Submitted for the surgeon's approval.")
    return redirect("staff_surgery_plan", plan_id=plan.pk)


@staff_required("consents.approve_procedureplan")
@require_POST
def plan_approve(request, plan_id):
    """The plan's own surgeon approves, signed in with their verified second factor (the
    service refuses anyone else: 403 not_plan_surgeon)."""
    plan = selectors.access_plan(request.user, plan_id, rules.APPROVE)
    _refusals_on_page(request, plan)
    services.procedure_plan_approve(plan=plan, actor=request.user)
    messages.success(request, "Plan approved. Its pre-op checklist is ready; send the consent next.")
    if request.POST.get("back") == "queue":
        return redirect("staff_surgery_approvals")
    return redirect("staff_surgery_plan", plan_id=plan.pk)


@staff_required("consents.change_procedureplan")
@require_POST
def plan_cancel(request, plan_id):
    plan = selectors.access_plan(request.user, plan_id, access.CHANGE)
    form = ReasonForm(request.POST, prefix="cancel")
    if (answer := posted(request, form, name="cancel", draw=lambda **kw: _plan_page(request, plan, **kw))):
        return answer
    services.procedure_plan_cancel(plan=plan, actor=request.user, reason=form.cleaned_data["reason"])
    messages.info(request, "Plan cancelled.")
    return redirect("staff_surgery_plan", plan_id=plan.pk)


@staff_required("consents.change_procedureplan")
@require_POST
def plan_new_version(request, plan_id):
    plan = selectors.access_plan(request.user, plan_id, access.CHANGE)
    form = ReasonForm(request.POST, prefix="version")
    if (answer := posted(request, form, name="new_version", draw=lambda **kw: _plan_page(request, plan, **kw))):
        return answer
    new = services.procedure_plan_new_version(plan=plan, actor=request.user, reason=form.cleaned_data["reason"])
    messages.success(request, f"Version {new.version} drafted; version {plan.version} is kept, cancelled.")
    return redirect("staff_surgery_plan", plan_id=new.pk)


@staff_required("consents.change_procedureplan")
@require_POST
def plan_planned_date(request, plan_id):
    """Set or clear the planned surgery date, until the theatre is booked (planned_date_locked)."""
    plan = selectors.access_plan(request.user, plan_id, access.CHANGE)
    form = PlannedDateForm(request.POST, prefix="date")
    if (answer := posted(request, form, name="planned_date", draw=lambda **kw: _plan_page(request, plan, **kw))):
        return answer
    plan = services.procedure_plan_set_planned_date(plan=plan, planned_date=form.cleaned_data["planned_date"],
                                                    actor=request.user)
    messages.success(request, f"Planned surgery date: {plan.planned_date:%a %d %b %Y}." if plan.planned_date
                     else "Planned surgery date cleared.")
    return redirect("staff_surgery_plan", plan_id=plan.pk)


@staff_required("consents.change_preopitem")
@require_POST
def preop_done(request, plan_id, item_id):
    plan = selectors.access_plan(request.user, plan_id)
    item = selectors.access_preop_item(request.user, item_id, access.CHANGE)
    if item.plan_id != plan.pk:
        return render(request, "404.html", status=404)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _plan_page(request, plan, error="Note: " + " ".join(form.errors["note"]), status=400)
    _refusals_on_page(request, plan)
    services.preop_item_complete(item=item, actor=request.user, note=form.cleaned_data["note"])
    messages.success(request, f"Pre-op: {item.label} done.")
    case = selectors.case_list().filter(plan=plan).active().first() if request.POST.get("back") == "case" else None
    if case is not None:
        return redirect("staff_surgery_case", case_id=case.pk)
    return redirect("staff_surgery_plan", plan_id=plan.pk)


@staff_required("consents.approve_procedureplan")
@require_GET
def approval_queue(request):
    """The signed-in surgeon's plans waiting for approval (only the plan's surgeon approves)."""
    rows = list(selectors.approval_queue(request.user))
    record_many("read", rows, detail={"view": "staff_approval_queue"})
    return render(request, T + "approvals.html", {"rows": rows, "is_surgeon": _surgeon_of(request.user) is not None})


def patient_section(*, request, patient):
    """The surgical workflow section of the staff patient page (apps/patients/hooks.py), for
    staff who may read plans: the 14 stages of the current plan and links to act. Audited."""
    user = request.user
    if not user.has_perm("consents.view_procedureplan"):
        return None
    workflow = workflow_for_patient(patient)
    record_many("read", [w.plan for w in workflow.plans], detail={"view": "staff_patient_workflow"})
    return {"template": T + "patient_section.html", "context": {
        "workflow": workflow, "patient": patient,
        "can_plan": user.has_perm("consents.add_procedureplan"), "can_send": user.has_perm("consents.send_consentform"),
    }}
