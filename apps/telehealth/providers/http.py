"""The HTTP boundary of the vendor providers: one small callable, replaced by a fake in tests
(tests never reach the network).

    client(method, url, *, data=None, auth=None) -> (status_code, parsed JSON body or {})
"""
import base64
import json
import urllib.error
import urllib.parse
import urllib.request

TIMEOUT = 10


def urllib_client(method, url, *, data=None, auth=None):
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, method=method)
    if body is not None:
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
    if auth:
        request.add_header("Authorization", "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310 (vendor URLs only)
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        parsed = json.loads(raw or b"{}")
    except ValueError:
        parsed = {}
    return status, parsed if isinstance(parsed, dict) else {}
