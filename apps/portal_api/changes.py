"""The patient's change log for offline sync (models.SyncChange): written as objects change,
read a page at a time by the sync feed (api_sync.py).

Writing: after every save or delete of a tracked model (TRACKED), one row naming the object is
inserted in the writing transaction (one statement for a new object, see change_record), and
the object's older rows are deleted, so a rolled-back write leaves nothing and a committed one
is in the log. A patient without a portal login writes nothing (no app syncs for them). The
receivers are bookkeeping only (ids, never content, no rule); they are connected in
PortalApiConfig.ready(), so the apps below know nothing of the app API. Writes through QuerySet.update() or bulk_create() send no
signal: the ones the feed must see are saves (core's transition helper saves with
update_fields), or are logged in bulk by the caller: new readings (readings.readings_post, one
INSERT for the lot through objects_new_record) and notifications marked read (messaging's
notifications_changed hook, received by notifications_changed: one DELETE, one INSERT ... SELECT).

Reading: `changes_after(patient, after, limit)` is one index range scan on (patient, id). Ids
come from a sequence: a change whose transaction commits after a later-numbered one was
already read would be passed by the cursor, so the feed leaves out rows younger than
PORTAL_SYNC_SETTLE_SECONDS (services' transactions are far shorter) and the app gets them on
its next sync."""
import datetime

from django.conf import settings
from django.db import connection
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from apps.billing.models import Invoice
from apps.messaging import hooks as notification_hooks
from apps.messaging.models import Notification
from apps.messaging.threads.models import Message, Thread
from apps.patients.models import Patient
from apps.portal_api.models import SyncChange
from apps.records.models import Allergy, Document, LabResult, Medication, Problem, RefillRequest, VisitSummary
from apps.scheduling.models import Visit

K = SyncChange.Kind


class Via:
    """Where a tracked object's patient is found when the object does not carry it: the
    `patient_column` of `model`'s row whose `key_column` equals the instance's `attr`. The
    change row is then written by one INSERT ... SELECT (no read first); no such row (a staff
    user's notification) writes nothing."""

    def __init__(self, model, key_column, attr, patient_column):
        self.model, self.key_column, self.attr, self.patient_column = model, key_column, attr, patient_column


OWN = None  # the instance's own patient_id
TRACKED = {
    Visit: (K.APPOINTMENT, OWN), Thread: (K.THREAD, OWN),
    Message: (K.MESSAGE, Via(Thread, "id", "thread_id", "patient_id")),
    Notification: (K.NOTIFICATION, Via(Patient, "user_id", "recipient_id", "id")),
    Invoice: (K.BILL, OWN), Problem: (K.PROBLEM, OWN), Allergy: (K.ALLERGY, OWN), Medication: (K.MEDICATION, OWN),
    RefillRequest: (K.REFILL, OWN), LabResult: (K.LAB, OWN), VisitSummary: (K.VISIT_SUMMARY, OWN),
    Document: (K.DOCUMENT, OWN),
}


def _db(model, field_name, value):
    return model._meta.get_field(field_name).get_db_prep_value(value, connection)


def change_record(*, kind, object_id, patient_id=None, via=None, key=None, first=False):
    """Log that `object_id` of `kind` changed for a patient: given as `patient_id`, or found
    through `via` from `key` (INSERT ... SELECT, no read first). Older rows of the object go
    first, except for its first change (`first`). One statement either way on PostgreSQL (the
    DELETE as a data-modifying CTE of the INSERT: both see the statement's snapshot, so the new
    row is never the one deleted); on SQLite, two for a later change. A concurrent writer's
    row, invisible here until it commits, may survive; the feed answers an object once per page
    whatever its rows."""
    q = connection.ops.quote_name
    table = q(SyncChange._meta.db_table)
    object_db = _db(SyncChange, "object_id", object_id)
    columns = f"({q('patient_id')}, {q('kind')}, {q('object_id')}, {q('changed_at')})"
    if via is None:
        insert = f"INSERT INTO {table} {columns} VALUES (%s, %s, %s, %s)"
        params = [_db(SyncChange, "patient", patient_id), kind, object_db, _db(SyncChange, "changed_at", timezone.now())]
    else:
        key_field = next(f for f in via.model._meta.concrete_fields if f.column == via.key_column)
        insert = (f"INSERT INTO {table} {columns} SELECT {q(via.patient_column)}, %s, %s, %s "
                  f"FROM {q(via.model._meta.db_table)} WHERE {q(via.key_column)} = %s")
        params = [kind, object_db, _db(SyncChange, "changed_at", timezone.now()), key_field.get_db_prep_value(key, connection)]
    delete = f"DELETE FROM {table} WHERE {q('kind')} = %s AND {q('object_id')} = %s"
    with connection.cursor() as cursor:
        if first:
            cursor.execute(insert, params)
        elif connection.vendor == "postgresql":
            cursor.execute(f"WITH gone AS ({delete}) {insert}", [kind, object_db, *params])
        else:
            cursor.execute(delete, [kind, object_db])
            cursor.execute(insert, params)


def objects_new_record(*, kind, patient, object_ids):
    """Log the first change of many new objects of one patient in one INSERT (bulk_create:
    objects made in bulk send no post_save). A patient without a portal login writes nothing
    (no app can sync for them)."""
    if not object_ids or patient.user_id is None:
        return
    now = timezone.now()
    SyncChange.objects.bulk_create([SyncChange(patient_id=patient.pk, kind=kind, object_id=pk, changed_at=now)
                                    for pk in object_ids])


def _insert_many_via(model, via, *, kind, ids):
    """One INSERT ... SELECT logging the objects `ids` of `model` whose patient is found through
    `via` (no read first); an object whose `via` row is missing (a staff user's notification)
    writes nothing."""
    q = connection.ops.quote_name
    table, source, objects = (q(m._meta.db_table) for m in (SyncChange, via.model, model))
    attr_column = model._meta.get_field(via.attr).column
    pk = model._meta.pk
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({q('patient_id')}, {q('kind')}, {q('object_id')}, {q('changed_at')}) "
            f"SELECT s.{q(via.patient_column)}, %s, o.{q(pk.column)}, %s FROM {objects} o "
            f"JOIN {source} s ON s.{q(via.key_column)} = o.{q(attr_column)} "
            f"WHERE o.{q(pk.column)} IN ({', '.join(['%s'] * len(ids))})",
            [kind, _db(SyncChange, "changed_at", timezone.now()),
             *(pk.get_db_prep_value(value, connection) for value in ids)],
        )


def notifications_changed(*, user, ids):
    """Receiver of messaging's notifications_changed hook (apps/messaging/hooks.py): the
    notifications `ids` of `user` were changed by a QuerySet.update() (marked read). Their
    older rows go and one row each is written: two statements however many (one DELETE, one
    INSERT ... SELECT); a user who is no patient (staff) writes nothing."""
    if not ids or user.is_staff:
        return
    SyncChange.objects.filter(kind=K.NOTIFICATION, object_id__in=ids).delete()
    kind, via = TRACKED[Notification]
    _insert_many_via(Notification, via, kind=kind, ids=ids)


def _no_login(sender, instance):
    """True when the instance's patient is at hand (no query) and has no portal login: no app
    can sync for them, and an app's first sync reads the lists, not the log."""
    descriptor = getattr(sender, "patient")
    return descriptor.is_cached(instance) and instance.patient.user_id is None


def _changed(sender, instance, created=False, raw=False, **kwargs):
    if raw:  # fixtures being loaded
        return
    kind, via = TRACKED[sender]
    if via is OWN:
        if instance.patient_id is None or _no_login(sender, instance):
            return
        change_record(kind=kind, object_id=instance.pk, patient_id=instance.patient_id, first=created)
    else:
        key = getattr(instance, via.attr)
        if key is not None:
            change_record(kind=kind, object_id=instance.pk, via=via, key=key, first=created)


def connect():
    notification_hooks.notifications_changed.connect(notifications_changed)
    for model in TRACKED:
        uid = f"portal_api.sync.{model._meta.label_lower}"
        post_save.connect(_changed, sender=model, dispatch_uid=uid + ".save")
        post_delete.connect(_changed, sender=model, dispatch_uid=uid + ".delete")


def settle_seconds():
    return getattr(settings, "PORTAL_SYNC_SETTLE_SECONDS", 2)


def changes_after(patient, after, limit):
    """Up to `limit` changes of the patient after log position `after`, oldest first, one per
    object (the latest), and whether more follow. One query."""
    rows = SyncChange.objects.filter(patient=patient, id__gt=after)
    settle = settle_seconds()
    if settle:
        rows = rows.filter(changed_at__lte=timezone.now() - datetime.timedelta(seconds=settle))
    rows = list(rows.order_by("id").only("id", "kind", "object_id")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    latest = {}
    for row in rows:
        latest[(row.kind, row.object_id)] = row
    return sorted(latest.values(), key=lambda r: r.id), (rows[-1].id if rows else after), more
