"""A NUL character under /fhir/ answers in FHIR's own error format.

Core's RefuseNulInQueryMiddleware refuses a NUL (\\x00) in the path (404) or in a query
parameter (400 naming it) for the whole site, as a problem page or the API's JSON error. A FHIR
client reads an OperationOutcome instead, so this middleware, placed just before core's, answers
/fhir/ requests first, with the same statuses and words."""
from apps.core.middleware import NUL, NUL_MESSAGE
from apps.fhir.outcome import outcome_response

PREFIX = "/fhir/"


class FhirRefuseNulMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path_info.startswith(PREFIX):
            return self.get_response(request)
        if NUL in request.path_info:
            return outcome_response(404, "not-found", "No such resource.")
        for name, values in request.GET.lists():
            if NUL in name or any(NUL in value for value in values):
                printable = name.replace(NUL, "\\x00")
                return outcome_response(
                    400, "invalid", f"The search parameter “{printable}”: {NUL_MESSAGE}", expression=printable)
        return self.get_response(request)
