from django.urls import path

from apps.messaging import webhooks

urlpatterns = [
    path("webhooks/twilio/status/", webhooks.twilio_status, name="twilio_status_webhook"),
    path("webhooks/twilio/sms/", webhooks.twilio_inbound_sms, name="twilio_sms_webhook"),
]
