"""Provider callbacks: verified by the provider (signature, age), recorded once (a replay hits
the receipt's unique index: 403 webhook_replayed), and acted on in the same transaction (a room
ended at the vendor completes a call still in progress)."""
from django.db import IntegrityError, transaction

from apps.telehealth.exceptions import WebhookRejected
from apps.telehealth.models import TelehealthSession, WebhookReceipt
from apps.telehealth.providers import registry
from apps.telehealth.services.sessions import session_end

ROOM_ENDED_EVENTS = {"room-ended", "session.ended"}


def webhook_receive(*, provider_name, request):
    """Verify and handle one callback. Returns the WebhookCall (its `answer` is the body to
    send back, for Zoom's URL validation). Raises WebhookRejected (403) for a bad signature or
    a replay; nothing is written then."""
    provider = registry.get(provider_name)
    call = provider.verify_webhook(request)
    try:
        with transaction.atomic():
            WebhookReceipt.objects.create(provider=provider.code, digest=call.digest, event=call.event[:80])
            if call.event in ROOM_ENDED_EVENTS and call.room_name:
                session = TelehealthSession.objects.filter(room_name=call.room_name, video_provider=provider.code).first()
                if session is not None and session.status == TelehealthSession.Status.IN_PROGRESS:
                    session_end(session=session, actor=None, actor_label=provider.code.lower(),
                                reason=f"Room ended at {provider.code.title()}")
    except IntegrityError:
        raise WebhookRejected("This callback was received already: refused as a replay.", code="webhook_replayed") from None
    return call
