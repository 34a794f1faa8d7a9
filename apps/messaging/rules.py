"""Who may see and change the messaging app's rows (core's access layer, apps/core/access.py),
registered from MessagingConfig.ready().

Threads: a patient sees and writes into their own threads; staff need a verified second factor
and the action's permission (view, reply, change = close/reopen, assign, add); integrators the
messaging scopes. Messages and attachments follow their thread. Notifications belong to their
recipient alone: a patient's through their record, staff their own (every staff user receives
notifications whatever their role, see selectors.access_notification)."""
from apps.core import access
from apps.messaging.models import Notification
from apps.messaging.push.models import Device
from apps.messaging.threads.models import Attachment, Message, Thread

VIEW, CHANGE = access.VIEW, access.CHANGE
REPLY, ASSIGN, ADD = "reply", "assign", "add"

VIEW_PERM = "messaging.view_thread"
REPLY_PERM = "messaging.reply_thread"
ASSIGN_PERM = "messaging.assign_thread"
ADD_PERM = "messaging.add_thread"
CHANGE_PERM = "messaging.change_thread"

READ_SCOPE = "messaging:read"
WRITE_SCOPE = "messaging:write"

# A thread action -> its staff permission (the pages and the API name permissions).
THREAD_PERMS = {VIEW: VIEW_PERM, REPLY: REPLY_PERM, CHANGE: CHANGE_PERM, ASSIGN: ASSIGN_PERM, ADD: ADD_PERM}
ACTION_FOR_PERM = {perm: action for action, perm in THREAD_PERMS.items()}


def register():
    access.register(
        Thread,
        own=lambda queryset, patient: queryset.filter(patient=patient),
        perms=THREAD_PERMS,
        scopes={VIEW: READ_SCOPE, REPLY: WRITE_SCOPE, CHANGE: WRITE_SCOPE, ASSIGN: WRITE_SCOPE, ADD: WRITE_SCOPE},
        # A patient reads and answers their threads; closing, assigning are the care team's.
        patient_actions=(VIEW, REPLY),
    )
    access.register(
        Message,
        own=lambda queryset, patient: queryset.filter(thread__patient=patient),
        perms={VIEW: VIEW_PERM},
        scopes={VIEW: READ_SCOPE},
        patient_actions=(VIEW,),
    )
    access.register(
        Attachment,
        own=lambda queryset, patient: queryset.filter(message__thread__patient=patient),
        perms={VIEW: VIEW_PERM},
        scopes={VIEW: READ_SCOPE},
        patient_actions=(VIEW,),
    )
    access.register(
        Notification,
        own=lambda queryset, patient: queryset.filter(recipient_id=patient.user_id),
        # Staff see only their own notifications (and the admin's list, by its permission).
        perms={VIEW: "messaging.view_notification"},
        staff=lambda queryset, user: queryset.filter(recipient=user),
    )
    access.register(
        Device,
        # A patient's phones: only the active ones (an unregistered device is gone for them).
        own=lambda queryset, patient: queryset.filter(user_id=patient.user_id, status=Device.Status.ACTIVE),
        perms={VIEW: "messaging.view_device"},
        staff=lambda queryset, user: queryset.filter(user=user),
    )
