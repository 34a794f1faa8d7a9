"""The clearinghouse interface: it carries a 270 inquiry to the payer and brings the 271 back,
as text. It knows nothing of X12's meaning (apps/billing/x12/ builds and reads); the services
know nothing of the transport. Which one is active is a setting:

    BILLING_CLEARINGHOUSE = "simulator"   (the default: simulator.py, no network; realistic
                                           271s, including inactive coverage and rejections)
                          | "http"        (http.py: POSTs the 270 to BILLING_CLEARINGHOUSE_URL
                                           with a bearer token; its HTTP client is injectable)

    answer_text = active_clearinghouse().exchange(inquiry_text)

exchange() raises ClearinghouseUnavailable when the far end cannot be reached or answers with
something other than text; a payer's refusal is a 271 with AAA segments, not an exception."""
import abc

from django.conf import settings
from django.utils.module_loading import import_string


class ClearinghouseUnavailable(Exception):
    """The clearinghouse could not be reached or did not answer with a 271."""


class Clearinghouse(abc.ABC):
    name = ""

    @abc.abstractmethod
    def exchange(self, inquiry):
        """Send the 270 text `inquiry`; the 271 text that answers it."""


CLEARINGHOUSES = {
    "simulator": "apps.billing.clearinghouse.simulator.SimulatorClearinghouse",
    "http": "apps.billing.clearinghouse.http.HttpClearinghouse",
}
_instances = {}


def clearinghouse_named(name):
    if name not in CLEARINGHOUSES:
        raise LookupError(f"Unknown clearinghouse {name!r} (one of {', '.join(CLEARINGHOUSES)}).")
    if name not in _instances:
        _instances[name] = import_string(CLEARINGHOUSES[name])()
    return _instances[name]


def active_clearinghouse():
    return clearinghouse_named(settings.BILLING_CLEARINGHOUSE)


def use(instance):
    """Make `instance` the active clearinghouse's object (tests inject one with a fake client)."""
    _instances[settings.BILLING_CLEARINGHOUSE] = instance
    return instance


def reset():
    _instances.clear()
