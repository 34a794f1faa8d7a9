"""Writing the access log. Call record()/record_many() wherever patient data is read or
written; they take who/where from the current request's AuditContext."""
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


def _patient_id_of(obj):
    from apps.patients.models import Patient

    if isinstance(obj, Patient):
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


def record_many(action, objects, *, detail=None):
    """One row per object in a single INSERT (a list page costs one query, whatever its size)."""
    objects = list(objects)
    if not objects:
        return []
    actor = _actor_fields(audit_context.current())
    rows = [
        AccessLog(
            action=action,
            object_type=obj._meta.label_lower,
            object_id=str(obj.pk),
            patient_id=_patient_id_of(obj),
            detail=detail or {},
            **actor,
        )
        for obj in objects
    ]
    return AccessLog.objects.bulk_create(rows)


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


__all__ = ["Action", "record", "record_many", "record_auth_event"]
