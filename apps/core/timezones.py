import zoneinfo

from django.conf import settings

# IANA zones people live in ("America/New_York"), for patients' and locations' timezones.
TIMEZONE_CHOICES = sorted(
    (tz, tz) for tz in zoneinfo.available_timezones() if "/" in tz and not tz.startswith(("Etc/", "SystemV/"))
)


def clinic_zone():
    """The clinic's own timezone (settings.DEFAULT_PATIENT_TIMEZONE, the clinic's by default)."""
    return zoneinfo.ZoneInfo(settings.DEFAULT_PATIENT_TIMEZONE)


def zone_for(person=None):
    """The one answer to "which clock does this person read": their own timezone when they
    have a valid one (a patient's `timezone`), else the clinic's. Anything without a timezone
    (staff, None) reads the clinic's."""
    name = getattr(person, "timezone", None)
    if name:
        try:
            return zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
            pass
    return clinic_zone()


def local_time(dt, person=None):
    """An aware datetime on the person's clock (see zone_for)."""
    return dt.astimezone(zone_for(person))
