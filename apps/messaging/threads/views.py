"""Portal and staff pages for secure threads, and the one download view. Thin: parse, call a
selector or a service, render. Every page that shows a thread records the read."""
from django.contrib import messages as flash
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.audit.services import record, record_many
from apps.core import pages
from apps.core.decorators import staff_required
from apps.core.exceptions import ValidationFailed
from apps.core.timezones import zone_for
from apps.messaging.threads import selectors, services
from apps.messaging.threads.attachments import download_response
from apps.messaging.threads.forms import AssignForm, NewThreadForm, ReplyForm, StaffNewThreadForm, ThreadStatusForm
from apps.patients.decorators import patient_required
from apps.patients.models import Patient

PAGE_SIZE = 25
MESSAGES_SHOWN = 200


def _files(request):
    return request.FILES.getlist("attachments")


def _patient_render(request, template, context, status=200):
    """A portal page, its times on the patient's clock (their timezone, else the clinic's)."""
    with timezone.override(zone_for(request.patient)):
        return render(request, template, context, status=status)


def _post_reply(request, thread, form):
    """Post the reply in `form` (both sides). True when posted; False when the form itself is
    invalid. A refusal by the service is answered by the page's on_error (pages.on_error, set
    by the caller): the form shows it, with the error's status; PermissionDenied and NotFound
    answer the 403 and 404 pages."""
    if not form.is_valid():
        return False
    services.message_post(thread=thread, body=form.cleaned_data["body"], author=request.user, files=_files(request))
    return True


def _newest_shown(messages_list):
    return messages_list[-1].created_at if messages_list else None


def _thread_messages(thread):
    """The newest MESSAGES_SHOWN messages, oldest first (a longer thread says so)."""
    qs = selectors.thread_messages(thread)
    newest = list(qs.order_by("-created_at", "-id")[: MESSAGES_SHOWN + 1])
    truncated = len(newest) > MESSAGES_SHOWN
    shown = list(reversed(newest[:MESSAGES_SHOWN]))
    return shown, truncated


# --- Portal -------------------------------------------------------------------------------

@patient_required
@require_GET
def portal_thread_list(request):
    patient = request.patient
    page = Paginator(selectors.threads_for_patient(patient), PAGE_SIZE).get_page(request.GET.get("page"))
    threads = list(page.object_list)
    record_many("read", threads, detail={"view": "portal_thread_list"})
    unread = selectors.patient_unread_thread_count(patient)
    return _patient_render(request, "messaging/threads/portal_list.html", {"page": page, "threads": threads, "unread": unread})


@patient_required
@require_http_methods(["GET", "POST"])
def portal_thread_new(request):
    form = NewThreadForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            pages.on_error(request, lambda exc: _patient_render(request, "messaging/threads/portal_new.html", {"form": form}, exc.status_code), form=form)
            thread = services.thread_create(
                patient=request.patient, subject=form.cleaned_data["subject"], body=form.cleaned_data["body"],
                author=request.user, files=_files(request),
            )
            flash.success(request, "Your message was sent to your care team.")
            return redirect("portal_thread_detail", thread_id=thread.pk)
        return _patient_render(request, "messaging/threads/portal_new.html", {"form": form}, 400)
    return _patient_render(request, "messaging/threads/portal_new.html", {"form": form})


def _render_portal_thread(request, thread, form, status):
    shown, truncated = _thread_messages(thread)
    record("read", thread, detail={"view": "portal_thread_detail"})
    if status == 200:
        services.thread_mark_read(thread=thread, user=request.user, up_to=_newest_shown(shown))
    context = {"thread": thread, "thread_messages": shown, "truncated": truncated, "form": form, "side": "patient"}
    return _patient_render(request, "messaging/threads/portal_detail.html", context, status)


@patient_required
@require_http_methods(["GET", "POST"])
def portal_thread_detail(request, thread_id):
    thread = selectors.access_thread(request.user, thread_id)
    form = ReplyForm(request.POST or None)
    if request.method == "POST":
        pages.on_error(request, lambda exc: _render_portal_thread(request, thread, form, exc.status_code), form=form)
        if _post_reply(request, thread, form):
            return redirect("portal_thread_detail", thread_id=thread.pk)
        return _render_portal_thread(request, thread, form, 400)
    return _render_portal_thread(request, thread, form, 200)


# --- Staff --------------------------------------------------------------------------------

@staff_required(selectors.VIEW_PERM)
@require_GET
def staff_thread_list(request):
    view = request.GET.get("view", "all")
    view = view if view in selectors.STAFF_FILTERS else "all"
    status = request.GET.get("status", "open")
    status = status if status in selectors.STATUS_FILTERS else "open"
    q = request.GET.get("q", "").strip()[:100]
    qs = selectors.staff_inbox(request.user, view=view, status=status, q=q)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    threads = list(page.object_list)
    record_many("read", threads, detail={"view": "staff_thread_list"})
    context = {
        "page": page, "threads": threads, "view": view, "status": status, "q": q,
        "counts": selectors.staff_inbox_counts(request.user),
        "views": [("all", "All"), ("unassigned", "Unassigned"), ("mine", "Mine"), ("unread", "Unread")],
        "statuses": [("open", "Open"), ("closed", "Closed"), ("all", "Any status")],
    }
    return render(request, "messaging/threads/staff_list.html", context)


def _staff_thread(request, thread_id, perm=selectors.VIEW_PERM):
    return selectors.access_thread_for_staff(request.user, thread_id, perm=perm)


@staff_required(selectors.VIEW_PERM)
@require_http_methods(["GET", "POST"])
def staff_thread_detail(request, thread_id):
    thread = _staff_thread(request, thread_id)
    form = ReplyForm(request.POST or None)
    if request.method == "POST":
        pages.on_error(request, lambda exc: _render_staff_thread(request, thread, form, exc.status_code), form=form)
        if _post_reply(request, thread, form):
            return redirect("staff_thread_detail", thread_id=thread.pk)
        return _render_staff_thread(request, thread, form, 400)
    return _render_staff_thread(request, thread, form, 200)


def _render_staff_thread(request, thread, form, status, *, status_form=None):
    shown, truncated = _thread_messages(thread)
    record("read", thread, detail={"view": "staff_thread_detail"})
    if status == 200:
        services.thread_mark_read(thread=thread, user=request.user, up_to=_newest_shown(shown))
    user = request.user
    context = {
        "thread": thread, "thread_messages": shown, "truncated": truncated, "form": form, "side": "staff",
        "status_form": status_form,
        "events": list(selectors.thread_events(thread)),
        "assignable": list(selectors.assignable_staff()) if user.has_perm(selectors.ASSIGN_PERM) else [],
        "can_reply": user.has_perm(selectors.REPLY_PERM),
        "can_assign": user.has_perm(selectors.ASSIGN_PERM),
        "can_change": user.has_perm(selectors.CHANGE_PERM),
    }
    return render(request, "messaging/threads/staff_detail.html", context, status=status)


@staff_required(selectors.ASSIGN_PERM)
@require_POST
def staff_thread_assign(request, thread_id):
    thread = _staff_thread(request, thread_id, perm=selectors.ASSIGN_PERM)
    form = AssignForm(request.POST)
    form.is_valid()
    choice = form.cleaned_data.get("assignee", "")
    assignee = None
    if choice == "me":
        assignee = request.user
    elif choice:
        assignee = get_user_model().objects.filter(pk=choice if str(choice).isdigit() else None, is_staff=True).first()
        if assignee is None:
            flash.error(request, "Choose a staff member.")
            return redirect("staff_thread_detail", thread_id=thread.pk)

    def refused(exc):
        flash.error(request, "Choose a staff member who can reply to messages." if isinstance(exc, ValidationFailed) else exc.message)
        return redirect("staff_thread_detail", thread_id=thread.pk)

    pages.on_error(request, refused)
    services.thread_assign(thread=thread, actor=request.user, assignee=assignee)
    flash.success(request, f"Assigned to {assignee.get_full_name()}." if assignee else "Unassigned.")
    return redirect("staff_thread_detail", thread_id=thread.pk)


@staff_required(selectors.CHANGE_PERM)
@require_POST
def staff_thread_status(request, thread_id):
    thread = _staff_thread(request, thread_id, perm=selectors.CHANGE_PERM)
    status_form = ThreadStatusForm(request.POST)
    if not status_form.is_valid():
        if "action" in status_form.errors:
            flash.error(request, "Unknown action.")
            return redirect("staff_thread_detail", thread_id=thread.pk)
        # A reason the database cannot store: 400 on the thread's page, the reason named.
        flash.error(request, "Reason: " + " ".join(status_form.errors["reason"]))
        return _render_staff_thread(request, thread, ReplyForm(), 400, status_form=status_form)
    action = status_form.cleaned_data["action"]
    service = {"close": services.thread_close, "reopen": services.thread_reopen}[action]

    def refused(exc):
        # A stale page (someone else already closed it): 409 with the thread as it is now.
        flash.error(request, exc.message)
        thread.refresh_from_db()
        return _render_staff_thread(request, thread, ReplyForm(), exc.status_code)

    pages.on_error(request, refused)
    service(thread=thread, actor=request.user, reason=status_form.cleaned_data["reason"])
    flash.success(request, "Conversation closed." if action == "close" else "Conversation reopened.")
    return redirect("staff_thread_detail", thread_id=thread.pk)


@staff_required(selectors.ADD_PERM)
@require_http_methods(["GET", "POST"])
def staff_thread_new(request):
    initial = {}
    prefill = selectors.patient_to_prefill(request.user, request.GET.get("patient"))
    if prefill is not None:
        initial["mrn"] = prefill.mrn
    form = StaffNewThreadForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if form.is_valid():
            patient = Patient.objects.active().filter(mrn=form.cleaned_data["mrn"].strip()).first()
            if patient is None:
                form.add_error("mrn", "No active patient has this MRN.")
            else:
                pages.on_error(request, lambda exc: render(request, "messaging/threads/staff_new.html", {"form": form}, status=exc.status_code), form=form)
                thread = services.thread_create(
                    patient=patient, subject=form.cleaned_data["subject"], body=form.cleaned_data["body"],
                    author=request.user, files=_files(request),
                )
                flash.success(request, "Message sent to the patient.")
                return redirect("staff_thread_detail", thread_id=thread.pk)
        return render(request, "messaging/threads/staff_new.html", {"form": form}, status=400)
    return render(request, "messaging/threads/staff_new.html", {"form": form})


# --- Download -----------------------------------------------------------------------------

@login_required
@require_GET
def attachment_download(request, attachment_id):
    """An attachment, to the thread's patient or to messaging staff; anyone else gets 404.
    Always a download (Content-Disposition: attachment), never sniffed or rendered inline."""
    user = request.user
    if user.is_staff and not user.is_verified():
        return redirect("staff_mfa")
    attachment = selectors.access_attachment(user, attachment_id)
    record("read", attachment, patient_id=attachment.message.thread.patient_id, detail={"view": "attachment_download"})
    return download_response(attachment)

