"""Benchmark of the virtual waiting room's staff queue (/ws/staff/telehealth/queue/) over two
web processes joined only by Redis (issue 11, "Speed").

    .venv/bin/python bench/waiting_room.py               # 200 patients, 4 staff screens, 10 actions/s, burst of 300
    .venv/bin/python bench/waiting_room.py --quick       # smoke run: 40 patients, burst of 60
    .venv/bin/python bench/waiting_room.py --layout daphne   # HTTP on the two daphnes too (as tests/telehealth/test_two_servers.py)

What it does, in order:
  1. creates its own PostgreSQL database (default clinic_bench_wr) when missing and migrates it,
     as bench/http.py does;
  2. in a child process with clinic.settings.production (seed()): tops up --patients portal
     patients (state NY, a verified email, a signed telehealth consent through consents'
     services), --providers providers licensed in NY offering one VIRTUAL visit type, --staff
     nurses (telehealth view and admit) with a confirmed TOTP device and a front-desk user;
     then books, for this run, two video visits per patient starting 5-12 minutes from now
     (visit_book_for_patient; telehealth's wiring makes each session, whose waiting room is
     open), replaces the database's sessions with one signed-in session per person (staff:
     the verified second factor, as tests/conftest.py `login`), and creates an API key for
     /api/v1/whoami/;
  3. starts two web processes with clinic.settings.production, REDIS_URL (channels_redis
     pub/sub layer) and a channel prefix of this run's own: --layout serve (default) runs
     `python -m clinic.serve` twice (bench/http.py's start_server: gunicorn's sync workers
     answer HTTP, daphne the sockets, as in production); --layout daphne runs two daphnes that
     answer both (bench/ws.py's start_daphnes, the approach of tests/telehealth/test_two_servers.py);
  4. opens --staff queue sockets, alternating between the two daphnes, each waiting for hello;
  5. whoami, the reference: GET /api/v1/whoami/ (Api-Key) at --rate requests/s, alternating the
     two webs, as many as the steady actions below, then --burst requests at once;
  6. steady phase, at --rate actions/s (patients 0 and 1 talk to the first web, 2 and 3 to the
     second, and so on, always with the room socket /ws/telehealth/<session>/room/ open, as
     the page does):
       join:  every patient enters the first session's waiting room (POST .../waiting-room/);
       then (not timed) the even patients answer the pre-visit questions;
       admit: a nurse on the *other* web admits each even patient (POST .../admit/: consent
              and licensure gates, the visit checked in), interleaved with
       leave: each odd patient closes their room socket (the consumer marks the entry LEFT);
  7. burst, with --burst / 3 even and as many odd patients (all of them at 300): (not timed)
     they enter their second session's waiting room, the even ones answer, the odd ones open
     their first session's room again; then, all at once: the even ones admitted from the
     second session, the odd ones leave it, and the odd ones enter the first session again;
  8. latency = from the action's start (the POST sent, the socket's close begun) to the queue
     frame {"type": "queue", "event": waiting|left|admitted, "session": id} on a staff socket,
     for every staff socket; lost = not received within --drain-timeout s of the phase's last
     action; also each POST's own response time, write->screen (from the WaitingRoomEvent row's
     `at`, same clock, to the frame: the real-time leg without the request), the CPU of the
     webs and PostgreSQL per action, and a check of the entries in the database after the
     burst (read before the room sockets close); prints p50/p99 per event and phase
     and their ratio to whoami's p50/p99 measured above, beside the targets; stops everything.

Exit status: 0 when the targets are met (steady p99 < 100 ms for join, leave and admit; 0 lost
and no failed action in the burst), 1 when not, 2 on a setup error.
"""
import sys
from pathlib import Path

if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)  # bench/http.py would shadow the standard library's http package

import argparse
import asyncio
import importlib.util
import json
import os
import secrets
import time
import types
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def _load(name, filename):
    spec = importlib.util.spec_from_file_location(name, Path(__file__).resolve().parent / filename)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The shared pieces: database set-up, the production environment, server start and stop, CPU
# accounting (bench/http.py); the two daphnes and their stop (bench/ws.py).
bench_http = _load("bench_http", "http.py")
bench_ws = _load("bench_ws", "ws.py")
SetupError, log, percentile = bench_http.SetupError, bench_http.log, bench_ws.percentile

WHOAMI_PATH = bench_http.WHOAMI_PATH
QUEUE_PATH = "/ws/staff/telehealth/queue/"
ROOM_PATH = "/ws/telehealth/{}/room/"
API = "/api/v1/telehealth/sessions/{}/{}"
PATIENT_EMAIL = "bench-wr-patient-{:04d}@example.test"
NURSE_EMAIL = "bench-wr-nurse-{:02d}@example.test"
PROVIDER_EMAIL = "bench-wr-provider-{:02d}@example.test"
DESK_EMAIL = "bench-wr-desk@example.test"
VISIT_TYPE = "Bench video visit"
LOCATION = "Bench telehealth"
STATE = "NY"
EVENT_OF = {"join": "waiting", "leave": "left", "admit": "admitted"}
KINDS = ("join", "leave", "admit")
TARGET_P99_MS = 100.0
CSRF = secrets.token_hex(16)  # Django compares the cookie's secret with the header: a fixed pair


# --- seeding (a child process with the production settings) -----------------------------

def seed(patients, staff, providers):
    import datetime

    import django

    django.setup()
    from allauth.account.models import EmailAddress
    from django.conf import settings
    from django.contrib.sessions.models import Session
    from django.test import Client
    from django.utils import timezone
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from apps.accounts.models import ApiKey, User
    from apps.accounts.roles import ensure_roles
    from apps.accounts.services import api_key_create, api_key_revoke, staff_user_create
    from apps.consents import services as consents
    from apps.consents.demo import TEMPLATES
    from apps.consents.models import ConsentKind, ConsentTemplate
    from apps.patients.models import Patient
    from apps.patients.services import patient_create
    from apps.scheduling.models import Location, Mode, Provider, VisitSlot, VisitType
    from apps.scheduling.services import visit_book_for_patient
    from apps.telehealth.gates import consent_status
    from apps.telehealth.models import TelehealthSession

    ensure_roles()
    created = {"patients": 0, "staff": 0, "providers": 0, "consents": 0}

    def staff_user(email, role, name):
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            # No password (unusable): hashing hundreds of passwords would only slow the set-up.
            user = staff_user_create(email=email, password=None, full_name=name, role=role)
            created["staff" if role != "provider" else "providers"] += 1
        if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
        return user

    location, _ = Location.objects.get_or_create(name=LOCATION, defaults={"timezone": "America/New_York"})
    visit_type, _ = VisitType.objects.get_or_create(name=VISIT_TYPE, defaults={"mode": Mode.VIRTUAL, "duration_minutes": 30})
    desk = staff_user(DESK_EMAIL, "front_desk", "Bench Desk")
    clinicians = []
    for i in range(providers):
        user = staff_user(PROVIDER_EMAIL.format(i), "provider", f"Bench Provider {i}")
        provider, _ = Provider.objects.get_or_create(user=user, defaults={"licensed_states": [STATE], "credentials": "MD"})
        provider.visit_types.add(visit_type)
        clinicians.append(provider)
    nurses = [staff_user(NURSE_EMAIL.format(i), "nurse", f"Bench Nurse {i}") for i in range(staff)]

    template = ConsentTemplate.objects.filter(kind=ConsentKind.TELEHEALTH_GENERAL, jurisdiction="",
                                              published_at__isnull=False).order_by("-published_at").first()
    if template is None:
        spec = next(t for t in TEMPLATES if t["kind"] == ConsentKind.TELEHEALTH_GENERAL)
        template = ConsentTemplate.objects.create(version=1, **spec)
        consents.consent_template_publish(template=template)
        template.refresh_from_db()

    people = []
    for i in range(patients):
        email = PATIENT_EMAIL.format(i)
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            user = User.objects.create_user(email, password=None, full_name=f"Bench Patient {i}")
        EmailAddress.objects.get_or_create(user=user, email=user.email, defaults={"verified": True, "primary": True})
        patient = Patient.objects.filter(user=user).first()
        if patient is None:
            patient = patient_create(user=user, flag_duplicates=False, data={
                "first_name": "Bench", "last_name": f"Patient{i:04d}", "date_of_birth": datetime.date(1980, 1, 1),
                "email": email, "state": STATE, "city": "Albany",
            })
            created["patients"] += 1
        people.append((user, patient))

    # This run's visits: two per patient, each on its own slot start (unique per provider),
    # 5 to 12 minutes ahead: every waiting room is open (TELEHEALTH_WAITING_ROOM_OPENS_MINUTES,
    # 15, before the start) from now on.
    base = timezone.now() + datetime.timedelta(minutes=5)
    sessions = []
    for i, (user, patient) in enumerate(people):
        pair = []
        for k in range(2):
            start = base + datetime.timedelta(seconds=2 * i + k)
            slot = VisitSlot.objects.create(provider=clinicians[i % len(clinicians)], location=location, mode=Mode.VIRTUAL,
                                            start=start, end=start + datetime.timedelta(minutes=30))
            visit = visit_book_for_patient(patient=patient, slot=slot, visit_type=visit_type, actor=desk)
            pair.append(TelehealthSession.objects.select_related("patient").get(visit=visit))
        if not consent_status(pair[0], STATE, now=timezone.now())[0]["valid"]:
            consent = consents.consent_create(patient=patient, template=template)
            consents.consent_sign(
                consent=consent, actor=user, acknowledged=template.clause_keys(),
                answers={check["key"]: check["answer"] for check in template.checks}, typed_name=patient.legal_name,
                typed_signature=patient.legal_name, stepped_up_at=timezone.now(), ip="127.0.0.1", user_agent="bench",
            )
            created["consents"] += 1
        sessions.append([str(s.pk) for s in pair])

    # The bench's own database: earlier runs' sessions are of no use to anyone.
    Session.objects.all().delete()
    name = settings.SESSION_COOKIE_NAME

    def cookie(user):
        client = Client()
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        if user.is_staff:
            session = client.session
            session[DEVICE_ID_SESSION_KEY] = user.totpdevice_set.filter(confirmed=True).first().persistent_id
            session.save()
        return f"{name}={client.cookies[name].value}"

    for old in ApiKey.objects.active().filter(name__startswith="bench-wr-"):
        api_key_revoke(api_key=old)
    _, raw = api_key_create(name=f"bench-wr-{int(time.time())}-{secrets.token_hex(3)}", scopes=["telehealth:read"])
    print(json.dumps({
        "patients": [{"cookie": cookie(user), "sessions": pair} for (user, _), pair in zip(people, sessions)],
        "staff": [cookie(nurse) for nurse in nurses], "raw_key": raw, "created": created,
    }))


# --- the two web processes ----------------------------------------------------------------

class Web:
    def __init__(self, index, proc, http_port, ws_port):
        self.index, self.proc, self.http_port, self.ws_port = index, proc, http_port, ws_port
        self.http = f"http://127.0.0.1:{http_port}"
        self.ws = f"ws://127.0.0.1:{ws_port}"
        self.origin = f"http://127.0.0.1:{ws_port}"


def start_webs(args):
    webs = []
    if args.layout == "daphne":
        for i, (proc, port) in enumerate(bench_ws.start_daphnes(args)):
            webs.append(Web(i, proc, port, port))
        bench_ws.wait_for_ports([(w.proc, w.ws_port) for w in webs])
        return webs
    for i in range(2):
        one = types.SimpleNamespace(**vars(args))
        one.server_log = f"{args.server_log}.{i}" if args.server_log else ""
        proc, port, ws_port = bench_http.start_server(one)
        webs.append(Web(i, proc, port, ws_port))
    for web in webs:
        bench_http.wait_until_up(web.proc, web.http_port, web.ws_port, timeout=90)
    return webs


def stop_webs(args, webs):
    if args.layout == "daphne":
        bench_ws.stop_daphnes([(w.proc, w.ws_port) for w in webs])
    else:
        for web in webs:
            bench_http.stop_server(web.proc)


# --- clients ---------------------------------------------------------------------------------

async def _connect(url, origin, cookie, timeout):
    from websockets.asyncio.client import connect

    ws = await connect(url, origin=origin, additional_headers={"Cookie": cookie}, open_timeout=timeout,
                       close_timeout=5, ping_interval=None, proxy=None)
    first = json.loads(await asyncio.wait_for(ws.recv(), timeout))
    if first != {"type": "hello"}:
        raise SetupError(f"{url}: expected hello, got {first}")
    return ws


class QueueScreen:
    """A staff queue socket: every queue frame it received, with its receive time."""

    def __init__(self, index, web, cookie):
        self.index, self.web, self.cookie = index, web, cookie
        self.frames = []  # (time.monotonic(), session, event)
        self.ws = self.reader = self.closed_with = None
        self.unexpected = 0

    async def open(self, timeout):
        self.ws = await _connect(self.web.ws + QUEUE_PATH, self.web.origin, self.cookie, timeout)
        self.reader = asyncio.create_task(self._read())

    async def _read(self):
        from websockets.exceptions import ConnectionClosed

        try:
            async for raw in self.ws:
                now = time.monotonic()
                message = json.loads(raw)
                if message.get("type") == "queue" and message.get("session"):
                    self.frames.append((now, message["session"], message.get("event")))
                else:
                    self.unexpected += 1
        except ConnectionClosed:
            pass
        if not getattr(self, "closing", False):
            self.closed_with = self.ws.close_code

    def first_after(self, session, event, t0):
        for t, s, e in self.frames:  # frames arrive in time order
            if t >= t0 and s == session and e == event:
                return t
        return None

    def count(self, wanted, t0):
        """How many of the (session, event) pairs in `wanted` arrived after t0."""
        return sum(1 for t, s, e in self.frames if t >= t0 and (s, e) in wanted)

    async def close(self):
        self.closing = True
        await _close_quietly(self.ws, self.reader)


class Room:
    """A patient's room socket for one session; what it receives is read and dropped."""

    def __init__(self, web, cookie, session):
        self.web, self.cookie, self.session = web, cookie, session
        self.ws = self.reader = None

    async def open(self, timeout):
        self.ws = await _connect(self.web.ws + ROOM_PATH.format(self.session), self.web.origin, self.cookie, timeout)
        self.reader = asyncio.create_task(self._drain())

    async def _drain(self):
        from websockets.exceptions import ConnectionClosed

        try:
            async for _ in self.ws:
                pass
        except ConnectionClosed:
            pass

    async def close(self):
        await _close_quietly(self.ws, self.reader)
        self.ws = self.reader = None


async def _close_quietly(ws, reader):
    if ws is not None:
        try:
            await asyncio.wait_for(ws.close(), 10)
        except Exception:
            pass
    if reader is not None:
        try:
            await asyncio.wait_for(reader, 5)
        except (Exception, asyncio.CancelledError):
            reader.cancel()


class Patient:
    def __init__(self, index, web, cookie, sessions):
        self.index, self.web, self.cookie, self.sessions = index, web, cookie, sessions
        self.rooms = {}  # session -> Room


class Http:
    """POSTs and GETs with aiohttp (keep-alive), each timed."""

    def __init__(self, session):
        self.session = session

    async def post(self, web, path, cookie, body=None):
        headers = {"Cookie": f"{cookie}; csrftoken={CSRF}", "X-CSRFToken": CSRF,
                   "Content-Type": "application/json", "Accept": "application/json"}
        return await self._call("POST", web.http + path, headers, json.dumps(body or {}))

    async def get(self, web, path, headers):
        return await self._call("GET", web.http + path, headers, None)

    async def _call(self, method, url, headers, data):
        t0 = time.monotonic()
        try:
            async with self.session.request(method, url, headers=headers, data=data) as response:
                text = await response.text()
                return response.status, text, t0, time.monotonic()
        except Exception as exc:
            return None, repr(exc), t0, time.monotonic()


class Action:
    __slots__ = ("kind", "session", "t0", "t1", "status", "detail", "web", "patient")

    def __init__(self, kind, session, web, patient=None):
        self.kind, self.session, self.web, self.patient = kind, session, web, patient
        self.t0 = self.t1 = self.status = None
        self.detail = ""

    @property
    def ok(self):
        return self.status == 200 or (self.kind == "leave" and self.status == "closed")


# --- the run --------------------------------------------------------------------------------

async def paced(coroutines, rate):
    """Start each coroutine function at its time (rate per second), without waiting for the
    earlier ones, as independent arrivals; returns when all are done."""
    start, tasks = time.monotonic(), []
    for i, make in enumerate(coroutines):
        delay = start + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(make()))
    await asyncio.gather(*tasks)
    return time.monotonic() - start


async def at_once(coroutines, limit=None):
    gate = asyncio.Semaphore(limit) if limit else None

    async def one(make):
        if gate is None:
            return await make()
        async with gate:
            return await make()

    start = time.monotonic()
    await asyncio.gather(*(one(make) for make in coroutines))
    return time.monotonic() - start


async def run(args, seeded, webs):
    import aiohttp

    staff_cookies, key = seeded["staff"], seeded["raw_key"]
    # Pairs of patients per web (0, 1 on the first; 2, 3 on the second...): the even and the odd
    # patients, who act differently, are each spread over both webs.
    patients = [Patient(i, webs[i // 2 % 2], p["cookie"], p["sessions"]) for i, p in enumerate(seeded["patients"])]
    screens = [QueueScreen(i, webs[i % 2], cookie) for i, cookie in enumerate(staff_cookies)]
    results = {"whoami": {}, "phases": {}}
    cpu = WebCpu(webs, args.database_url)
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    http_session = aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60))
    http = Http(http_session)
    try:
        await at_once([lambda s=s: s.open(args.connect_timeout) for s in screens], limit=10)
        log(f"{len(screens)} staff queue sockets open, on :{', :'.join(str(w.ws_port) for w in webs)}")

        # Warm-up, unmeasured: every web's workers, connections and Redis subscriptions.
        whoami_headers = {"Authorization": f"Api-Key {key}", "Accept": "application/json"}
        for web in webs:
            for _ in range(8):
                status, text, _, _ = await http.get(web, WHOAMI_PATH, whoami_headers)
                if status != 200:
                    raise SetupError(f"{WHOAMI_PATH} on :{web.http_port} answered {status}: {text[:300]}")

        # The reference: whoami at the same pace and burst as the actions, on both webs.
        steady_count = len(patients) + 2 * (len(patients) // 2)
        for phase, count in (("steady", steady_count), ("burst", args.burst)):
            timings = []

            async def whoami(i, timings=timings):
                status, _, t0, t1 = await http.get(webs[i % 2], WHOAMI_PATH, whoami_headers)
                timings.append((status, (t1 - t0) * 1000))

            makers = [lambda i=i: whoami(i) for i in range(count)]
            before = cpu.snapshot()
            took = await (paced(makers, args.rate) if phase == "steady" else at_once(makers))
            results["whoami"][phase] = latency_figures([ms for status, ms in timings if status == 200]) | {
                "requests": count, "failed": sum(1 for status, _ in timings if status != 200), "took_s": took,
                "cpu": cpu.spent(before, cpu.snapshot(), count)}
            log(f"whoami {phase}: {count} requests, p50 {fmt(results['whoami'][phase]['p50'])} ms, "
                f"p99 {fmt(results['whoami'][phase]['p99'])} ms")

        async def open_room(p, session):
            room = Room(p.web, p.cookie, session)
            await room.open(args.connect_timeout)
            p.rooms[session] = room

        async def do_join(action, p, session):
            status, text, action.t0, action.t1 = await http.post(p.web, API.format(session, "waiting-room/"), p.cookie)
            action.status, action.detail = status, "" if status == 200 else text[:300]

        async def do_answer(p, session):
            status, text, _, _ = await http.post(p.web, API.format(session, "waiting-room/answers/"), p.cookie,
                                                 {"current_state": STATE, "at_home": True})
            if status != 200:
                raise SetupError(f"answers for {session} answered {status}: {text[:300]}")

        async def do_admit(action, p, session):
            other = webs[(p.web.index + 1) % 2]  # a nurse on the other web
            nurse = staff_cookies[p.index // 2 % len(staff_cookies)]
            status, text, action.t0, action.t1 = await http.post(other, API.format(session, "admit/"), nurse)
            action.status, action.detail = status, "" if status == 200 else text[:300]

        async def do_leave(action, p, session):
            room = p.rooms.pop(session)
            action.t0 = time.monotonic()
            await room.close()
            action.t1, action.status = time.monotonic(), "closed"

        def action(kind, p, session):
            a = Action(kind, session, p.web.index, p.index)
            runner = {"join": do_join, "leave": do_leave, "admit": do_admit}[kind]
            return a, (lambda: runner(a, p, session))

        evens, odds = patients[0::2], patients[1::2]

        # --- steady -------------------------------------------------------------------------
        await at_once([lambda p=p: open_room(p, p.sessions[0]) for p in patients], limit=20)
        log(f"{len(patients)} room sockets open (first sessions); steady phase at {args.rate:g} actions/s")
        before = cpu.snapshot()
        joins = [action("join", p, p.sessions[0]) for p in patients]
        took_join = await paced([m for _, m in joins], args.rate)
        await wait_delivered(screens, [a for a, _ in joins], args.drain_timeout)
        joined = {a.patient for a, _ in joins if a.ok}  # a failed join is reported, not answered for
        await at_once([lambda p=p: do_answer(p, p.sessions[0]) for p in evens if p.index in joined], limit=10)
        moves = []
        for even, odd in zip(evens, odds + [None] * (len(evens) - len(odds))):
            moves.append(action("admit", even, even.sessions[0]))
            if odd is not None:
                moves.append(action("leave", odd, odd.sessions[0]))
        took_moves = await paced([m for _, m in moves], args.rate)
        steady = [a for a, _ in joins] + [a for a, _ in moves]
        waited = await wait_delivered(screens, [a for a, _ in moves], args.drain_timeout)
        results["phases"]["steady"] = {"events": phase_figures(screens, steady, write_times(args, steady)),
            "took_s": took_join + took_moves, "waited_s": waited, "cpu": cpu.spent(before, cpu.snapshot(), len(steady))}
        log(f"steady: {len(steady)} actions; delivered {waited:.1f} s after the last one")

        # --- burst --------------------------------------------------------------------------
        per_kind = args.burst // 3
        burst_evens, burst_odds = evens[:per_kind], odds[:per_kind]
        await at_once([lambda p=p: open_room(p, p.sessions[1]) for p in burst_evens + burst_odds], limit=20)
        await at_once([lambda p=p: open_room(p, p.sessions[0]) for p in burst_odds], limit=20)
        prep = [action("join", p, p.sessions[1]) for p in burst_evens + burst_odds]
        await at_once([m for _, m in prep], limit=10)
        failed = [a for a, _ in prep if not a.ok]
        if failed:
            raise SetupError(f"{len(failed)} joins before the burst failed: {failed[0].status} {failed[0].detail}")
        await at_once([lambda p=p: do_answer(p, p.sessions[1]) for p in burst_evens], limit=10)
        await wait_delivered(screens, [a for a, _ in prep], args.drain_timeout)
        await asyncio.sleep(1.0)  # the answers' frames too, before the clock starts
        burst = []
        for i in range(per_kind):
            burst.append(action("admit", burst_evens[i], burst_evens[i].sessions[1]))
            burst.append(action("leave", burst_odds[i], burst_odds[i].sessions[1]))
            burst.append(action("join", burst_odds[i], burst_odds[i].sessions[0]))
        log(f"burst: {len(burst)} actions at once ({per_kind} each of admit, leave, join)")
        before = cpu.snapshot()
        took = await at_once([m for _, m in burst])
        waited = await wait_delivered(screens, [a for a, _ in burst], args.drain_timeout)
        results["phases"]["burst"] = {"events": phase_figures(screens, [a for a, _ in burst],
                                                             write_times(args, [a for a, _ in burst])),
            "took_s": took, "waited_s": waited, "cpu": cpu.spent(before, cpu.snapshot(), len(burst))}
        log(f"burst: sent in {took * 1000:.0f} ms; delivered {waited:.2f} s after the last action finished")

        results["screens"] = {
            "closed_by_server": {s.index: s.closed_with for s in screens if s.closed_with is not None},
            "unexpected_frames": sum(s.unexpected for s in screens),
        }
        # Read before the room sockets close (closing a waiting patient's room makes them LEFT).
        results["entries"] = entry_counts(args, [s for p in patients for s in p.sessions])
        results["expected_entries"] = {"ADMITTED": len(evens) + per_kind, "LEFT": len(odds) + per_kind, "WAITING": per_kind}
        return results
    finally:
        rooms = [room for p in patients for room in p.rooms.values()]
        await at_once([lambda r=r: r.close() for r in rooms], limit=50)
        await asyncio.gather(*(s.close() for s in screens), return_exceptions=True)
        await http_session.close()
        cpu.close()


async def wait_delivered(screens, actions, timeout):
    """Until every open screen has the frame of every successful action, or `timeout` s after
    the last one; returns the seconds waited."""
    start = time.monotonic()
    started = [a.t0 for a in actions if a.t0 is not None]
    if not started:
        return 0.0
    t0 = min(started)
    wanted = {(a.session, EVENT_OF[a.kind]) for a in actions if a.ok}
    while time.monotonic() - start < timeout:
        live = [s for s in screens if s.closed_with is None]
        if not live or all(s.count(wanted, t0) >= len(wanted) for s in live):
            break
        await asyncio.sleep(0.1)
    return time.monotonic() - start


# --- figures ------------------------------------------------------------------------------

def latency_figures(values):
    values = sorted(values)
    return {"n": len(values), "p50": percentile(values, 50), "p99": percentile(values, 99),
            "max": values[-1] if values else float("nan")}


# time.monotonic() + OFFSET = time.time(): the server's timestamps (same machine, same clock)
# on the bench's monotonic scale.
OFFSET = time.time() - time.monotonic()


def write_times(args, actions):
    """{(session, kind): [monotonic times]} of the waiting-room event rows the servers wrote for
    these sessions (WaitingRoomEvent.at: taken just before the row's INSERT, a few statements
    before the commit that sends the queue frame)."""
    import psycopg

    sessions = sorted({a.session for a in actions})
    with psycopg.connect(args.database_url, autocommit=True, connect_timeout=5) as conn:
        rows = conn.execute(
            "SELECT e.session_id::text, ev.from_status, ev.to_status, ev.at FROM telehealth_waitingroomevent ev "
            "JOIN telehealth_waitingroomentry e ON e.id = ev.entry_id WHERE e.session_id = ANY(%s::uuid[]) "
            "AND ev.to_status IN ('WAITING', 'LEFT', 'ADMITTED')", [sessions]).fetchall()
    out = {}
    for session, before, after, at in rows:
        kind = {"LEFT": "leave", "ADMITTED": "admit"}.get(after, "join" if before == "" else None)
        if kind:
            out.setdefault((session, kind), []).append(at.timestamp() - OFFSET)
    return {key: sorted(times) for key, times in out.items()}


def phase_figures(screens, actions, writes):
    """Per kind: event latency over every (action, screen), lost frames, failed actions, the
    POSTs' own response times, and the delivery from the event row's write to each screen;
    the latency split by whether the screen is on the actor's web."""
    out = {}
    for kind in KINDS:
        mine = [a for a in actions if a.kind == kind]
        if not mine:
            continue
        done = [a for a in mine if a.ok]
        latencies, same, other, delivery, lost = [], [], [], [], 0
        for a in done:
            written = next((w for w in writes.get((a.session, kind), []) if w >= a.t0 - 0.002), None)
            for s in screens:
                t = s.first_after(a.session, EVENT_OF[kind], a.t0)
                if t is None:
                    lost += 1
                    continue
                ms = (t - a.t0) * 1000
                latencies.append(ms)
                (same if s.web.index == a.web else other).append(ms)
                if written is not None:
                    delivery.append((t - written) * 1000)
        out[kind] = latency_figures(latencies) | {
            "actions": len(mine), "failed": len(mine) - len(done), "expected": len(done) * len(screens), "lost": lost,
            "failures": sorted({f"{a.status} {a.detail[:200]}" for a in mine if not a.ok})[:3],
            "response": latency_figures([(a.t1 - a.t0) * 1000 for a in done]),
            "from_write": latency_figures(delivery),
            "same_web_p99": percentile(sorted(same), 99), "other_web_p99": percentile(sorted(other), 99),
        }
    return out


class WebCpu:
    """CPU (ms) of the two webs' process groups and of the bench database's backends."""

    def __init__(self, webs, database_url):
        self.webs = webs
        self.db = bench_http.DatabaseCpu(database_url)

    def snapshot(self):
        return {"webs": sum(bench_http.group_cpu_ms(w.proc.pid) for w in self.webs), "db": self.db.snapshot(),
                "bench": time.process_time() * 1000}

    def spent(self, before, after, count):
        count = max(1, count)
        return {"webs_ms_per": (after["webs"] - before["webs"]) / count,
                "db_ms_per": bench_http.DatabaseCpu.spent(before["db"], after["db"]) / count,
                "bench_ms_per": (after["bench"] - before["bench"]) / count}

    def close(self):
        self.db.close()


def entry_counts(args, sessions):
    """Waiting-room entries of this run's sessions, by status, read after the run."""
    import psycopg

    with psycopg.connect(args.database_url, autocommit=True, connect_timeout=5) as conn:
        rows = conn.execute("SELECT status, count(*) FROM telehealth_waitingroomentry WHERE session_id = ANY(%s::uuid[]) "
                            "GROUP BY status", [sessions]).fetchall()
    return dict(rows)


def fmt(value):
    return "-" if value != value else (f"{value:,.0f}" if value >= 1000 else f"{value:.1f}")


def ratio(value, reference):
    if value != value or reference != reference or not reference:
        return "-"
    return f"{value / reference:.2f}x"


def report(args, seeded, results):
    entries = results["entries"]
    whoami, phases = results["whoami"], results["phases"]
    print()
    layout = ("two `clinic.serve` (gunicorn sync workers for HTTP, daphne for sockets)" if args.layout == "serve"
              else "two daphnes (HTTP and sockets)")
    print(f"Waiting room -> staff queue {QUEUE_PATH}: {len(seeded['patients'])} patients, {len(seeded['staff'])} staff "
          f"screens, over {layout}; clinic.settings.production, channels_redis pub/sub; {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}")
    print("latency = the action's start (POST sent / room socket's close begun) to the queue frame on a staff screen, "
          "over every screen; response = the POST's own time; write->screen = from the server's event row (written "
          "just before the commit) to the frame: the real-time leg alone")
    print()
    header = (f"{'phase':<7} {'event':<6} {'actions':>7} {'failed':>6} {'frames':>13} {'lost':>5} {'p50 ms':>7} {'p99 ms':>7} "
              f"{'max ms':>7} {'p50/whoami':>10} {'p99/whoami':>10} {'resp p50':>8} {'resp p99':>8} {'write->screen p50/p99':>21}")
    print(header)
    print("-" * len(header))
    for phase in ("steady", "burst"):
        ref = whoami[phase]
        print(f"{phase:<7} {'whoami':<6} {ref['requests']:>7} {ref['failed']:>6} {'':>13} {'':>5} {fmt(ref['p50']):>7} "
              f"{fmt(ref['p99']):>7} {fmt(ref['max']):>7} {'1.00x':>10} {'1.00x':>10}")
        for kind, r in phases[phase]["events"].items():
            resp = r["response"]
            print(f"{'':<7} {kind:<6} {r['actions']:>7} {r['failed']:>6} {r['n']:>6}/{r['expected']:<6} {r['lost']:>5} "
                  f"{fmt(r['p50']):>7} {fmt(r['p99']):>7} {fmt(r['max']):>7} {ratio(r['p50'], ref['p50']):>10} "
                  f"{ratio(r['p99'], ref['p99']):>10} {fmt(resp['p50']) if kind != 'leave' else '-':>8} "
                  f"{fmt(resp['p99']) if kind != 'leave' else '-':>8} "
                  f"{fmt(r['from_write']['p50']) + ' / ' + fmt(r['from_write']['p99']):>21}")
    print("-" * len(header))
    for phase in ("steady", "burst"):
        c, w = phases[phase]["cpu"], whoami[phase]["cpu"]
        print(f"  {phase}: CPU per action: webs {c['webs_ms_per']:.2f} ms, PostgreSQL {c['db_ms_per']:.2f} ms "
              f"(whoami: {w['webs_ms_per']:.2f} + {w['db_ms_per']:.2f} ms); p99 by screen on the actor's web / the other: "
              + ", ".join(f"{k} {fmt(r['same_web_p99'])}/{fmt(r['other_web_p99'])}" for k, r in phases[phase]["events"].items()))
    checks = []
    steady = phases["steady"]["events"]
    worst = max(r["p99"] for r in steady.values())
    ok = all(r["p99"] < TARGET_P99_MS and not r["lost"] and not r["failed"] for r in steady.values())
    checks.append(ok)
    print(f"target: p99 < {TARGET_P99_MS:.0f} ms for join, leave and admit (steady, {args.rate:g} actions/s): "
          + ", ".join(f"{k} {fmt(r['p99'])}" for k, r in steady.items())
          + f" ms (worst {ratio(worst, whoami['steady']['p99'])} of whoami's p99): {'PASS' if ok else 'FAIL'}")
    burst = phases["burst"]["events"]
    lost = sum(r["lost"] for r in burst.values())
    failed = sum(r["failed"] for r in burst.values())
    ok = not lost and not failed
    checks.append(ok)
    print(f"target: burst of {sum(r['actions'] for r in burst.values())} events, 0 lost: {lost} lost, {failed} failed actions "
          f"(p99 {fmt(max(r['p99'] for r in burst.values()))} ms; delivered {phases['burst']['waited_s']:.2f} s "
          f"after the last action): {'PASS' if ok else 'FAIL'}"
          + ("" if args.burst == 300 else f"  (this run: a burst of {args.burst})"))
    problems = []
    for phase in ("steady", "burst"):
        for kind, r in phases[phase]["events"].items():
            if r["failures"]:
                problems.append(f"{phase} {kind}: {r['failed']} failed, e.g. {r['failures']}")
    if results["screens"]["closed_by_server"]:
        problems.append(f"staff sockets closed by the server: {results['screens']['closed_by_server']}")
    if results["screens"]["unexpected_frames"]:
        problems.append(f"{results['screens']['unexpected_frames']} unexpected frames on the staff sockets")
    expected = results["expected_entries"]
    if {k: entries.get(k, 0) for k in expected} != expected:
        problems.append(f"entries in the database {entries}, expected {expected}")
    else:
        print(f"  database: this run's entries {dict(sorted(entries.items()))}, as expected")
    for problem in problems:
        print(f"WARNING: {problem}")
    if args.json:
        Path(args.json).write_text(json.dumps({"results": results, "config": {
            k: v for k, v in vars(args).items() if k != "secret_key"}}, indent=2, default=str))
    return all(checks) and not problems


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=None, help="patients, spread over the two webs (200; --quick 40)")
    parser.add_argument("--staff", type=int, default=4, help="staff queue sockets, spread over the two daphnes (4)")
    parser.add_argument("--providers", type=int, default=10, help="providers the visits are booked with (10)")
    parser.add_argument("--rate", type=float, default=10.0, help="steady actions per second (10)")
    parser.add_argument("--burst", type=int, default=None, help="actions at once, a third of each kind (300; --quick 60)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 40 patients, a burst of 60 (explicit flags win)")
    parser.add_argument("--layout", choices=("serve", "daphne"), default="serve",
                        help="serve: two clinic.serve (gunicorn + daphne, production); daphne: two daphnes serve HTTP too")
    parser.add_argument("--workers", type=int, default=0,
                        help="gunicorn workers per web with --layout serve (0: clinic/serve.py's default, 2 x cores)")
    parser.add_argument("--drain-timeout", type=float, default=30.0, help="seconds to wait for frames after a phase (30)")
    parser.add_argument("--connect-timeout", type=float, default=30, help="seconds for a handshake and its hello (30)")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_WR_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/clinic_bench_wr"))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9"))
    parser.add_argument("--server-log", default="", help="write each web's output to this file + .0 / .1")
    parser.add_argument("--json", default="", help="also write the results to this JSON file")
    parser.add_argument("--seed-only", nargs=3, type=int, default=None, help=argparse.SUPPRESS)  # internal
    args = parser.parse_args(argv)
    if args.patients is None:
        args.patients = 40 if args.quick else 200
    if args.burst is None:
        args.burst = 60 if args.quick else 300
    if min(args.patients, args.staff, args.providers, args.burst) < 1 or args.rate <= 0 or args.drain_timeout <= 0:
        parser.error("--patients, --staff, --providers, --burst, --rate and --drain-timeout must be positive")
    if args.patients < 2 or args.burst // 3 > args.patients // 2:
        parser.error("the burst takes a third of its actions from each half of the patients: --burst <= 3 x patients / 2")
    for host in (urlsplit(args.database_url).hostname, urlsplit(args.redis_url).hostname):
        if host not in ("127.0.0.1", "localhost"):
            parser.error("the benchmark only talks to services on 127.0.0.1")
    args.max_requests = 0  # no gunicorn worker recycled while it measures
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.seed_only is not None:
        seed(*args.seed_only)
        return 0
    args.secret_key = secrets.token_urlsafe(64)
    # Pub/sub channels are global to the Redis server: a prefix of this run's own keeps other
    # runs' events apart. bench_http.server_env copies os.environ; bench_ws.daphne_env adds it.
    args.prefix = f"bench-wr-{secrets.token_hex(4)}"
    os.environ.update(CHANNELS_PREFIX=args.prefix, CACHE_PREFIX=args.prefix)
    webs = []
    try:
        bench_http.ensure_database(args.database_url)
        env = bench_ws.daphne_env(args)
        log("migrating the bench database")
        bench_http.run_checked([PYTHON, "manage.py", "migrate", "--noinput"], env, "migrate")
        log(f"seeding: {args.patients} patients with two video visits each, {args.staff} nurses, {args.providers} providers")
        t0 = time.monotonic()
        out = bench_http.run_checked([PYTHON, __file__, "--seed-only", str(args.patients), str(args.staff),
                                      str(args.providers), "--database-url", args.database_url], env, "seeding")
        seeded = json.loads(out.strip().splitlines()[-1])
        log(f"seeded in {time.monotonic() - t0:.0f} s (created now: {seeded['created']})")

        webs = start_webs(args)
        log("webs: " + ", ".join(f"HTTP :{w.http_port} sockets :{w.ws_port} (pid {w.proc.pid})" for w in webs))
        budget = 600 + 3 * args.drain_timeout + 4 * (args.patients * 2 + args.burst) / args.rate
        results = asyncio.run(asyncio.wait_for(run(args, seeded, webs), budget))
        for web in webs:
            if web.proc.poll() is not None:
                raise SetupError(f"web {web.index} died during the run")
        return 0 if report(args, seeded, results) else 1
    except asyncio.TimeoutError:
        print("bench: the run exceeded its time budget", file=sys.stderr)
        return 2
    except SetupError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    finally:
        stop_webs(args, webs)


if __name__ == "__main__":
    sys.exit(main())
