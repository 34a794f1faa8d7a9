import zoneinfo

# IANA zones people live in ("America/New_York"), for patients' and locations' timezones.
TIMEZONE_CHOICES = sorted(
    (tz, tz) for tz in zoneinfo.available_timezones() if "/" in tz and not tz.startswith(("Etc/", "SystemV/"))
)
