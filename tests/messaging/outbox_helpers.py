"""Helpers for the delivery tests (outbox, Twilio fakes, signed webhook posts). Not a test
module; imported by tests/messaging/test_*.py of the delivery work."""
import datetime
import json
import logging
import uuid

import pytest
from django.utils import timezone
from twilio.http import HttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "test-auth-token-0123456789"


@pytest.fixture
def no_kick(settings):
    """Rows are delivered by calling the services directly; no task goes to a broker."""
    settings.MESSAGING_KICK_ENABLED = False
    settings.MESSAGING_SMS_BACKEND = "local"
    settings.MESSAGING_PUBLIC_BASE_URL = ""
    settings.MESSAGING_MAX_ATTEMPTS = 5
    settings.MESSAGING_RETRY_BASE_SECONDS = 30
    settings.MESSAGING_RETRY_MAX_SECONDS = 3600


@pytest.fixture
def twilio_settings(settings):
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_FROM_NUMBER = "+12125550100"
    return settings


class FakeTwilioHttp(HttpClient):
    """Stands in for Twilio's HTTP layer. `script` answers the message-create POSTs in order:
    an int status (201 = accepted, a message JSON is made up), (status, payload), or an
    exception to raise. After the script, every POST is accepted. GET (message list, used by
    lookup) answers with the messages accepted so far plus `remote_only` (ones Twilio has but
    we never heard of)."""

    def __init__(self, script=()):
        super().__init__(logger=logging.getLogger("fake-twilio"), is_async=False)
        self.script = list(script)
        self.requests = []
        self.accepted = []
        self.remote_only = []

    def message_json(self, data, sid=None):
        now = timezone.now().strftime("%a, %d %b %Y %H:%M:%S +0000")
        return {
            "sid": sid or "SM" + uuid.uuid4().hex, "account_sid": ACCOUNT_SID, "to": data.get("To"),
            "from": data.get("From"), "body": data.get("Body"), "status": "queued", "date_created": now,
            "date_updated": now, "date_sent": None, "direction": "outbound-api", "num_segments": "1",
        }

    def accept_remotely(self, to, body):
        """Twilio got it, but the answer never reached us (e.g. a read timeout)."""
        self.remote_only.append(self.message_json({"To": to, "Body": body, "From": "+12125550100"}))

    def request(self, method, uri, params=None, data=None, headers=None, auth=None, timeout=None, allow_redirects=False):
        self.requests.append({"method": method, "uri": uri, "params": params, "data": data})
        if method == "GET":
            to = (params or {}).get("To")
            found = [m for m in self.accepted + self.remote_only if not to or m["to"] == to]
            page = {"messages": list(reversed(found)), "next_page_uri": None, "page": 0, "page_size": 20,
                    "first_page_uri": uri, "previous_page_uri": None, "start": 0, "end": len(found), "uri": uri}
            return Response(200, json.dumps(page))
        item = self.script.pop(0) if self.script else 201
        if isinstance(item, BaseException):
            raise item
        status, payload = (item, None) if isinstance(item, int) else item
        if 200 <= status < 300:
            payload = payload or self.message_json(data)
            self.accepted.append(payload)
        elif payload is None:
            payload = {"code": status, "message": "error", "status": status}
        return Response(status, json.dumps(payload))

    @property
    def posts(self):
        return [r for r in self.requests if r["method"] == "POST"]


def twilio_backends(fake):
    from apps.messaging.delivery import Backends
    from apps.messaging.sms import TwilioSMS

    return Backends(sms=TwilioSMS(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, from_number="+12125550100", http_client=fake))


def signed_post(client, path, params, *, token=AUTH_TOKEN, url=None, signature=None, host="testserver"):
    """POST form params the way Twilio does, with X-Twilio-Signature over `url` (default: the
    URL the test client requests)."""
    url = url or f"http://{host}{path}"
    if signature is None:
        signature = RequestValidator(token).compute_signature(url, params)
    return client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature, HTTP_HOST=host)


def run_due(*, backends=None, now=None):
    from apps.messaging.delivery import outbox_deliver_due

    return outbox_deliver_due(backends=backends, now=now)


def deliver_until_settled(backends, row, *, rounds=10):
    """Run the periodic delivery job as time passes: each round jumps to the row's next
    attempt time, until the row is no longer PENDING."""
    from apps.messaging.delivery import outbox_deliver_due
    from apps.messaging.models import OutboundMessage

    now = timezone.now()
    for _ in range(rounds):
        outbox_deliver_due(backends=backends, now=now)
        row.refresh_from_db()
        if row.status != OutboundMessage.Status.PENDING:
            return row
        now = row.next_attempt_at + datetime.timedelta(seconds=1)
    return row
