"""Payment-style idempotency for the booking API (NOTES.md, "Payment-style idempotency"):
the first answer for a key is saved, whatever its status, and replayed for the same key; the
same key with other parameters is refused (422); a concurrent request with the key waits for
the first to finish and replays its answer; nothing else is ever saved or executed twice.

How, in one statement per booking (IdempotencyRecord):
- the booking runs first, in a transaction; its answer is rendered; then, still in that
  transaction, `INSERT ... ON CONFLICT DO NOTHING RETURNING id` saves the answer under
  (caller, patient, key). PostgreSQL makes an INSERT that meets the same key from a
  transaction still running wait for it: when that one commits, ours inserts nothing, and
  this booking is rolled back and answers the saved result instead ("Idempotent-Replayed:
  true"); when it rolls back, ours is the first. Two requests with one key for one slot
  already queue on the slot's lock; with different slots, the second waits here.
- a booking refused with a domain error (a taken slot, an emergency) is rolled back and its
  error saved the same way right after, so a retry with the key gets the same error;
- anything else (a 500) saves nothing: a retry runs again.
The slot's lock and the partial unique index on active visits still guard double booking;
this module only decides which answer a key gets. Saved answers are kept
SCHEDULING_IDEMPOTENCY_KEEP_HOURS (24 h; NOTES.md: at least that) and then purged by the
periodic job scheduling.purge_idempotency_records (idempotency_records_purge)."""
import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from apps.audit.services import record
from apps.core.api.errors import error_body
from apps.core.exceptions import DomainError
from apps.scheduling.models import IdempotencyRecord


class IdempotencyKeyMismatch(DomainError):
    """The key was first used with other parameters (another slot, visit type or request)."""

    status_code = 422
    default_code = "idempotency_key_reused"
    default_message = "This Idempotency-Key was already used with different parameters."


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict
    replayed: bool = False


def fingerprint(params):
    """A stable hash of the request's parameters (ids as strings, keys sorted)."""
    text = json.dumps({k: None if v is None else str(getattr(v, "pk", v)) for k, v in params.items()}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


class _Taken(Exception):
    """Another request's answer is saved under this key: roll this booking back."""

    def __init__(self, saved):
        self.saved = saved


_insert_sql = None


def _save(*, owner, patient_id, key, digest, status, body, visit_id):
    """INSERT the answer unless the key has one; returns True when this one was saved. Waits
    (PostgreSQL) while another transaction holds an uncommitted answer for the key."""
    global _insert_sql
    fields = [f for f in IdempotencyRecord._meta.concrete_fields if not f.primary_key]
    if _insert_sql is None:
        quote = connection.ops.quote_name
        _insert_sql = "INSERT INTO {table} ({columns}) VALUES ({values}) ON CONFLICT ({target}) DO NOTHING RETURNING {pk}".format(
            table=quote(IdempotencyRecord._meta.db_table),
            columns=", ".join(quote(f.column) for f in fields),
            values=", ".join(["%s"] * len(fields)),
            target=", ".join(quote(IdempotencyRecord._meta.get_field(n).column) for n in ("owner", "patient", "key")),
            pk=quote(IdempotencyRecord._meta.pk.column),
        )
    values = {"owner": owner, "patient_id": patient_id, "key": key, "fingerprint": digest, "status_code": status,
              "body": json.dumps(body, cls=DjangoJSONEncoder), "visit_id": visit_id}
    params = [f.get_db_prep_save(values[f.attname] if f.attname in values else f.get_default(), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql, params)
        return cursor.fetchone() is not None


def _saved(owner, patient_id, key):
    return IdempotencyRecord.objects.select_related("visit").get(owner=owner, patient_id=patient_id, key=key)


def _replay(saved, digest):
    """The saved answer for a repeated request; IdempotencyKeyMismatch when its parameters
    differ. Showing a saved visit again is a read of it (audited)."""
    if saved.fingerprint != digest:
        raise IdempotencyKeyMismatch()
    if saved.visit is not None:
        record("read", saved.visit, detail={"idempotent_replay": True})
    return Answer(saved.status_code, json.loads(saved.body), replayed=True)


def run_once(*, owner, patient, key, params, execute, render, status=201):
    """Run `execute()` (a booking that writes in the caller's transaction, returning the
    visit) at most once for (`owner`, `patient`, `key`) with these `params`, and answer
    with `render(visit)` and `status`, or with the answer saved for the key (replayed=True).
    A DomainError from `execute` is answered (and saved) as the API renders it."""
    digest = fingerprint(params)
    patient_id = patient.pk
    try:
        with transaction.atomic():
            visit = execute()
            body = render(visit)
            if not _save(owner=owner, patient_id=patient_id, key=key, digest=digest, status=status, body=body,
                         visit_id=visit.pk):
                raise _Taken(_saved(owner, patient_id, key))
        return Answer(status, body)
    except _Taken as taken:
        return _replay(taken.saved, digest)
    except DomainError as exc:
        # Rolled back: nothing of the refused booking remains. Save the refusal (unless a
        # concurrent request with the key saved its answer first: then that one is the answer).
        body = error_body(exc.code, exc.message, exc.extra)
        with transaction.atomic():
            if _save(owner=owner, patient_id=patient_id, key=key, digest=digest, status=exc.status_code, body=body,
                     visit_id=None):
                return Answer(exc.status_code, body)
            saved = _saved(owner, patient_id, key)
        return _replay(saved, digest)


# Rows deleted per statement (and transaction): a backlog is purged in short steps.
PURGE_CHUNK = 5000


def idempotency_records_purge(*, now=None):
    """Delete the saved answers older than SCHEDULING_IDEMPOTENCY_KEEP_HOURS (a key used
    again after that runs as a new request), PURGE_CHUNK rows per DELETE, each in its own
    transaction so no long lock is held. Requires nothing; the periodic job runs it hourly.
    Returns the number deleted."""
    cutoff = (now or timezone.now()) - timedelta(hours=settings.SCHEDULING_IDEMPOTENCY_KEEP_HOURS)
    deleted = 0
    while True:
        with transaction.atomic():
            ids = list(IdempotencyRecord.objects.filter(created_at__lt=cutoff).values_list("pk", flat=True)[:PURGE_CHUNK])
            if ids:
                # Nothing refers to a record and no signal listens: one DELETE, no collector reads.
                deleted += IdempotencyRecord.objects.filter(pk__in=ids).delete()[0]
        if len(ids) < PURGE_CHUNK:
            return deleted
