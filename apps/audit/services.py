"""Writing the access log. Call record()/record_list()/record_many() wherever patient data is
read or written; they take who/where from the current request's AuditContext.

- record(): one entry for one object (or none, for logins);
- record_list(): one entry for a list page, naming every patient it showed (patient_ids), so a
  page of 25 costs one small row instead of 25 (bench/README.md);
- record_many(): one row per object, for lists whose rows are not patients and whose object ids
  must be kept one by one."""
import re

from django.db import connection
from django.utils import timezone

from apps.audit import context as audit_context
from apps.audit.models import AccessLog, Action


def _actor_fields(ctx):
    if ctx is None:
        return {"actor_label": "system", "role": "system"}
    fields = {
        "ip": ctx.ip,
        "user_agent": ctx.user_agent,
        "request_id": ctx.request_id,
        "path": ctx.path,
        "role": ctx.role,
    }
    if ctx.api_key is not None:
        fields.update(actor_api_key=ctx.api_key, actor_label=f"api-key:{ctx.api_key.name}")
    elif ctx.user is not None and getattr(ctx.user, "is_authenticated", False):
        fields.update(actor_user=ctx.user, actor_label=ctx.user.email)
    else:
        fields.update(actor_label="anonymous")
    return fields


# The patient record is the one model whose own id is the patient's (audit sits below the
# patients app and names it only by label).
PATIENT_LABEL = "patients.patient"


def _patient_id_of(obj):
    if obj._meta.label_lower == PATIENT_LABEL:
        return obj.pk
    return getattr(obj, "patient_id", None)


def record(action, obj=None, *, object_type=None, object_id=None, patient_id=None, detail=None):
    """One row for one action on one object (or on none, for logins)."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        patient_id = patient_id or _patient_id_of(obj)
    return AccessLog.objects.create(
        action=action,
        object_type=object_type or "",
        object_id=str(object_id or ""),
        patient_id=patient_id,
        detail=detail or {},
        **_actor_fields(audit_context.current()),
    )


def record_many(action, objects, *, detail=None, model=None):
    """One row per object in a single INSERT (a list page costs one query, whatever its size).
    `objects` are model instances, or, with `model`, rows of that model from values() holding
    "id" (and "patient_id" unless `model` is Patient). Returns the ids of the rows written."""
    objects = list(objects)
    if not objects:
        return []
    if model is None:
        keys = [(obj._meta.label_lower, str(obj.pk), _patient_id_of(obj)) for obj in objects]
    else:
        patient_key = "id" if model._meta.label_lower == PATIENT_LABEL else "patient_id"
        keys = [(model._meta.label_lower, str(row["id"]), row[patient_key]) for row in objects]
    actor = _actor_fields(audit_context.current())
    if connection.vendor == "postgresql":
        return _insert_unnest(action, keys, detail or {}, actor)
    rows = [
        AccessLog(
            action=action, object_type=object_type, object_id=object_id, patient_id=patient_id,
            detail=detail or {}, **actor,
        )
        for object_type, object_id, patient_id in keys
    ]
    return [row.pk for row in AccessLog.objects.bulk_create(rows)]


def record_list(action, objects, *, model=None, detail=None):
    """One entry for a list page that showed `objects`: action, the model's label as
    object_type, no object_id, and in patient_ids every patient shown, in page order (found
    by AccessLog.objects.for_patient like a single-object entry). `objects` are model
    instances, or, with `model`, values() rows holding "id" (Patient) or "patient_id". An
    empty page writes nothing. Returns the entry's id (None for an empty page)."""
    objects = list(objects)
    if not objects:
        return None
    values = _list_entry(action, objects, model=model, detail=detail, actor=_actor_fields(audit_context.current()))
    if connection.vendor == "postgresql":
        return _insert_one(values)
    return AccessLog.objects.create(**values).pk


def record_lists(action, groups, *, detail=None):
    """record_list for a page that showed objects of several models (a FHIR type searched over
    several tables): one entry per non-empty group of instances of one model, all in one
    INSERT. Returns the entries' ids."""
    actor = _actor_fields(audit_context.current())
    rows = [AccessLog(**_list_entry(action, list(group), model=None, detail=detail, actor=actor))
            for group in groups if group]
    return [row.pk for row in AccessLog.objects.bulk_create(rows)] if rows else []


def _list_entry(action, objects, *, model, detail, actor):
    if model is None:
        label = objects[0]._meta.label_lower
        patient_ids = [_patient_id_of(obj) for obj in objects]
    else:
        label = model._meta.label_lower
        patient_key = "id" if label == PATIENT_LABEL else "patient_id"
        patient_ids = [row[patient_key] for row in objects]
    patient_ids = list(dict.fromkeys(pid for pid in patient_ids if pid is not None))
    return {"action": action, "object_type": label, "patient_ids": patient_ids, "detail": detail or {}, **actor}


_one_sql = None


def _insert_one(values):
    """PostgreSQL: INSERT ... VALUES (...) RETURNING id from a statement built once per process
    (every column, defaults filled in), with no ORM compilation per request; autocommit
    when no transaction is open."""
    global _one_sql
    fields = [f for f in AccessLog._meta.concrete_fields if not f.primary_key]
    if _one_sql is None:
        quote = connection.ops.quote_name
        _one_sql = "INSERT INTO {table} ({columns}) VALUES ({values}) RETURNING {pk}".format(
            table=quote(AccessLog._meta.db_table),
            columns=", ".join(quote(f.column) for f in fields),
            values=", ".join(f"%s::{_cast(f)}" for f in fields),
            pk=quote(AccessLog._meta.pk.column),
        )
    values = {"at": timezone.now(), **values}
    for relation in ("actor_user", "actor_api_key"):
        if relation in values:
            values[relation + "_id"] = values.pop(relation).pk
    params = [field.get_db_prep_save(values[field.attname] if field.attname in values else field.get_default(), connection)
              for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(_one_sql, params)
        return cursor.fetchone()[0]


# The columns that differ from row to row; every other column holds one value for the batch.
_PER_ROW = ("object_type", "object_id", "patient_id")
_unnest_sql = None


def _cast(field):
    # Without a length: an explicit cast to varchar(n) would silently cut a longer value, while
    # the column's own check refuses it, as bulk_create's INSERT did.
    return re.sub(r"\(\d+\)$", "", field.cast_db_type(connection))


def _unnest_statement():
    """INSERT ... SELECT <the batch's values>, u.* FROM unnest(<one array per varying column>),
    built once per process from the model, so a new column cannot be silently left out."""
    global _unnest_sql
    if _unnest_sql is None:
        quote = connection.ops.quote_name
        fields = [f for f in AccessLog._meta.concrete_fields if not f.primary_key]
        constant = [f for f in fields if f.attname not in _PER_ROW]
        per_row = [AccessLog._meta.get_field(name) for name in _PER_ROW]
        sql = "INSERT INTO {table} ({columns}) SELECT {values}, u.* FROM unnest({arrays}) AS u RETURNING {pk}".format(
            table=quote(AccessLog._meta.db_table),
            columns=", ".join(quote(f.column) for f in constant + per_row),
            values=", ".join(f"%s::{_cast(f)}" for f in constant),
            arrays=", ".join(f"%s::{_cast(f)}[]" for f in per_row),
            pk=quote(AccessLog._meta.pk.column),
        )
        _unnest_sql = (sql, constant)
    return _unnest_sql


def _insert_unnest(action, keys, detail, actor):
    """PostgreSQL: the rows as one statement, in autocommit when no transaction is open (a
    single statement is atomic), with each value shared by the batch prepared once.
    bulk_create built and prepared a model instance per row and wrapped the statement in
    BEGIN/COMMIT: 1.8-3 ms more CPU and two more round trips per list page of 25
    (bench/README.md)."""
    sql, constant = _unnest_statement()
    values = {"at": timezone.now(), "action": action, "detail": detail, **actor}
    for relation in ("actor_user", "actor_api_key"):
        if relation in values:
            values[relation + "_id"] = values.pop(relation).pk
    params = []
    for field in constant:
        value = values[field.attname] if field.attname in values else field.get_default()
        params.append(field.get_db_prep_save(value, connection))
    params.extend(list(column) for column in zip(*keys))  # object types, object ids, patient ids
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def record_auth_event(request, *, action, user=None, detail=None, label=None):
    """Logins, failed logins, logouts and MFA events, with the user given explicitly (the
    request's user may still be anonymous at that point)."""
    ctx = audit_context.context_from_request(request, user=user) if request is not None else None
    fields = _actor_fields(ctx)
    if label and fields.get("actor_label") == "anonymous":
        fields["actor_label"] = label[:255]
    if user is not None and getattr(user, "pk", None) and "actor_user" in fields:
        fields["object_type"] = "accounts.user"
        fields["object_id"] = str(user.pk)
    return AccessLog.objects.create(action=action, detail=detail or {}, **fields)


__all__ = ["Action", "record", "record_list", "record_many", "record_auth_event"]


def record_transition(change):
    """core.transitions listener: an audit entry for each state change (and event) of a model
    that wants one (AUDIT_TRANSITIONS, True by default)."""
    if not change.audit:
        return
    detail = {"status": str(change.after)} if change.kind == "transition" else {"event": True, "status": str(change.after)}
    record("update", change.obj, detail=detail)
