import logging
import traceback

from apps.core.requestcontext import request_id_var


class RequestIdFilter(logging.Filter):
    def filter(self, record):
        record.request_id = request_id_var.get()
        return True


def redacted_traceback(exc):
    """The traceback of `exc` and the exceptions it came from (file, line, function, source
    line of every frame; each exception's class), without the exceptions' messages: those may
    hold patient data (a database error quotes the failing row, a KeyError its key)."""
    chain, seen = [], set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        chain.append(exc)
        exc = exc.__cause__ if exc.__cause__ is not None else (None if exc.__suppress_context__ else exc.__context__)
    parts = []
    for position, item in enumerate(reversed(chain)):
        if position:
            parts.append("\nwhile handling it, another exception occurred:\n\n")
        parts.append("Traceback (most recent call last):\n")
        parts.extend(traceback.format_tb(item.__traceback__))
        parts.append(f"{exception_name(item)} (message withheld: it may hold patient data)\n")
    return "".join(parts)


def exception_name(exc):
    cls = type(exc)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
