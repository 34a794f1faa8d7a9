"""/api/v1/portal/sync/: offline sync for the app (README "Patient app API", "Offline sync").

GET answers what changed for the patient since an opaque cursor, a page at a time, oldest
change first: each change names its kind and id and carries the object as its list endpoint
shows it, or `deleted: true` (a tombstone) when it is gone or no longer the patient's to see.
The page costs a fixed number of queries whatever its size: one for the log (changes.py), one
per kind present (read through the access layer, with what the output needs preloaded), one
for the attachments of messages, one audit INSERT.

POST takes the actions the app queued offline and answers each (offline.py)."""
from django.core import signing
from django.db.models import Prefetch
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from apps.audit.services import record_many
from apps.billing import selectors as billing_selectors
from apps.billing.serializers import InvoiceOutput
from apps.core import access
from apps.messaging import selectors as messaging_selectors
from apps.messaging.threads import selectors as thread_selectors
from apps.messaging.threads.models import Attachment, Message
from apps.portal_api import changes, offline
from apps.portal_api import serializers as s
from apps.portal_api.api import PortalView, _errors
from apps.portal_api.models import SyncChange
from apps.portal_api.operations import appointment_body, parse
from apps.portal_api.readings import ReadingOutput
from apps.records import selectors as records_selectors
from apps.records import serializers as records_serializers
from apps.records.models import (
    Allergy, Document, LabResult, Medication, PatientReading, Problem, RefillRequest, VisitSummary,
)
from apps.scheduling.models import Visit

K = SyncChange.Kind
_SIGNER = signing.Signer(salt="portal_api.sync.cursor")


def cursor_for(patient, position):
    return _SIGNER.sign(f"{patient.pk}.{position}").replace(":", "~")


def position_of(patient, cursor):
    """The log position a cursor of this patient's holds; 400 naming `since` for any other."""
    if not cursor:
        return 0
    try:
        patient_id, _, position = _SIGNER.unsign(cursor.replace("~", ":")).partition(".")
    except signing.BadSignature:
        raise ValidationError({"since": ["This is not a sync cursor: send the `cursor` of your last sync."]})
    if patient_id != str(patient.pk) or not position.isdigit():
        raise ValidationError({"since": ["This is not a sync cursor: send the `cursor` of your last sync."]})
    return int(position)


def _records(model, output):
    def load(request, ids):
        return records_selectors.visible(request.user, model).filter(pk__in=ids), output
    return load


def _visits(request, ids):
    rows = access.scope(request.user, Visit.objects.select_related("provider__user", "visit_type", "location"))
    now = timezone.now()
    return rows.filter(pk__in=ids), lambda visits, many: [appointment_body(v, now) for v in visits]


def _threads(request, ids):
    return thread_selectors.threads_for_patient(request.patient).filter(pk__in=ids), s.AppThreadOutput


def _messages(request, ids):
    rows = (access.scope(request.user, Message.objects.select_related("author"))
            .prefetch_related(_attachments()).filter(pk__in=ids))
    return rows, s.AppSyncMessageOutput


def _attachments():
    return Prefetch("attachments", queryset=Attachment.objects.order_by("created_at", "id"))


def _notifications(request, ids):
    return messaging_selectors.notifications_for(request.user).filter(pk__in=ids), s.AppNotificationOutput


def _bills(request, ids):
    return billing_selectors.portal_invoices(request.patient).filter(pk__in=ids), InvoiceOutput


FEED = {
    K.APPOINTMENT: _visits, K.THREAD: _threads, K.MESSAGE: _messages, K.NOTIFICATION: _notifications,
    K.BILL: _bills,
    K.PROBLEM: _records(Problem, records_serializers.ProblemOutput),
    K.ALLERGY: _records(Allergy, records_serializers.AllergyOutput),
    K.MEDICATION: _records(Medication, records_serializers.MedicationOutput),
    K.REFILL: _records(RefillRequest, records_serializers.RefillOutput),
    K.LAB: _records(LabResult, records_serializers.LabOutput),
    K.VISIT_SUMMARY: _records(VisitSummary, s.AppVisitSummaryOutput),
    K.DOCUMENT: _records(Document, records_serializers.DocumentOutput),
    K.READING: _records(PatientReading, ReadingOutput),
}


def sync_page(request, *, after, limit):
    """The changes after log position `after` with their objects: (changes, position, more)."""
    rows, position, more = changes.changes_after(request.patient, after, limit)
    wanted = {}
    for row in rows:
        wanted.setdefault(row.kind, []).append(row.object_id)
    found, shown = {}, []
    for kind, ids in wanted.items():
        objects, output = FEED[kind](request, ids)
        objects = list(objects)
        for obj in objects:
            # Messages carry no patient column: the audit row names the thread's (the caller's).
            obj.patient_id = getattr(obj, "patient_id", None) or request.patient.pk
        rendered = output(objects, many=True)
        data = rendered.data if hasattr(rendered, "data") else rendered
        found.update({(kind, obj.pk): body for obj, body in zip(objects, data)})
        shown.extend(objects)
    record_many("read", shown, detail={"view": "app_sync"})
    answer = [{"kind": row.kind, "id": row.object_id, "deleted": (row.kind, row.object_id) not in found,
               "data": found.get((row.kind, row.object_id))} for row in rows]
    return answer, position, more


class SyncView(PortalView):
    @extend_schema(
        summary="What changed for me since my last sync (appointments, threads and messages, notifications, bills, "
                "records, readings from my phones)",
        description="Oldest change first, one entry per object; `deleted: true` is a tombstone (gone, or no longer "
                    "mine to see). Keep asking with the answer's `cursor` while `more` is true. A change becomes "
                    "visible here a moment (PORTAL_SYNC_SETTLE_SECONDS) after it is made.",
        parameters=[s.AppSyncInput], responses={200: s.AppSyncOutput, **_errors(400)})
    def get(self, request):
        params = parse(s.AppSyncInput, request.query_params)
        after = position_of(request.patient, params.get("since", ""))
        rows, position, more = sync_page(request, after=after, limit=params["page_size"])
        return Response(s.AppSyncOutput({"changes": rows, "cursor": cursor_for(request.patient, position), "more": more}).data)

    @extend_schema(
        summary="Send the actions I queued offline (appointments, new threads, replies, refill requests, readings)",
        description="Each action is run at most once per `client_id`, through the same rules as the live endpoint, "
                    "and answered with the live status and body: `applied`, or `refused` with the live error "
                    "(a slot taken meanwhile: 409 slot_unavailable). A retry answers the first result again with "
                    "`replayed: true`; the same client id with another action answers 422 client_id_reused.",
        request=s.AppSyncActionsInput,
        responses={200: s.AppSyncActionsOutput, **_errors(400)})
    def post(self, request):
        data = parse(s.AppSyncActionsInput, request.data)
        results = offline.actions_run(request=request, actions=data["actions"])
        return Response(s.AppSyncActionsOutput({"results": [
            {"client_id": r.client_id, "type": r.type, "result": r.result, "status": r.status, "body": r.body,
             "replayed": r.replayed} for r in results]}).data)
