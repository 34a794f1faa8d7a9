"""Time display for the portal's schedule pages: every time in its location's timezone,
with the zone's abbreviation, and deadlines as countdown text."""
import datetime

from django import template
from django.conf import settings
from django.utils import timezone
from django.utils.html import format_html

register = template.Library()


def _clock(local):
    hour = local.hour % 12 or 12
    return f"{hour}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'}"


def _local(value, location):
    if value is None:
        return None
    tz = location.tzinfo if location is not None else timezone.get_current_timezone()
    return value.astimezone(tz)


@register.filter
def at_location(value, location):
    """'Tue, Apr 14, 2026 · 9:30 AM EDT' in the location's timezone."""
    local = _local(value, location)
    if local is None:
        return ""
    return f"{local:%a, %b} {local.day}, {local.year} · {_clock(local)} {local.tzname() or ''}".strip()


@register.filter
def day_at_location(value, location):
    local = _local(value, location)
    return f"{local:%A, %B} {local.day}, {local.year}" if local is not None else ""


@register.filter
def time_at_location(value, location):
    """'9:30 AM EDT'."""
    local = _local(value, location)
    return f"{_clock(local)} {local.tzname() or ''}".strip() if local is not None else ""


def countdown_text(deadline, now=None):
    now = now or timezone.now()
    left = deadline - now
    if left <= datetime.timedelta(0):
        return "expired"
    minutes = int(left.total_seconds() // 60)
    if minutes < 1:
        return "less than a minute left"
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} day{'s' if days != 1 else ''} {hours} h left"
    if hours:
        return f"{hours} h {mins} min left"
    return f"{mins} min left"


@register.filter
def countdown(deadline):
    """A <time> that static/js/countdown.js keeps ticking; the text is right without JS."""
    if deadline is None:
        return ""
    return format_html('<time class="countdown" datetime="{}" data-countdown>{}</time>',
                       deadline.isoformat(), countdown_text(deadline))


@register.filter
def inside_cancellation_window(start):
    """Whether a visit starting at `start` could no longer be cancelled or moved online once
    booked (SCHEDULING_CANCELLATION_WINDOW_HOURS before it): the booking page warns first."""
    if start is None:
        return False
    return start - timezone.now() < datetime.timedelta(hours=settings.SCHEDULING_CANCELLATION_WINDOW_HOURS)


@register.simple_tag
def cancellation_window_hours():
    return settings.SCHEDULING_CANCELLATION_WINDOW_HOURS
