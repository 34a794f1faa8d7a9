"""The one way to ask "may this actor see or change this object".

An actor is whoever makes the request: a user (a patient in the portal, staff on their pages
or the API, anyone on a socket), an integrator's API key (anything with `has_scope`), or
nobody (None, an anonymous user). Each app registers the rule for its own models in its
AppConfig.ready():

    access.register(
        Visit,
        own=lambda queryset, patient: queryset.filter(patient=patient),   # a patient's rows
        perms={"view": "scheduling.view_visit", "change": "scheduling.change_visit"},
        scopes={"view": "visits:read", "change": "visits:write"},
    )

and every page, API view and consumer asks through it:

    visit = access.get(request.user, Visit, visit_id)               # NotFound (404) if not theirs
    visits = access.scope(request.user, Visit.objects.all())         # the rows they may see
    access.check(request.auth or request.user, visit, "change")

The rule: a patient sees only the rows `own` gives for their own patient record, whatever id
they send (missing and not-theirs answer alike, NotFound); staff need a verified second factor
and the action's Django permission (else PermissionDenied), and see every row unless the rule
narrows them with `staff`; an API key needs the action's scope (else PermissionDenied); nobody
else sees anything (NotFound). A model with no registered rule is refused to everyone.

Core imports no app: who a user's patient is comes from the resolver the patients app
registers (set_patient_resolver), and staff are recognised by `is_clinic_staff`."""
from dataclasses import dataclass, field
from typing import Callable

from apps.core.exceptions import NotFound, PermissionDenied
from apps.core.lookups import get_or_not_found

VIEW, CHANGE = "view", "change"


@dataclass(frozen=True)
class Rule:
    own: Callable | None = None  # (queryset, patient) -> queryset: the rows a patient owns
    perms: dict = field(default_factory=dict)  # action -> Django permission (staff)
    scopes: dict = field(default_factory=dict)  # action -> API-key scope (integrators)
    staff: Callable | None = None  # (queryset, user) -> queryset: narrower rows for staff
    patient_actions: frozenset = frozenset({VIEW, CHANGE})  # what a patient may do to their own rows


_rules = {}
_patient_resolver = None


def register(model, *, own=None, perms=None, scopes=None, staff=None, patient_actions=(VIEW, CHANGE)):
    """The access rule of `model` (call from the owning app's AppConfig.ready())."""
    _rules[model] = Rule(own=own, perms=dict(perms or {}), scopes=dict(scopes or {}), staff=staff,
                         patient_actions=frozenset(patient_actions))
    return _rules[model]


def rule_for(model):
    try:
        return _rules[model]
    except KeyError:
        raise LookupError(f"No access rule registered for {model._meta.label}.") from None


def set_patient_resolver(resolver):
    """resolver(user) -> the user's active patient record or None (the patients app)."""
    global _patient_resolver
    _patient_resolver = resolver


# --- who is asking ------------------------------------------------------------------------------

def is_api_key(actor):
    return actor is not None and hasattr(actor, "has_scope")


def is_staff(actor):
    return bool(getattr(actor, "is_authenticated", False) and getattr(actor, "is_clinic_staff", False))


def staff_verified(actor):
    """Staff with a second factor verified in this session (django-otp's OTPMiddleware sets
    is_verified on request.user; a socket's user carries it from the session)."""
    verified = getattr(actor, "is_verified", None)
    return is_staff(actor) and callable(verified) and verified()


def patient_of(actor):
    """The actor's own active patient record, or None (staff, keys, anonymous, a registrant
    whose record is not ready). Cached on the user object for the request."""
    if is_api_key(actor) or not getattr(actor, "is_authenticated", False) or getattr(actor, "is_staff", False):
        return None
    cached = getattr(actor, "_access_patient", _unset)
    if cached is _unset:
        cached = _patient_resolver(actor) if _patient_resolver is not None else None
        try:
            actor._access_patient = cached
        except AttributeError:
            pass
    return cached


_unset = object()


def forget(actor):
    """Drop the cached patient (after a registration completes in the same request)."""
    if hasattr(actor, "_access_patient"):
        del actor._access_patient


# --- the questions --------------------------------------------------------------------------------

def may(actor, model, action=VIEW):
    """Whether the actor may `action` rows of `model` at all (the page or endpoint level):
    staff with the permission, keys with the scope, patients whose rule lets them."""
    rule = rule_for(model)
    if is_api_key(actor):
        scope = rule.scopes.get(action)
        return bool(scope) and actor.has_scope(scope)
    if is_staff(actor):
        perm = rule.perms.get(action)
        return staff_verified(actor) and bool(perm) and actor.has_perm(perm)
    return rule.own is not None and action in rule.patient_actions and patient_of(actor) is not None


def scope(actor, queryset, action=VIEW):
    """The rows of `queryset` the actor may `action`. Staff without the permission and keys
    without the scope: PermissionDenied; a patient: their own rows (none when they have no
    record); anyone else: NotFound."""
    model = queryset.model
    rule = rule_for(model)
    if is_api_key(actor):
        scope_name = rule.scopes.get(action)
        if not (scope_name and actor.has_scope(scope_name)):
            raise PermissionDenied()
        return queryset
    if is_staff(actor):
        perm = rule.perms.get(action)
        if not (staff_verified(actor) and perm and actor.has_perm(perm)):
            raise PermissionDenied()
        return rule.staff(queryset, actor) if rule.staff else queryset
    patient = patient_of(actor)
    if patient is None or rule.own is None or action not in rule.patient_actions:
        raise NotFound()
    return rule.own(queryset, patient)


def get(actor, model_or_queryset, pk, action=VIEW, *, field_name="pk"):
    """The one object with this id that the actor may `action`, else NotFound (missing,
    malformed and not-theirs alike) or PermissionDenied (staff or key lacking the right)."""
    queryset = model_or_queryset if hasattr(model_or_queryset, "model") else model_or_queryset._default_manager.all()
    return get_or_not_found(scope(actor, queryset, action), **{field_name: pk})


def check(actor, obj, action=VIEW):
    """Raise unless the actor may `action` this object (one indexed query for patients)."""
    model = type(obj)
    rows = scope(actor, model._default_manager.all(), action)
    if is_api_key(actor) or (is_staff(actor) and rule_for(model).staff is None):
        return obj
    if not rows.filter(pk=obj.pk).exists():
        raise NotFound()
    return obj
