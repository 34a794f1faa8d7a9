"""Booking and messaging with Redis stopped: the cache falls back to memory (apps/core/cache.py),
live events are dropped with a warning (the channel layer is unreachable), and what must not be
lost is a database row first (the visit, its outbox rows, the thread message), so nothing is
lost and every request answers as it would with Redis up."""
import datetime

import pytest
from django.test import Client
from django.utils import timezone

from apps.core import cache as clinic_cache
from apps.messaging.models import OutboundMessage
from apps.messaging.threads.models import Message
from apps.scheduling.models import Visit
from tests.hardening.test_sign_in_with_redis_down import CLOSED_PORT, redis_cache
from tests.scheduling.factories import LocationFactory, ProviderFactory, SlotFactory, VisitTypeFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def redis_stopped(settings, monkeypatch):
    monkeypatch.setattr(clinic_cache._Outage, "_by_location", {})
    settings.CACHES = redis_cache(CLOSED_PORT)
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
                                           "CONFIG": {"hosts": [{"address": CLOSED_PORT, "socket_connect_timeout": 1}]}}}


def test_sign_in_booking_and_a_message_work_with_redis_stopped(redis_stopped, patient):
    visit_type = VisitTypeFactory()
    provider = ProviderFactory(offers=[visit_type])
    start = (timezone.now() + datetime.timedelta(days=4)).replace(hour=15, minute=0, second=0, microsecond=0)
    slot = SlotFactory(provider=provider, location=LocationFactory(), start=start, end=start + datetime.timedelta(minutes=30))

    client = Client(raise_request_exception=False)
    signed_in = client.post("/_allauth/app/v1/auth/login", {"email": patient.user.email, "password": "correct-horse-battery"},
                            content_type="application/json")
    assert signed_in.status_code == 200
    token = {"HTTP_X_SESSION_TOKEN": signed_in.json()["meta"]["session_token"]}

    booked = client.post("/api/v1/portal/appointments/", {"slot": str(slot.pk), "visit_type": str(visit_type.pk)},
                         content_type="application/json", HTTP_IDEMPOTENCY_KEY="redis-down-1", **token)
    assert booked.status_code == 201
    visit = Visit.objects.get(pk=booked.json()["id"])
    assert visit.status == Visit.Status.PLANNED
    assert OutboundMessage.objects.filter(patient=patient, kind="visit_booked").exists()

    thread = client.post("/api/v1/portal/threads/", {"subject": "Redis is down", "body": "Still here?"},
                         content_type="application/json", **token)
    assert thread.status_code == 201
    assert Message.objects.filter(thread_id=thread.json()["id"], body="Still here?").exists()
    assert client.get("/api/v1/portal/appointments/", **token).json()["count"] == 1
