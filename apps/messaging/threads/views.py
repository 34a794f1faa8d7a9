"""Portal and staff pages for secure threads, and the one download view. Thin: parse, call a
selector or a service, render. Every page that shows a thread records the read."""
from django.contrib import messages as flash
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.audit.services import record, record_many
from apps.core.decorators import staff_required
from apps.patients.decorators import patient_required
from apps.core.exceptions import DomainError, NotFound, PermissionDenied, ValidationFailed
from apps.messaging.threads import selectors, services
from apps.messaging.threads.forms import AssignForm, NewThreadForm, ReplyForm, StaffNewThreadForm, apply_domain_errors

PAGE_SIZE = 25
MESSAGES_SHOWN = 200


def _files(request):
    return request.FILES.getlist("attachments")


def _post_reply(request, thread, form, *, staff=False):
    """Post the reply in `form` (both sides). None when posted; else the status to render the
    page with, the refusal shown on the form. For staff, PermissionDenied propagates (the
    caller shows the 403 page)."""
    if not form.is_valid():
        return 400
    try:
        services.message_post(thread=thread, body=form.cleaned_data["body"], author=request.user, files=_files(request))
    except DomainError as exc:
        if staff and isinstance(exc, PermissionDenied):
            raise
        if isinstance(exc, ValidationFailed):
            apply_domain_errors(form, exc)
        else:
            form.add_error(None, exc.message)
        return exc.status_code
    return None


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
    return render(request, "messaging/threads/portal_list.html", {"page": page, "threads": threads, "unread": unread})


@patient_required
@require_http_methods(["GET", "POST"])
def portal_thread_new(request):
    form = NewThreadForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                thread = services.thread_create(
                    patient=request.patient, subject=form.cleaned_data["subject"], body=form.cleaned_data["body"],
                    author=request.user, files=_files(request),
                )
            except ValidationFailed as exc:
                apply_domain_errors(form, exc)
            else:
                flash.success(request, "Your message was sent to your care team.")
                return redirect("portal_thread_detail", thread_id=thread.pk)
    return render(request, "messaging/threads/portal_new.html", {"form": form}, status=status)


@patient_required
@require_http_methods(["GET", "POST"])
def portal_thread_detail(request, thread_id):
    try:
        thread = selectors.access_thread_for_patient(request.patient, thread_id)
    except NotFound:
        raise Http404()
    form = ReplyForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = _post_reply(request, thread, form)
        if status is None:
            return redirect("portal_thread_detail", thread_id=thread.pk)
    shown, truncated = _thread_messages(thread)
    record("read", thread, detail={"view": "portal_thread_detail"})
    if status == 200:
        services.thread_mark_read(thread=thread, user=request.user, up_to=_newest_shown(shown))
    context = {"thread": thread, "thread_messages": shown, "truncated": truncated, "form": form, "side": "patient"}
    return render(request, "messaging/threads/portal_detail.html", context, status=status)


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
    try:
        return selectors.access_thread_for_staff(request.user, thread_id, perm=perm)
    except NotFound:
        raise Http404()


@staff_required(selectors.VIEW_PERM)
@require_http_methods(["GET", "POST"])
def staff_thread_detail(request, thread_id):
    thread = _staff_thread(request, thread_id)
    form = ReplyForm(request.POST or None)
    status = 200
    if request.method == "POST":
        try:
            status = _post_reply(request, thread, form, staff=True)
        except PermissionDenied:
            return render(request, "403.html", status=403)
        if status is None:
            return redirect("staff_thread_detail", thread_id=thread.pk)
    return _render_staff_thread(request, thread, form, status)


def _render_staff_thread(request, thread, form, status):
    shown, truncated = _thread_messages(thread)
    record("read", thread, detail={"view": "staff_thread_detail"})
    if status == 200:
        services.thread_mark_read(thread=thread, user=request.user, up_to=_newest_shown(shown))
    user = request.user
    context = {
        "thread": thread, "thread_messages": shown, "truncated": truncated, "form": form, "side": "staff",
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
    try:
        services.thread_assign(thread=thread, actor=request.user, assignee=assignee)
    except DomainError as exc:
        flash.error(request, exc.message if not isinstance(exc, ValidationFailed) else "Choose a staff member who can reply to messages.")
        return redirect("staff_thread_detail", thread_id=thread.pk)
    flash.success(request, f"Assigned to {assignee.get_full_name()}." if assignee else "Unassigned.")
    return redirect("staff_thread_detail", thread_id=thread.pk)


@staff_required(selectors.CHANGE_PERM)
@require_POST
def staff_thread_status(request, thread_id):
    thread = _staff_thread(request, thread_id, perm=selectors.CHANGE_PERM)
    action = request.POST.get("action")
    service = {"close": services.thread_close, "reopen": services.thread_reopen}.get(action)
    if service is None:
        flash.error(request, "Unknown action.")
        return redirect("staff_thread_detail", thread_id=thread.pk)
    try:
        service(thread=thread, actor=request.user, reason=request.POST.get("reason", "")[:200])
    except DomainError as exc:
        # A stale page (someone else already closed it): 409 with the thread as it is now.
        flash.error(request, exc.message)
        thread.refresh_from_db()
        return _render_staff_thread(request, thread, ReplyForm(), exc.status_code)
    flash.success(request, "Conversation closed." if action == "close" else "Conversation reopened.")
    return redirect("staff_thread_detail", thread_id=thread.pk)


@staff_required(selectors.ADD_PERM)
@require_http_methods(["GET", "POST"])
def staff_thread_new(request):
    from apps.patients.models import Patient

    initial = {}
    patient_id = request.GET.get("patient")
    if patient_id:
        try:
            from apps.patients.selectors import access_patient_for_staff

            initial["mrn"] = access_patient_for_staff(request.user, patient_id).mrn
        except DomainError:
            pass
    form = StaffNewThreadForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            patient = Patient.objects.active().filter(mrn=form.cleaned_data["mrn"].strip()).first()
            if patient is None:
                form.add_error("mrn", "No active patient has this MRN.")
            else:
                try:
                    thread = services.thread_create(
                        patient=patient, subject=form.cleaned_data["subject"], body=form.cleaned_data["body"],
                        author=request.user, files=_files(request),
                    )
                except ValidationFailed as exc:
                    apply_domain_errors(form, exc)
                except PermissionDenied:
                    return render(request, "403.html", status=403)
                else:
                    flash.success(request, "Message sent to the patient.")
                    return redirect("staff_thread_detail", thread_id=thread.pk)
    return render(request, "messaging/threads/staff_new.html", {"form": form}, status=status)


# --- Download -----------------------------------------------------------------------------

@login_required
@require_GET
def attachment_download(request, attachment_id):
    """An attachment, to the thread's patient or to messaging staff; anyone else gets 404.
    Always a download (Content-Disposition: attachment), never sniffed or rendered inline."""
    user = request.user
    if user.is_staff and not user.is_verified():
        return redirect("staff_mfa")
    try:
        attachment = selectors.access_attachment(user, attachment_id)
    except NotFound:
        raise Http404()
    record("read", attachment, patient_id=attachment.message.thread.patient_id, detail={"view": "attachment_download"})
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404()
    response = FileResponse(handle, as_attachment=True, filename=attachment.original_name, content_type=attachment.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response

