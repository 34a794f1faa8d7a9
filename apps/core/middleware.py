import uuid

from django.http import JsonResponse

from apps.core import pages
from apps.core.api.errors import error_body
from apps.core.exceptions import NotFound, ValidationFailed
from apps.core.requestcontext import request_id_var

_HEADER = "HTTP_X_REQUEST_ID"

NUL = "\x00"
NUL_MESSAGE = "Null characters are not allowed."  # DRF's and Django's own wording for fields


class RequestIdMiddleware:
    """Gives every request an id (kept from X-Request-ID when it is a sane token), exposes it to
    logs and the audit log, and echoes it in the response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get(_HEADER, "")
        rid = incoming if incoming and len(incoming) <= 64 and incoming.replace("-", "").isalnum() else uuid.uuid4().hex
        request.request_id = rid
        token = request_id_var.set(rid)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = rid
        return response


class RefuseNulInQueryMiddleware:
    """PostgreSQL refuses NUL (\\x00) in text and jsonb, so a NUL that reaches a query is a 500
    there (and is stored on SQLite). Every query parameter a page or the API could read is
    checked here, once: a NUL in a parameter's name or value answers 400 naming the parameter
    (the API's JSON error format under /api/, the problem page elsewhere); a NUL in the path
    names nothing that exists: 404. Bodies are checked by the API's parsers
    (apps/core/api/parsers.py) and the forms' own CharField validator."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if NUL in request.path_info:
            return _refuse(request, 404, NotFound())
        bad = [_printable(name) for name, values in request.GET.lists() if NUL in name or any(NUL in v for v in values)]
        if bad:
            fields = {name: [NUL_MESSAGE] for name in bad}
            return _refuse(request, 400, ValidationFailed(fields, message=f"The query parameter “{bad[0]}” contains a null character."))
        return self.get_response(request)


def _printable(name):
    return name.replace(NUL, "\\x00")


def _refuse(request, status, exc):
    if request.path_info.startswith("/api/"):
        return JsonResponse(error_body(exc.code, exc.message, exc.extra), status=status)
    if status == 404:
        return pages.answer(request, exc)
    return pages.problem(request, exc, title="This request could not be read", status=status)
