"""The one domain error hierarchy. Services raise these; the API handler and the page views
render them with the same status code and stable snake_case codes."""


class DomainError(Exception):
    status_code = 400
    default_code = "invalid"
    default_message = "The request breaks a rule."

    def __init__(self, message=None, *, code=None, extra=None):
        self.message = message or self.default_message
        self.code = code or self.default_code
        self.extra = extra or {}
        super().__init__(self.message)


class ValidationFailed(DomainError):
    """Field errors: extra={"fields": {"name": ["message", ...]}}."""

    default_code = "validation_error"
    default_message = "Some fields are not valid."

    def __init__(self, fields, message=None, *, code=None):
        super().__init__(message, code=code, extra={"fields": fields})

    def __str__(self):
        # Field names and rule messages only: values (possibly PHI) never reach logs.
        return f"{self.message} " + "; ".join(f"{k}: {' '.join(v)}" for k, v in self.extra["fields"].items())


class NotFound(DomainError):
    """Missing, or not the actor's to see: the two answer alike."""

    status_code = 404
    default_code = "not_found"
    default_message = "Not found."


class PermissionDenied(DomainError):
    status_code = 403
    default_code = "permission_denied"
    default_message = "You do not have permission to do this."


class Conflict(DomainError):
    status_code = 409
    default_code = "conflict"
    default_message = "The request conflicts with the current state."


class InvalidTransition(Conflict):
    default_code = "invalid_transition"
    default_message = "That change is not allowed from the current state."
