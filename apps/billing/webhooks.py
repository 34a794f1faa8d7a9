"""The Stripe webhook: the Stripe-Signature header verified (400 when missing, forged or
stale), then the event handled once per event id (a replay answers 200 and does nothing)."""
import stripe
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from apps.billing.gateways.stripe_gateway import webhook_event
from apps.billing.services import stripe_event_handle

MAX_BODY = 256 * 1024


@csrf_exempt
@require_POST
def stripe_webhook(request):
    if len(request.body) > MAX_BODY:
        return JsonResponse({"code": "too_large", "message": "Too large.", "extra": {}}, status=400)
    try:
        event = webhook_event(request.body, request.headers.get("Stripe-Signature"))
    except (ValueError, stripe.SignatureVerificationError):
        return JsonResponse({"code": "bad_signature", "message": "The Stripe-Signature does not verify.", "extra": {}},
                            status=400)
    handled = stripe_event_handle(event.to_dict() if hasattr(event, "to_dict") else dict(event))
    return JsonResponse({"received": True, "duplicate": not handled})
