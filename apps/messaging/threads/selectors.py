"""Reads of threads, and the access_* helpers every page, API view, download and socket goes
through, all asking core's access layer (the rules are in apps/messaging/rules.py). Missing
and not-yours answer alike (NotFound)."""
import uuid

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Count, F, Prefetch, Q

from apps.core import access
from apps.core.exceptions import NotFound
from apps.messaging import rules
from apps.messaging.rules import ADD_PERM, ASSIGN_PERM, CHANGE_PERM, REPLY_PERM, VIEW_PERM  # noqa: F401 (re-exported)
from apps.messaging.threads.models import (
    Attachment, Message, Thread, ThreadEvent, unread_for_patient_q, unread_for_staff_q,
)
from apps.patients.models import Patient
from apps.patients.selectors import patient_search_filter

STAFF_FILTERS = ("all", "unassigned", "mine", "unread")
STATUS_FILTERS = ("open", "closed", "all")


def _thread_qs():
    return Thread.objects.select_related("patient", "assigned_to")


def access_thread_for_staff(user, thread_id, *, perm=VIEW_PERM):
    """A thread for a staff user holding `perm` (NotFound for a missing or malformed id and for
    anyone not staff; PermissionDenied for staff without the permission or without a
    verified second factor)."""
    if not access.is_staff(user):
        raise NotFound()
    return access.get(user, _thread_qs(), thread_id, rules.ACTION_FOR_PERM[perm])


def access_thread(actor, thread_id, action=rules.VIEW):
    """Either side: the patient's own thread, any thread for staff allowed to `action` threads
    (second factor verified), or for an integrator key with the scope."""
    return access.get(actor, _thread_qs(), thread_id, action)


def access_attachment(user, attachment_id):
    """An attachment of a thread the user may read. Another patient's answers NotFound, as
    does a staff user without messaging.view_thread (the file's existence is not revealed)."""
    if access.is_staff(user) and not access.may(user, Attachment, rules.VIEW):
        raise NotFound()
    return access.get(user, Attachment.objects.select_related("message__thread__patient"), attachment_id)


def patient_to_prefill(user, patient_id):
    """The patient a staff page was opened for (?patient=<id>), when `user` may view patients;
    None for a missing, malformed or not-allowed id (the form simply starts empty)."""
    if not patient_id or not access.may(user, Patient, access.VIEW):
        return None
    try:
        pk = uuid.UUID(str(patient_id))
    except ValueError:
        return None
    return access.scope(user, Patient.objects.all()).filter(pk=pk).first()


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
        qs = qs.filter(patient__in=Patient.objects.filter(patient_search_filter(q)).values("pk"))
    return _with_unread_counts(qs, "staff").order_by("-last_message_at", "-id")


def staff_threads():
    """Every thread with `unread` for the care team, newest activity first (the API's list;
    scope it with core.access)."""
    return _with_unread_counts(_thread_qs(), "staff").order_by("-last_message_at", "-id")


def thread_unread(thread_id, side):
    """How many messages of one thread are unread on `side` ("patient" or "staff")."""
    thread = _with_unread_counts(Thread.objects.filter(pk=thread_id), side).first()
    return thread.unread if thread else 0


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


def message_for_socket(actor, thread_id, message_id):
    """One message of a thread for a socket's actor (core's access rule for Message), or None
    when it is missing or not theirs."""
    if not access.may(actor, Message, rules.VIEW):
        return None
    rows = access.scope(actor, Message.objects.filter(pk=message_id, thread_id=thread_id))
    return rows.select_related("author", "thread__patient").prefetch_related("attachments").first()


def thread_events(thread):
    return ThreadEvent.objects.filter(thread=thread).select_related("actor", "to_assignee").order_by("at", "id")


def assignable_staff():
    """Active staff who may reply to threads (candidates for assignment)."""
    perm = Permission.objects.filter(content_type__app_label="messaging", codename="reply_thread")
    User = get_user_model()
    return (
        User.objects.filter(is_active=True, is_staff=True)
        .filter(Q(groups__permissions__in=perm) | Q(user_permissions__in=perm) | Q(is_superuser=True))
        .distinct()
        .order_by("full_name", "email")
    )
