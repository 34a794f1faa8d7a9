"""Act as the patients' phone app against a running clinic (README "Patient app API").

    python3 dev.py run                      # in one terminal (demo data included)
    .venv/bin/python examples/app_client.py    # in another

Signs in as the demo patient with a code sent by email (read from the development email
outbox, var/outbox/email/, as the patient would read their inbox), lists the appointments,
books the first free time of a self-bookable visit type (with an Idempotency-Key, sent twice:
one visit), writes to the care team, reads the notification inbox, then signs out and shows
that the token no longer works. Standard library only; prints each step."""
import argparse
import json
import pathlib
import re
import sys
import time
import urllib.error
import urllib.request
import uuid
from datetime import date, timedelta

ROOT = pathlib.Path(__file__).resolve().parent.parent
EMAIL_DIR = ROOT / "var" / "outbox" / "email"
CODE = re.compile(r"^([A-Z0-9]{4}-[A-Z0-9]{4})$", re.M)


class App:
    def __init__(self, base):
        self.base = base.rstrip("/")
        self.token = None

    def call(self, method, path, body=None, headers=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        request.add_header("Accept", "application/json")
        if self.token:
            request.add_header("X-Session-Token", self.token)
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, dict(response.headers), json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            raw = error.read()
            return error.code, dict(error.headers), json.loads(raw) if raw.startswith(b"{") else raw.decode()


def newest_code(after):
    """The sign-in code of the newest email written after `after` (a timestamp)."""
    for _ in range(50):
        files = sorted((p for p in EMAIL_DIR.glob("*") if p.stat().st_mtime >= after), key=lambda p: p.stat().st_mtime)
        for path in reversed(files):
            found = CODE.search(path.read_text(errors="replace"))
            if found:
                return found.group(1)
        time.sleep(0.2)
    sys.exit(f"no sign-in code arrived in {EMAIL_DIR}")


def step(text):
    print(f"- {text}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--email", default="patient@clinic.test")
    args = parser.parse_args()
    app = App(args.base)

    asked = time.time() - 1
    status, _, body = app.call("POST", "/_allauth/app/v1/auth/code/request", {"email": args.email})
    assert status == 401 and body["meta"]["session_token"], (status, body)
    app.token = body["meta"]["session_token"]
    code = newest_code(asked)
    step(f"asked for a sign-in code by email; the email holds {code}")
    status, _, body = app.call("POST", "/_allauth/app/v1/auth/code/confirm", {"code": code})
    assert status == 200, (status, body)
    app.token = body["meta"]["session_token"]
    step(f"signed in as {body['data']['user']['email']} with a session token")

    status, _, me = app.call("GET", "/api/v1/portal/profile/")
    assert status == 200, (status, me)
    step(f"profile: {me['first_name']} {me['last_name']}, MRN {me['mrn']}")

    status, _, visits = app.call("GET", "/api/v1/portal/appointments/")
    assert status == 200, (status, visits)
    step(f"{visits['count']} upcoming appointment(s): "
         + "; ".join(f"{v['visit_type_name']} {v['start']}" for v in visits["results"]))

    status, _, types = app.call("GET", "/api/v1/portal/visit-types/")
    assert status == 200 and types, (status, types)
    visit_type = types[0]
    day, slot = date.today() + timedelta(days=1), None
    for _ in range(30):
        status, _, free = app.call("GET", f"/api/v1/portal/availability/?visit_type={visit_type['id']}&day={day.isoformat()}")
        assert status == 200, (status, free)
        if free["slots"]:
            slot = free["slots"][0]
            break
        if not free["next_day"]:
            break
        day = date.fromisoformat(free["next_day"])
    assert slot, "no free time found"
    key = str(uuid.uuid4())
    order = {"slot": slot["id"], "visit_type": visit_type["id"]}
    first = app.call("POST", "/api/v1/portal/appointments/", order, {"Idempotency-Key": key})
    again = app.call("POST", "/api/v1/portal/appointments/", order, {"Idempotency-Key": key})
    assert first[0] == 201 and again[0] == 201 and first[2]["id"] == again[2]["id"], (first, again)
    step(f"booked {visit_type['name']} at {slot['start']} with {slot['provider_name']}; "
         f"the same request again replayed ({again[1].get('Idempotent-Replayed')}) the same visit")

    status, _, thread = app.call("POST", "/api/v1/portal/threads/", {"subject": "From the app", "body": "Hello from the phone app."})
    assert status == 201, (status, thread)
    step(f"wrote to the care team: thread {thread['id']}")

    status, _, inbox = app.call("GET", "/api/v1/portal/notifications/")
    assert status == 200, (status, inbox)
    status, _, unread = app.call("GET", "/api/v1/portal/notifications/unread-count/")
    step(f"notification inbox: {inbox['count']} notification(s), {unread['unread']} unread; newest: "
         + (inbox["results"][0]["title"] if inbox["results"] else "none"))

    status, _, _ = app.call("DELETE", "/_allauth/app/v1/auth/session")
    status_after, _, _ = app.call("GET", "/api/v1/portal/profile/")
    assert status_after == 401, status_after
    step("signed out: the token now answers 401")
    print("the app's walk through the clinic worked")


if __name__ == "__main__":
    main()
