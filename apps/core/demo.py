"""Demo data for a newcomer, contributed by each app (apps/<app>/demo.py) through this
registry, so core knows none of them:

    # apps/patients/demo.py
    from apps.core import demo

    @demo.contribute(order=20)          # lower orders first: accounts 10, patients 20, ...
    def seed_patients():
        ...                             # idempotent: create what is missing
        return ["patient: Maria Garcia (login patient@clinic.test)"]

    @demo.summary(order=10)
    def patients_summary():
        return ["Patients: patient@clinic.test, ..."]

seed_demo() imports every installed app's `demo` module (like the admin's autodiscovery) and
runs the contributions in order in one transaction; `manage.py seed_demo` prints what they
return. Running it again changes nothing that exists."""
from django.db import transaction
from django.utils.module_loading import autodiscover_modules

DEMO_PASSWORD = "clinic-demo-2026"
# RFC 6238's test key: every demo staff user shares it, so one authenticator entry (or
# `manage.py demo_totp`) gives the code. Base32: GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ
DEMO_TOTP_KEY_HEX = "3132333435363738393031323334353637383930"
DEMO_TOTP_BASE32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

_contributions = []  # (order, name, callable)
_summaries = []


def _register(registry, order):
    def decorator(function):
        key = (order, f"{function.__module__}.{function.__qualname__}")
        if all((o, n) != key for o, n, _ in registry):
            registry.append((*key, function))
            registry.sort(key=lambda entry: entry[:2])
        return function

    return decorator


def contribute(*, order):
    """Register an app's demo records (a callable returning lines to print)."""
    return _register(_contributions, order)


def summary(*, order):
    """Register lines for the end of `manage.py seed_demo` (the logins to try)."""
    return _register(_summaries, order)


def discover():
    autodiscover_modules("demo")


@transaction.atomic
def seed_demo():
    """Run every app's contribution in order; the lines they report."""
    discover()
    out = []
    for _, _, function in _contributions:
        out.extend(function() or [])
    return out


def summaries():
    discover()
    out = []
    for _, _, function in _summaries:
        out.extend(function() or [])
    return out
