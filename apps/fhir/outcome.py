"""Errors as FHIR OperationOutcome resources, with the HTTP status that says what went wrong.

| status | issue code      | when                                                        |
|--------|-----------------|-------------------------------------------------------------|
| 400    | invalid         | a search parameter's value cannot be read (NUL, 64-bit, year)|
| 400    | not-supported   | an unknown search parameter or modifier                     |
| 401    | login           | no credentials, or a staff session without its second factor |
| 403    | forbidden       | an API key without fhir:read, staff without the permission  |
| 404    | not-found       | no such resource, or not the caller's to see (alike)        |
| 405    | not-supported   | anything but GET/HEAD: this server only reads               |
| 406    | not-supported   | a format other than JSON asked for (Accept or _format)      |
| 429    | throttled       | too many requests                                           |

The one place FHIR errors are written: views raise DomainError/DRF exceptions (or SearchError,
apps/fhir/search.py) and the view's exception handler (fhir_exception_handler) renders them."""
import orjson
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpResponse
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from apps.core.exceptions import DomainError

CONTENT_TYPE = "application/fhir+json; charset=utf-8"

_ISSUE_CODES = {
    400: "invalid", 401: "login", 403: "forbidden", 404: "not-found", 405: "not-supported",
    406: "not-supported", 409: "conflict", 415: "not-supported", 429: "throttled",
}


class SearchError(exceptions.APIException):
    """A search parameter the server cannot use: 400, naming the parameter (OperationOutcome
    issue.expression and the diagnostics)."""

    status_code = 400

    def __init__(self, parameter, message, *, code="invalid"):
        self.parameter = parameter
        self.issue_code = code
        super().__init__(f"The search parameter “{parameter}”: {message}")


def outcome(code, diagnostics, *, expression=None, severity="error"):
    issue = {"severity": severity, "code": code, "diagnostics": diagnostics}
    if expression:
        issue["expression"] = [expression]
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def outcome_response(status, code, diagnostics, *, expression=None):
    """A plain Django response (for middleware and the URL catch-all)."""
    body = orjson.dumps(outcome(code, diagnostics, expression=expression))
    return HttpResponse(body, status=status, content_type=CONTENT_TYPE)


def fhir_exception_handler(exc, context):
    """DRF's handling (statuses, WWW-Authenticate, Retry-After) with an OperationOutcome body."""
    if isinstance(exc, DomainError):
        return Response(outcome(_ISSUE_CODES.get(exc.status_code, "processing"), exc.message), status=exc.status_code)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound("No such resource.")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, SearchError):
        response.data = outcome(exc.issue_code, str(exc.detail), expression=exc.parameter)
        return response
    detail = getattr(exc, "detail", None)
    message = str(detail) if detail is not None and not isinstance(detail, (dict, list)) else "Request failed."
    response.data = outcome(_ISSUE_CODES.get(response.status_code, "processing"), message)
    return response
