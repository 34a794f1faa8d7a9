import uuid

from apps.core.requestcontext import request_id_var

_HEADER = "HTTP_X_REQUEST_ID"


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
