"""Which providers serve rooms, in order (TELEHEALTH_VIDEO_PROVIDERS). A name that is not known
is a configuration error, reported by chain() (and by the system check at startup)."""
from django.conf import settings

from apps.telehealth.providers.builtin import BuiltinProvider
from apps.telehealth.providers.twilio_video import TwilioVideoProvider
from apps.telehealth.providers.zoom_video import ZoomVideoProvider

PROVIDERS = {cls.name: cls for cls in (BuiltinProvider, TwilioVideoProvider, ZoomVideoProvider)}
BY_CODE = {cls.code: cls for cls in PROVIDERS.values()}

# Tests (and a deployment that wraps a vendor) may put instances here: name -> provider.
_instances = {}


def get(name):
    if name in _instances:
        return _instances[name]
    try:
        return PROVIDERS[name]()
    except KeyError:
        raise LookupError(f"Unknown video provider {name!r} in TELEHEALTH_VIDEO_PROVIDERS.") from None


def for_code(code):
    """The provider that serves rooms of this VideoProvider code (BUILTIN, TWILIO, ZOOM)."""
    cls = BY_CODE[code]
    return get(cls.name)


def chain():
    """The providers to try, in order (names from settings, lower-cased)."""
    return [get(name.strip().lower()) for name in settings.TELEHEALTH_VIDEO_PROVIDERS if name.strip()]


def install(name, provider):
    """Use `provider` for `name` (tests: a vendor with a fake HTTP client)."""
    _instances[name] = provider


def reset():
    _instances.clear()
