"""Actions the app queued while offline (POST /api/v1/portal/sync/), each run at most once.

Each action carries the app's `client_id`. In one transaction per action: a SyncAction row is
inserted under (user, client_id) first, then the action runs in a savepoint through the same
operation the live endpoint uses (operations.py; readings.readings_post for a `reading`), and
its answer, applied or refused, is saved on the row as the live call renders it (DRF's JSON
encoder: a decimal stays a number). A retry with the client id meets the unique index:
PostgreSQL makes it wait while the first is still running, then it replays the saved answer
(`replayed: true`) and runs nothing. A crash mid-action rolls the row back with the action, so
a retry runs it again. The same client id with another type or data is refused (422
client_id_reused)."""
import hashlib
import json
from dataclasses import dataclass

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from rest_framework.utils.encoders import JSONEncoder

from apps.core.api.errors import error_body, exception_handler
from apps.portal_api import operations, readings
from apps.portal_api.models import SyncAction


@dataclass(frozen=True)
class Result:
    client_id: str
    type: str
    status: int
    body: dict
    replayed: bool = False

    @property
    def result(self):
        return "applied" if self.status < 300 else "refused"


def _named(data, field):
    """The id an action names in its data (a thread, a medication), as the live URL would."""
    value = data.get(field)
    return value if isinstance(value, str) else ""


HANDLERS = {
    "appointment": lambda request, data: operations.appointment_book(request, data),
    "thread": lambda request, data: operations.thread_start(request, data),
    "message": lambda request, data: operations.thread_reply(request, _named(data, "thread"), data),
    "refill": lambda request, data: operations.refill_request(request, _named(data, "medication"), data),
    "reading": lambda request, data: readings.readings_post(request, data),
}


def fingerprint(kind, data):
    text = json.dumps({"type": kind, "data": data}, sort_keys=True, cls=DjangoJSONEncoder)
    return hashlib.sha256(text.encode()).hexdigest()


def _apply(request, kind, data):
    """(status, body) of the live operation: what it made, or its refusal as the API renders it."""
    try:
        with transaction.atomic():
            return HANDLERS[kind](request, data)
    except Exception as exc:  # rendered by the API's one error renderer, or re-raised (a 500)
        response = exception_handler(exc, {})
        if response is None:
            raise
        return response.status_code, response.data


def action_run(*, request, client_id, kind, data):
    """Run one queued action once for (request.user, client_id); see the module docstring."""
    digest = fingerprint(kind, data)
    try:
        with transaction.atomic():
            row = SyncAction.objects.create(user=request.user, client_id=client_id, kind=kind, fingerprint=digest)
            status, body = _apply(request, kind, data)
            # DRF's encoder, as the live answer is rendered (a Decimal is a JSON number there).
            row.status_code, row.body = status, json.dumps(body, cls=JSONEncoder)
            row.save(update_fields=["status_code", "body"])
        return Result(client_id, kind, status, json.loads(row.body))
    except IntegrityError:
        saved = SyncAction.objects.filter(user=request.user, client_id=client_id).first()
        if saved is None:
            raise
    if saved.fingerprint != digest:
        return Result(client_id, kind, 422, error_body(
            "client_id_reused", "This client_id was already used for another action.", {"client_id": client_id}))
    return Result(client_id, saved.kind, saved.status_code, json.loads(saved.body), replayed=True)


def actions_run(*, request, actions):
    """Every action in order; one refused does not stop the next."""
    return [action_run(request=request, client_id=a["client_id"], kind=a["type"], data=a["data"]) for a in actions]
