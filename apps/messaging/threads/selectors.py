"""Reads of threads, and the access_* helpers every page, API view, download and socket goes
through. Missing and not-yours answer alike (NotFound)."""
import uuid

from django.contrib.auth import get_user_model
from django.db.models import Count, F, Prefetch, Q

from apps.core.exceptions import NotFound, PermissionDenied
from apps.messaging.threads.models import (
    Attachment, Message, Thread, ThreadEvent, unread_for_patient_q, unread_for_staff_q,
)

VIEW_PERM = "messaging.view_thread"
REPLY_PERM = "messaging.reply_thread"
ASSIGN_PERM = "messaging.assign_thread"
ADD_PERM = "messaging.add_thread"
CHANGE_PERM = "messaging.change_thread"

STAFF_FILTERS = ("all", "unassigned", "mine", "unread")
STATUS_FILTERS = ("open", "closed", "all")


def _uuid(value):
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        raise NotFound()


def is_messaging_staff(user, perm=VIEW_PERM):
    return bool(user and user.is_authenticated and user.is_clinic_staff and user.has_perm(perm))


def patient_of(user):
    """The active patient record of a portal user, or None."""
    if not user or not user.is_authenticated or user.is_staff:
        return None
    from apps.patients.models import Patient

    return Patient.objects.active().filter(user=user).first()


def _thread_qs():
    return Thread.objects.select_related("patient", "assigned_to")


def access_thread_for_patient(patient, thread_id):
    try:
        return _thread_qs().get(pk=_uuid(thread_id), patient=patient)
    except Thread.DoesNotExist:
        raise NotFound()


def access_thread_for_staff(user, thread_id, *, perm=VIEW_PERM):
    """A thread for a staff user holding `perm` (NotFound for a missing thread, for anyone not
    staff; PermissionDenied for staff without the permission)."""
    if not (user and user.is_authenticated and user.is_clinic_staff):
        raise NotFound()
    if not user.has_perm(perm):
        raise PermissionDenied()
    try:
        return _thread_qs().get(pk=_uuid(thread_id))
    except Thread.DoesNotExist:
        raise NotFound()


def access_thread(user, thread_id):
    """Either side: the patient's own thread, or any thread for messaging staff."""
    if user is not None and user.is_authenticated and user.is_staff:
        return access_thread_for_staff(user, thread_id)
    patient = patient_of(user)
    if patient is None:
        raise NotFound()
    return access_thread_for_patient(patient, thread_id)


def access_attachment(user, attachment_id):
    """An attachment of a thread the user may read. Another patient's answers NotFound, as
    does a staff user without messaging.view_thread (the file's existence is not revealed)."""
    try:
        attachment = Attachment.objects.select_related("message__thread__patient").get(pk=_uuid(attachment_id))
    except Attachment.DoesNotExist:
        raise NotFound()
    thread = attachment.message.thread
    if user is not None and user.is_authenticated and user.is_staff:
        if not is_messaging_staff(user):
            raise NotFound()
        return attachment
    patient = patient_of(user)
    if patient is None or thread.patient_id != patient.pk:
        raise NotFound()
    return attachment


# --- lists --------------------------------------------------------------------------------

def _with_unread_counts(qs, side):
    """Annotate `unread` (the number of messages from the other side since this side's last
    read) in the same query."""
    if side == "patient":
        cond = Q(messages__author_kind__in=Message.STAFF_SIDE) & (
            Q(patient_read_at__isnull=True) | Q(messages__created_at__gt=F("patient_read_at"))
        )
    else:
        cond = Q(messages__author_kind__in=Message.PATIENT_SIDE) & (
            Q(staff_read_at__isnull=True) | Q(messages__created_at__gt=F("staff_read_at"))
        )
    return qs.annotate(unread=Count("messages", filter=cond))


def threads_for_patient(patient):
    """The patient's threads, newest activity first, each with `unread`."""
    return _with_unread_counts(_thread_qs().filter(patient=patient), "patient").order_by("-last_message_at", "-id")


def staff_inbox(user, *, view="all", status="open", q=""):
    """The shared inbox: `view` one of all/unassigned/mine/unread, `status` open/closed/all,
    `q` a patient name or MRN. Each thread has `unread` for the care team."""
    qs = _thread_qs()
    if status in ("open", "closed"):
        qs = qs.filter(status=status)
    if view == "unassigned":
        qs = qs.filter(assigned_to__isnull=True)
    elif view == "mine":
        qs = qs.filter(assigned_to=user)
    elif view == "unread":
        qs = qs.filter(unread_for_staff_q())
    if q:
        from apps.patients.selectors import patient_search_filter

        cond = patient_search_filter(q)
        qs = qs.filter(patient__in=_patients_matching(cond))
    return _with_unread_counts(qs, "staff").order_by("-last_message_at", "-id")


def _patients_matching(cond):
    from apps.patients.models import Patient

    return Patient.objects.filter(cond).values("pk")


def patient_unread_thread_count(patient):
    return Thread.objects.filter(patient=patient).filter(unread_for_patient_q()).count()


def staff_unread_thread_count(*, status="open"):
    qs = Thread.objects.filter(unread_for_staff_q())
    if status:
        qs = qs.filter(status=status)
    return qs.count()


def nav_unread_thread_count(user, *, patient=None):
    """The Messages nav badge: how many threads are unread on this user's side, in one query,
    through the two counts above. None, without any query, for whoever may not see threads:
    anonymous, staff without a verified second factor or messaging.view_thread. A patient's
    count is of their own threads: `patient` when the page already loaded the record, else a
    subquery on the user's active record (none yet: 0)."""
    if not (user and user.is_authenticated and user.is_active):
        return None
    if user.is_staff:
        # is_verified() first: it reads the session, has_perm may query permissions.
        if not (user.is_clinic_staff and user.is_verified() and user.has_perm(VIEW_PERM)):
            return None
        return staff_unread_thread_count()
    if patient is None:
        from apps.patients.models import Patient

        patient = Patient.objects.active().filter(user=user).order_by().values("pk")[:1]
    return patient_unread_thread_count(patient)


def staff_inbox_counts(user):
    """Counts for the inbox tabs (open threads), in one query."""
    open_threads = Thread.objects.filter(status=Thread.Status.OPEN)
    return open_threads.aggregate(
        all=Count("pk"),
        unassigned=Count("pk", filter=Q(assigned_to__isnull=True)),
        mine=Count("pk", filter=Q(assigned_to=user)),
        unread=Count("pk", filter=unread_for_staff_q()),
    )


def thread_messages(thread):
    return (
        Message.objects.filter(thread=thread)
        .select_related("author")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("created_at", "id")))
        .order_by("created_at", "id")
    )


def message_for_socket(thread_id, message_id):
    return (
        Message.objects.filter(pk=message_id, thread_id=thread_id)
        .select_related("author", "thread")
        .prefetch_related("attachments")
        .first()
    )


def thread_events(thread):
    return ThreadEvent.objects.filter(thread=thread).select_related("actor", "to_assignee").order_by("created_at", "id")


def assignable_staff():
    """Active staff who may reply to threads (candidates for assignment)."""
    from django.contrib.auth.models import Permission

    perm = Permission.objects.filter(content_type__app_label="messaging", codename="reply_thread")
    User = get_user_model()
    return (
        User.objects.filter(is_active=True, is_staff=True)
        .filter(Q(groups__permissions__in=perm) | Q(user_permissions__in=perm) | Q(is_superuser=True))
        .distinct()
        .order_by("full_name", "email")
    )
