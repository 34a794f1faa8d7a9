"""Act as the patients' phone app against a running clinic (README "Patient app API").

    python3 dev.py run                      # in one terminal (demo data included)
    .venv/bin/python examples/app_client.py    # in another

Signs in as the demo patient with a code sent by email (read from the development email
outbox, var/outbox/email/, as the patient would read their inbox), registers the phone for
push, lists the appointments, books the first free time of a self-bookable visit type (with
an Idempotency-Key, sent twice: one visit) and receives the booking's push through the local
push provider (var/outbox/push/, written by the worker: a generic line, no details), writes to
the care team, reads the notification inbox, turns on blood-pressure syncing and sends a
reading (the care team sees it on the patient's staff page), syncs, queues a message and a
reading "offline" and sends the queue twice (applied once), syncs again, then unregisters the
phone, signs out and shows that the token no longer works. Standard library only; prints each
step. Against a clinic started with another CLINIC_VAR_DIR (or port), run this with the same
CLINIC_VAR_DIR (and --base http://127.0.0.1:<port>)."""
import argparse
import json
import os
import pathlib
import re
import sys
import time
import urllib.error
import urllib.request
import uuid
from datetime import date, datetime, timedelta, timezone

ROOT = pathlib.Path(__file__).resolve().parent.parent
VAR_DIR = pathlib.Path(os.environ.get("CLINIC_VAR_DIR") or ROOT / "var")
EMAIL_DIR = VAR_DIR / "outbox" / "email"
PUSH_DIR = VAR_DIR / "outbox" / "push"
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


def register_device(app):
    """Register this "phone" for push (a made-up FCM token: the local provider only records
    what it would send), twice with the same token: one device."""
    token = f"demo-fcm-{uuid.uuid4().hex}"
    body = {"platform": "android", "push_token": token, "app_version": "1.0.0"}
    first = app.call("POST", "/api/v1/portal/devices/", body)
    again = app.call("POST", "/api/v1/portal/devices/", body)
    assert first[0] == 201 and again[0] == 200 and first[2]["id"] == again[2]["id"], (first, again)
    status, _, prefs = app.call("GET", "/api/v1/portal/push-preferences/")
    assert status == 200, (status, prefs)
    step(f"registered this phone for push: device {first[2]['id']} (the same token again: the same device); "
         f"push on for {', '.join(name for name, on in prefs.items() if on)}")
    return first[2]["id"]


def wait_for_push(device_id, after, timeout=60):
    """The push the worker delivered to `device_id` through the local push provider after
    `after` (a timestamp), as the phone would get it."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for path in sorted(PUSH_DIR.glob("*.json"), key=lambda p: p.stat().st_mtime):
            if path.stat().st_mtime < after:
                continue
            push = json.loads(path.read_text())
            if push["device"] == device_id:
                return push
        time.sleep(0.5)
    sys.exit(f"no push for device {device_id} arrived in {PUSH_DIR} within {timeout}s "
             "(is the worker running? are the patient's quiet hours on?)")


def blood_pressure(minutes_ago, systolic, diastolic):
    measured = (datetime.now(timezone.utc) - timedelta(minutes=minutes_ago)).replace(microsecond=0)
    return {"kind": "blood_pressure", "value": systolic, "diastolic": diastolic, "unit": "mmHg",
            "measured_at": measured.isoformat(), "source": "Omron BP7000 (example app)"}


def send_reading(app):
    """Turn on blood-pressure syncing and send one reading, as the phone's health store gave it."""
    status, _, allowed = app.call("PATCH", "/api/v1/portal/readings/permissions/", {"blood_pressure": True})
    assert status == 200 and allowed["blood_pressure"] is True, (status, allowed)
    status, _, sent = app.call("POST", "/api/v1/portal/readings/", {"readings": [blood_pressure(20, 128, 82)]})
    assert status == 201 and sent["accepted"] == 1, (status, sent)
    reading = sent["readings"][0]
    status, _, listed = app.call("GET", "/api/v1/portal/readings/?kind=blood_pressure")
    assert status == 200 and any(r["id"] == reading["id"] for r in listed["results"]), (status, listed)
    step(f"sent a blood-pressure reading {reading['value']:g}/{reading['diastolic']:g} {reading['unit']} "
         f"(patient-reported: {reading['patient_reported']}); the care team sees it on the patient's page")
    return reading["id"]


def sync_changes(app, cursor):
    """Every change since `cursor`, page after page: (changes, the new cursor)."""
    changes = []
    while True:
        status, _, page = app.call("GET", "/api/v1/portal/sync/" + (f"?since={cursor}" if cursor else ""))
        assert status == 200, (status, page)
        changes += page["changes"]
        cursor = page["cursor"]
        if not page["more"]:
            return changes, cursor


def go_offline_and_sync(app, thread_id):
    """Sync, "go offline" and queue a message, come back and send the queue twice (as after a
    lost answer: the server applies it once), then sync again and find the message."""
    changes, cursor = sync_changes(app, None)
    step(f"synced: {len(changes)} change(s) so far")
    queued = [{"client_id": str(uuid.uuid4()), "type": "message",
               "data": {"thread": thread_id, "body": "Written offline, on the train."}},
              {"client_id": str(uuid.uuid4()), "type": "reading",
               "data": {"readings": [blood_pressure(5, 131, 85)]}}]
    step("offline: queued a message to the care team and a blood-pressure reading on the phone")
    answers = [app.call("POST", "/api/v1/portal/sync/", {"actions": queued}) for _ in range(2)]
    (first, first_reading), (again, again_reading) = (body["results"] for _, _, body in answers)
    assert first["result"] == "applied" and again["replayed"] and again["body"]["id"] == first["body"]["id"], answers
    assert first_reading["status"] == 201 and first_reading["body"]["accepted"] == 1, answers
    assert again_reading["replayed"] and again_reading["body"] == first_reading["body"], answers
    reading_id = first_reading["body"]["readings"][0]["id"]
    step(f"back online: the queue was sent twice, the message ({first['body']['id']}) and the reading "
         f"({reading_id}) were applied once")
    for _ in range(20):  # a change joins the feed a moment after it is written (PORTAL_SYNC_SETTLE_SECONDS)
        changes, newer = sync_changes(app, cursor)
        seen = {(c["kind"], c["id"]) for c in changes}
        if {("message", first["body"]["id"]), ("reading", reading_id)} <= seen:
            step(f"synced again: {len(changes)} new change(s), among them the queued message and reading")
            return newer
        time.sleep(0.5)
    sys.exit("the queued message and reading never came back through sync")


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

    device_id = register_device(app)

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
    booked_at = time.time() - 1
    first = app.call("POST", "/api/v1/portal/appointments/", order, {"Idempotency-Key": key})
    again = app.call("POST", "/api/v1/portal/appointments/", order, {"Idempotency-Key": key})
    assert first[0] == 201 and again[0] == 201 and first[2]["id"] == again[2]["id"], (first, again)
    step(f"booked {visit_type['name']} at {slot['start']} with {slot['provider_name']}; "
         f"the same request again replayed ({again[1].get('Idempotent-Replayed')}) the same visit")
    push = wait_for_push(device_id, booked_at)
    step(f"the phone got a push through the local provider: \"{push['title']}: {push['body']}\" "
         "(a generic line; the app reads the detail from the inbox)")

    status, _, thread = app.call("POST", "/api/v1/portal/threads/", {"subject": "From the app", "body": "Hello from the phone app."})
    assert status == 201, (status, thread)
    step(f"wrote to the care team: thread {thread['id']}")

    status, _, inbox = app.call("GET", "/api/v1/portal/notifications/")
    assert status == 200, (status, inbox)
    status, _, unread = app.call("GET", "/api/v1/portal/notifications/unread-count/")
    step(f"notification inbox: {inbox['count']} notification(s), {unread['unread']} unread; newest: "
         + (inbox["results"][0]["title"] if inbox["results"] else "none"))

    send_reading(app)

    go_offline_and_sync(app, thread["id"])

    status, _, _ = app.call("DELETE", f"/api/v1/portal/devices/{device_id}/")
    assert status == 204, status
    step("unregistered the phone: no more push to it")
    status, _, _ = app.call("DELETE", "/_allauth/app/v1/auth/session")
    status_after, _, _ = app.call("GET", "/api/v1/portal/profile/")
    assert status_after == 401, status_after
    step("signed out: the token now answers 401")
    print("the app's walk through the clinic worked")


if __name__ == "__main__":
    main()
