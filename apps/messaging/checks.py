from django.conf import settings
from django.core.checks import Warning, register


@register()
def sending_timeout_exceeds_send_time(app_configs, **kwargs):
    """The reaper presumes a SENDING row's worker dead after MESSAGING_SENDING_TIMEOUT_SECONDS;
    that is only safe when no live sender can take that long (apps/messaging/delivery.py)."""
    timeout = settings.MESSAGING_SENDING_TIMEOUT_SECONDS
    longest = max(settings.MESSAGING_TASK_TIME_LIMIT, settings.MESSAGING_PROVIDER_TIMEOUT_SECONDS)
    if timeout <= longest:
        return [Warning(
            "MESSAGING_SENDING_TIMEOUT_SECONDS should exceed MESSAGING_TASK_TIME_LIMIT and "
            "MESSAGING_PROVIDER_TIMEOUT_SECONDS, or the reaper may resend a message a slow worker is still sending.",
            id="messaging.W001",
        )]
    return []
