"""A clearinghouse reached over HTTPS: the 270 is POSTed as text/plain (X12) with a bearer
token, the body of a 200 is the 271. The HTTP client is any object with httpx's
`post(url, content=, headers=, timeout=)` (tests pass a fake one; nothing here opens a socket
until a real client is used)."""
import httpx
from django.conf import settings

from apps.billing.clearinghouse import Clearinghouse, ClearinghouseUnavailable

MAX_ANSWER_BYTES = 1_000_000


class HttpClearinghouse(Clearinghouse):
    name = "http"

    def __init__(self, *, url=None, token=None, client=None, timeout=20.0):
        self.url = url if url is not None else settings.BILLING_CLEARINGHOUSE_URL
        self.token = token if token is not None else settings.BILLING_CLEARINGHOUSE_TOKEN
        self.client = client or httpx.Client()
        self.timeout = timeout

    def exchange(self, inquiry):
        if not self.url:
            raise ClearinghouseUnavailable("BILLING_CLEARINGHOUSE_URL is not set.")
        try:
            response = self.client.post(self.url, content=inquiry.encode("ascii", "replace"), timeout=self.timeout,
                                        headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/edi-x12"})
        except httpx.HTTPError as exc:
            raise ClearinghouseUnavailable(f"The clearinghouse could not be reached ({type(exc).__name__}).") from None
        if response.status_code != 200:
            raise ClearinghouseUnavailable(f"The clearinghouse answered HTTP {response.status_code}.")
        if len(response.content) > MAX_ANSWER_BYTES:
            raise ClearinghouseUnavailable("The clearinghouse's answer is too large.")
        try:
            return response.content.decode("utf-8")
        except UnicodeDecodeError:
            raise ClearinghouseUnavailable("The clearinghouse's answer is not text.") from None
