"""Per-request values that logs and the audit log read without threading `request` through
every call."""
from contextvars import ContextVar

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
