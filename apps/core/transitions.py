"""State machines: one helper for every state change in every app.

A model with a state declares its table of allowed moves and its event rows:

    class Visit(models.Model):
        class Status(models.TextChoices): ...
        TRANSITIONS = {Status.PLANNED: {Status.CHECKED_IN, Status.CANCELLED}, ...}
        EVENT_MODEL = "scheduling.VisitEvent"   # app_label.Model, a subclass of TransitionEvent
        AUDIT_TRANSITIONS = True                # False: no audit row (slots, outbox rows)
        STATUS_FIELD = "status"                 # the default

    class VisitEvent(TransitionEvent):
        SUBJECT_FIELD = "visit"
        visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="events")

and a service moves it:

    transition(visit, Visit.Status.CHECKED_IN, actor=user, reason="Arrived", fields={"checked_in_at": now})

transition() locks the row (unless the caller holds the lock already and says `locked=True`),
refuses a move the table does not allow with InvalidTransition (409, code
`invalid_transition`), saves with update_fields, writes the event row, writes the audit entry
and tells the model's listeners (each app's events module publishes after commit from there).
A service adds its own rules around the call and never writes those steps itself.

Events that are not a status change (a severity override, a reschedule, an assignment) use
record_event(); batches (the outbox claim) use transition_rows(), a conditional
`UPDATE ... WHERE status=<from>` whose move the same table must allow.

Core imports no app: the audit entry and the after-commit publish reach this module through
listeners that the apps above connect in their AppConfig.ready() (on_transition)."""
from django.apps import apps as django_apps
from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from apps.core.exceptions import InvalidTransition, NotFound


class TransitionEvent(models.Model):
    """Who moved what from which state to which, why, and when. Subclasses add the foreign key
    to their subject, name it in SUBJECT_FIELD, and may add fields of their own (a kind, a
    request); the order is oldest first."""

    SUBJECT_FIELD = None

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Who acted when it was not a user: an API key's name, "system", "sms".
    actor_label = models.CharField(max_length=120, blank=True)
    from_status = models.CharField(max_length=32, blank=True)
    to_status = models.CharField(max_length=32, blank=True)
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.SUBJECT_FIELD} {getattr(self, f'{self.SUBJECT_FIELD}_id', '?')}: {self.from_status or '-'} -> {self.to_status or '-'}"


# --- the table --------------------------------------------------------------------------------

def status_of(obj):
    return getattr(obj, getattr(obj, "STATUS_FIELD", "status"))


def can_transition(model_or_obj, current, to):
    """Whether the model's TRANSITIONS table allows current -> to."""
    return to in model_or_obj.TRANSITIONS.get(current, ())


def check_transition(model_or_obj, current, to):
    """Raise InvalidTransition (409) unless the table allows current -> to."""
    if not can_transition(model_or_obj, current, to):
        name = model_or_obj._meta.verbose_name
        raise InvalidTransition(
            f"A {name} cannot go from {current or 'nothing'} to {to}.",
            extra={"from": str(current), "to": str(to)},
        )


# --- listeners (extension points for the floors above) ---------------------------------------

_listeners = []  # [(model or None, callable)]


def on_transition(listener, *, model=None):
    """Call listener(change) after every transition (and record_event) of `model`'s rows, or
    of every model when model is None, inside the transaction (publish after commit from
    there: apps/core/events.py). Connect from AppConfig.ready(); idempotent."""
    entry = (model, listener)
    if entry not in _listeners:
        _listeners.append(entry)
    return listener


class Change:
    """What a listener is told: the object (saved), the states, the event row (or None), who
    acted and whether the model wants an audit entry."""

    __slots__ = ("obj", "before", "after", "event", "actor", "audit", "kind")

    def __init__(self, obj, before, after, event, actor, audit, kind):
        self.obj, self.before, self.after, self.event = obj, before, after, event
        self.actor, self.audit, self.kind = actor, audit, kind


def _notify(change):
    model = type(change.obj)
    for listener_model, listener in _listeners:
        if listener_model is None or listener_model is model:
            listener(change)


# --- moving one row ----------------------------------------------------------------------------

def lock(model, pk, *, error=NotFound, related=()):
    """The row with `pk`, locked until the transaction ends (SELECT ... FOR UPDATE). `related`:
    select_related() paths loaded in the same query; only the row itself is locked (FOR UPDATE
    OF the model's table). A missing row or a malformed id raises `error` (NotFound)."""
    try:
        if related:
            queryset = model.objects.select_for_update(of=("self",)).select_related(*related)
        else:
            queryset = model.objects.select_for_update()
        return queryset.get(pk=getattr(pk, "pk", pk))
    except (model.DoesNotExist, ValueError, TypeError):
        raise error()


def _event_model(model):
    name = getattr(model, "EVENT_MODEL", None)
    if name is None:
        return None
    return django_apps.get_model(name) if isinstance(name, str) else name


def _actor_user(actor):
    # An API key (it has scopes) or a system label is not a user: the event keeps its label.
    if actor is None or hasattr(actor, "has_scope") or not getattr(actor, "is_authenticated", False):
        return None
    return actor


def _actor_label(actor, label):
    if label:
        return label[:120]
    if actor is None or _actor_user(actor) is not None:
        return ""
    return str(getattr(actor, "name", actor))[:120]


def _write_event(obj, *, before, after, actor, actor_label, reason, data, event_fields):
    event_model = _event_model(type(obj))
    if event_model is None:
        return None
    return event_model.objects.create(
        **{event_model.SUBJECT_FIELD: obj},
        actor=_actor_user(actor),
        actor_label=_actor_label(actor, actor_label),
        from_status=before or "",
        to_status=after or "",
        reason=reason or "",
        data=data or {},
        **(event_fields or {}),
    )


class _nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def transition(obj, to, *, actor=None, reason="", data=None, fields=None, locked=False, actor_label="",
               event_fields=None):
    """Move `obj` to state `to`.

    Requires: a model with TRANSITIONS (and EVENT_MODEL for the event row). Unless `locked`
    (the caller holds the row lock in this transaction), the row is locked and its current
    state read again, so two racing moves are checked one after the other. `fields`: other
    attributes to set and save with the state ({"cancelled_at": now}). Raises
    InvalidTransition (409) for a move the table refuses, changing nothing. Writes the event
    row (reason, data, event_fields), an audit entry (unless AUDIT_TRANSITIONS is False) and
    tells the listeners, who publish after commit. Returns obj."""
    model = type(obj)
    status_field = getattr(model, "STATUS_FIELD", "status")
    fields = dict(fields or {})
    # Inside the caller's transaction when there is one: no savepoint of our own, so a refusal
    # (raised before anything is written) leaves the caller's transaction usable.
    connection = transaction.get_connection()
    with transaction.atomic() if not connection.in_atomic_block else _nothing():
        if not locked:
            current = model.objects.select_for_update().filter(pk=obj.pk).values_list(status_field, flat=True).first()
            if current is None:
                raise NotFound()
            setattr(obj, status_field, current)
        before = getattr(obj, status_field)
        check_transition(model, before, to)
        setattr(obj, status_field, to)
        for name, value in fields.items():
            setattr(obj, name, value)
        update_fields = [status_field, *fields]
        if any(f.name == "updated_at" for f in model._meta.concrete_fields):
            update_fields.append("updated_at")
        obj.save(update_fields=update_fields)
        event = _write_event(obj, before=before, after=to, actor=actor, actor_label=actor_label, reason=reason,
                             data=data, event_fields=event_fields)
        _notify(Change(obj, before, to, event, actor, getattr(model, "AUDIT_TRANSITIONS", True), "transition"))
    return obj


def record_event(obj, *, actor=None, reason="", data=None, actor_label="", event_fields=None, from_status=None,
                 to_status=None, audit=None):
    """An event row for something that happened to `obj` without a state change (a reschedule,
    a severity override, a new assignee, its creation), with the audit entry and the listeners
    as for a transition. from/to default to the current state. Returns the event row."""
    current = status_of(obj)
    before = current if from_status is None else from_status
    after = current if to_status is None else to_status
    event = _write_event(obj, before=before, after=after, actor=actor, actor_label=actor_label, reason=reason,
                         data=data, event_fields=event_fields)
    wants_audit = getattr(type(obj), "AUDIT_TRANSITIONS", True) if audit is None else audit
    _notify(Change(obj, before, after, event, actor, wants_audit, "event"))
    return event


def transition_rows(queryset, *, from_status, to, **values):
    """Batch move: UPDATE the rows of `queryset` still in `from_status` (a state or several) to
    `to` (and `values`) in one conditional statement, and return how many moved; a row that
    another worker moved first is not counted, so two workers never both act on it. The
    model's table must allow every from_status -> to. No event rows and no listeners: batches
    keep their own records (the outbox's attempts)."""
    model = queryset.model
    sources = (from_status,) if isinstance(from_status, str) else tuple(from_status)
    for source in sources:
        check_transition(model, source, to)
    status_field = getattr(model, "STATUS_FIELD", "status")
    return queryset.filter(**{f"{status_field}__in": sources}).update(**{status_field: to}, **values)
