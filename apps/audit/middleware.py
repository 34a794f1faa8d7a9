from apps.audit import context


class AuditContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = context.activate(context.context_from_request(request))
        try:
            return self.get_response(request)
        finally:
            context.deactivate(token)
