"""Benchmark of scheduling: the free-slot search in process, and the slot search and booking
over HTTP against the production layout, each as a ratio to /api/v1/whoami/ in the same run.

    .venv/bin/python bench/scheduling.py                     # 16 connections, 20 s per endpoint
    .venv/bin/python bench/scheduling.py --duration 10 --calls 500 --rebuild
    .venv/bin/python bench/scheduling.py --skip-http --profile 200   # where a booking's CPU goes

What it does, in order:
  1. creates its own PostgreSQL database (default clinic_bench_sched) when missing, migrates it;
  2. builds the data with COPY, once (kept between runs; --rebuild starts over): 100 providers
     with a weekly 08:00-20:30 window, 60 days of future 30-minute slots (150,000 FREE), 200
     days of past slots each holding a COMPLETED visit (500,000 visits) for 20,000 patients;
     on later runs it only puts back what the previous run booked (future visits deleted,
     future slots FREE) so every run starts alike;
  3. measures in process what the API does with apps.scheduling.selectors.slot_search: rows
     of SLOT_SEARCH_COLUMNS, first page of 25 and the total in one query (RowsPagination): one
     provider's week and "any provider, one day" with a visit type, --calls calls each at
     random providers and days; median and p95 (target p95 < 20 ms); and the statements one
     booking through the API sends (django.test.Client, production settings, an
     Idempotency-Key, a bench patient; the view's transaction counted as SAVEPOINT/RELEASE for
     BEGIN/COMMIT, as tests/scheduling/test_perf_booking.py counts them; rolled back);
  4. starts the production layout (`python -m clinic.serve`, as bench/http.py does: gunicorn
     sync workers for HTTP, daphne for WebSockets, Redis channel layer, WEB_MAX_REQUESTS=0 so
     no worker is recycled while it measures) and loads, with the same wrk command and a Lua
     script each: GET /healthz/ (for comparison), GET /api/v1/whoami/ (the targets'
     reference: authenticated, one query), GET /api/v1/slots/ (a provider-week search,
     provider and week varying per request) and POST /api/v1/visits/ (each request books a
     different FREE slot from a pre-generated list, with its own Idempotency-Key); prints
     requests/s, p50, p99, lost requests, server CPU per request and each ratio to whoami
     (targets: slot search >= 60%; booking >= 25% with <= 15 statements and p99 < 250 ms) and
     the CPU budget and floor of each;
  5. stops the server (gunicorn finishes the requests still in flight when wrk stopped), then
     checks the bookings: PLANNED visits against the POSTs answered, audit rows, and that no
     slot holds two active visits.

Exit status: 0 when every target is met, 1 when one is not, 2 on a setup error.
"""
import sys
from pathlib import Path

if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)  # bench/http.py would shadow the standard library's http package

import argparse
import importlib.util
import json
import os
import secrets
import shutil
import statistics
import subprocess
import tempfile
import time
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

_spec = importlib.util.spec_from_file_location("bench_http", Path(__file__).resolve().parent / "http.py")
bench_http = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_http)
SetupError, log = bench_http.SetupError, bench_http.log

PROVIDERS = 100
FUTURE_DAYS = 60
PAST_DAYS = 200
DAY_START_HOUR, SLOTS_PER_DAY = 8, 25  # 08:00 .. 20:30, 30 minutes each
PATIENTS = 20_000
TZ = "America/New_York"

# Issue 15's targets, as ratios to GET /api/v1/whoami/ measured in the same run.
TARGETS = {"search": (0.60, "slot search"), "book": (0.25, "booking")}
MAX_BOOKING_STATEMENTS = 15
MAX_BOOKING_P99_MS = 250


# --- building the data (child process, production settings) -------------------------------

def _copy(cursor, table, columns, rows):
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def build(rebuild):
    """Create the data set when missing (or --rebuild); else reset what the last run booked.
    Prints JSON: counts, the API key, the ids the load needs."""
    import django

    django.setup()
    import datetime
    import random
    import uuid
    import zoneinfo

    from django.db import connection, transaction
    from django.utils import timezone

    from apps.accounts.models import ApiKey
    from apps.accounts.services import api_key_create, api_key_revoke
    from apps.patients.models import MrnSequence
    from apps.patients.services import _luhn_digit
    from apps.scheduling.models import Location, Provider, Visit, VisitSlot, VisitType

    rng = random.Random(20260301)
    now = timezone.now()
    tz = zoneinfo.ZoneInfo(TZ)
    today = now.astimezone(tz).date()
    started = time.time()
    complete = (Provider.objects.filter(user__email__startswith="bench-provider-").count() == PROVIDERS
                and Visit.objects.count() >= 500_000
                and VisitSlot.objects.filter(start__gte=now + datetime.timedelta(days=FUTURE_DAYS - 10)).exists())
    with connection.cursor() as cursor:
        if rebuild or not complete:
            log_child("building the data set (COPY)")
            with transaction.atomic():
                # Generated rows are consistent by construction: skip the deferred foreign-key
                # triggers that would re-check 1.15 million rows at COMMIT (this transaction only).
                cursor.execute("SET LOCAL session_replication_role = replica")
                cursor.execute(
                    "TRUNCATE scheduling_idempotencyrecord, scheduling_visitevent, scheduling_slotevent, "
                    "scheduling_requestevent, scheduling_visit, "
                    "scheduling_visitslot, scheduling_visitrequest, scheduling_availabilitywindow, "
                    "scheduling_availabilityexception, scheduling_provider_visit_types, scheduling_provider, "
                    "scheduling_visittype, scheduling_location CASCADE")
                cursor.execute("DELETE FROM accounts_user WHERE email LIKE 'bench-provider-%%'")
                location = Location.objects.create(name="Bench clinic", timezone=TZ)
                in_person = VisitType.objects.create(name="Office visit", duration_minutes=30, mode="IN_PERSON", self_bookable=True)
                virtual = VisitType.objects.create(name="Video visit", duration_minutes=30, mode="VIRTUAL", self_bookable=True)
                from apps.accounts.models import User

                users = User.objects.bulk_create([
                    User(email=f"bench-provider-{i:03d}@example.test", full_name=f"Provider {i:03d}", is_staff=True, password="!")
                    for i in range(PROVIDERS)
                ])
                providers = Provider.objects.bulk_create([Provider(user=u, credentials="MD") for u in users])
                through = Provider.visit_types.through
                through.objects.bulk_create([through(provider_id=p.pk, visittype_id=vt.pk) for p in providers for vt in (in_person, virtual)])

                # Patients (bench-only MRNs from the real sequence).
                have = cursor.execute("SELECT count(*) FROM patients_patient WHERE email LIKE 'bench-sched-%%'").fetchone()[0]
                if have < PATIENTS:
                    seq, _ = MrnSequence.objects.select_for_update().get_or_create(pk=1)
                    first = seq.next_value
                    MrnSequence.objects.filter(pk=1).update(next_value=first + PATIENTS - have)
                    from apps.patients.models import Patient

                    Patient.objects.bulk_create([
                        Patient(mrn=f"{v:07d}{_luhn_digit(v)}", first_name="Bench", last_name=f"Patient{v}",
                                date_of_birth=datetime.date(1950, 1, 1) + datetime.timedelta(days=v % 20000),
                                email=f"bench-sched-{v}@example.test", state="NY")
                        for v in range(first, first + PATIENTS - have)
                    ], batch_size=2000)
                patient_ids = [r[0] for r in cursor.execute(
                    "SELECT id FROM patients_patient WHERE email LIKE 'bench-sched-%%'").fetchall()]

                slot_cols = ["id", "provider_id", "location_id", "start", '"end"', "mode", "status", "hold_kind",
                             "held_for_request_id", "held_for_patient_id", "held_until", "hold_token", "created_at", "updated_at"]
                visit_cols = ["id", "patient_id", "provider_id", "slot_id", "visit_type_id", "location_id", "mode", "start", '"end"',
                              "is_walk_in", "request_id", "status", "idempotency_key", "checked_in_at", "started_at",
                              "completed_at", "cancelled_at", "cancelled_by_id", "cancel_reason", "late_cancel", "created_by_id",
                              "created_at", "updated_at"]
                half_hour = datetime.timedelta(minutes=30)

                def starts(day):
                    base = datetime.datetime.combine(day, datetime.time(DAY_START_HOUR), tzinfo=tz)
                    for n in range(SLOTS_PER_DAY):
                        yield (base + n * half_hour).astimezone(datetime.timezone.utc)

                # Streamed into COPY (no big lists): the past slots' ids come from a seeded
                # generator, replayed for their visits.
                def past(seed=1):
                    ids = random.Random(seed)
                    pick = random.Random(seed + 1)
                    for offset in range(1, PAST_DAYS + 1):
                        day = today - datetime.timedelta(days=offset)
                        for p in providers:
                            for start in starts(day):
                                yield uuid.UUID(int=ids.getrandbits(128)), p.pk, start, pick.choice(patient_ids)

                def future():
                    ids = random.Random(99)
                    made = 0
                    for offset in range(0, FUTURE_DAYS + 1):
                        day = today + datetime.timedelta(days=offset)
                        for p in providers:
                            for start in starts(day):
                                if start > now and made < PROVIDERS * SLOTS_PER_DAY * FUTURE_DAYS:
                                    made += 1
                                    yield uuid.UUID(int=ids.getrandbits(128)), p.pk, start

                pg = connection.connection
                _copy(pg.cursor(), "scheduling_visitslot", slot_cols, (
                    (sid, pid, location.pk, start, start + half_hour, "IN_PERSON", "BOOKED", "", None, None, None, None, start, start)
                    for sid, pid, start, _ in past()))
                _copy(pg.cursor(), "scheduling_visitslot", slot_cols, (
                    (sid, pid, location.pk, start, start + half_hour, "IN_PERSON", "FREE", "", None, None, None, None, now, now)
                    for sid, pid, start in future()))
                _copy(pg.cursor(), "scheduling_visit", visit_cols, (
                    (uuid.UUID(int=rng.getrandbits(128)), patient, pid, sid, in_person.pk, location.pk, "IN_PERSON", start,
                     start + half_hour, False, None, "COMPLETED", "", start, start, start + half_hour, None, None, "", False, None,
                     start, start)
                    for sid, pid, start, patient in past()))
            log_child(f"built in {time.time() - started:.0f} s")
        else:
            with transaction.atomic():
                # Put back what the previous run booked: its visits, their events and idempotency
                # records go, its slots are FREE.
                cursor.execute("TRUNCATE scheduling_idempotencyrecord")
                cursor.execute("DELETE FROM scheduling_visitevent WHERE visit_id IN (SELECT id FROM scheduling_visit WHERE start > %s)", [now])
                cursor.execute("DELETE FROM scheduling_visit WHERE start > %s", [now])
                cursor.execute("DELETE FROM scheduling_slotevent WHERE slot_id IN (SELECT id FROM scheduling_visitslot WHERE start > %s)", [now])
                cursor.execute(
                    "UPDATE scheduling_visitslot SET status = 'FREE', hold_kind = '', held_for_request_id = NULL, "
                    "held_for_patient_id = NULL, held_until = NULL, hold_token = NULL WHERE start > %s AND status <> 'FREE'", [now])
            log_child("reset the previous run's bookings")
        cursor.execute("TRUNCATE audit_accesslog")
    connection.close()
    with connection.cursor() as cursor:
        for table in ("scheduling_visitslot", "scheduling_visit", "scheduling_provider", "scheduling_provider_visit_types"):
            cursor.execute(f"ANALYZE {table}")
    for old in ApiKey.objects.active().filter(name__startswith="bench-sched-"):
        api_key_revoke(api_key=old)
    _, raw = api_key_create(name=f"bench-sched-{int(time.time())}-{secrets.token_hex(3)}", scopes=["scheduling:read", "scheduling:write"])
    in_person = VisitType.objects.get(name="Office visit")
    providers = [str(pk) for pk in Provider.objects.order_by("pk").values_list("pk", flat=True)]
    print(json.dumps({
        "raw_key": raw,
        "visit_type": str(in_person.pk),
        "providers": providers,
        "future_free_slots": VisitSlot.objects.filter(status="FREE", start__gt=timezone.now()).count(),
        "slots": VisitSlot.objects.count(),
        "visits": Visit.objects.count(),
        "seconds": round(time.time() - started, 1),
    }))


def log_child(message):
    print(f"[bench:build] {message}", file=sys.stderr, flush=True)


# --- in-process selector timing (child process) -------------------------------------------

def selector_timing(calls):
    import django

    django.setup()
    import datetime
    import random

    import types

    from django.db import connection
    from django.test import RequestFactory
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone
    from rest_framework.request import Request

    from apps.scheduling import selectors
    from apps.scheduling.models import Provider, VisitType
    from apps.core.api.pagination import RowsPagination

    rng = random.Random(7)
    providers = list(Provider.objects.values_list("pk", flat=True))
    visit_type = VisitType.objects.get(name="Office visit")
    now = timezone.now()
    day0 = now.replace(hour=5, minute=0, second=0, microsecond=0)  # 00:00 in New York, near enough
    # What GET /api/v1/slots/ does with the selector: rows of SLOT_SEARCH_COLUMNS, the first
    # page of 25 and the total from one query (apps/core/api/pagination.py).
    request = Request(RequestFactory().get("/api/v1/slots/"))
    view = types.SimpleNamespace(row_columns=selectors.SLOT_SEARCH_COLUMNS)

    def first_page(qs):
        paginator = RowsPagination()
        rows = paginator.paginate_queryset(qs, request, view)
        return paginator.page.paginator.count, rows

    def provider_week():
        start = day0 + datetime.timedelta(days=rng.randrange(1, 50))
        return first_page(selectors.slot_search(start=start, end=start + datetime.timedelta(days=7), provider=rng.choice(providers)))

    def any_provider_day():
        start = day0 + datetime.timedelta(days=rng.randrange(1, 58))
        return first_page(selectors.slot_search(start=start, end=start + datetime.timedelta(days=1), visit_type=visit_type))

    def provider_week_all_rows():
        start = day0 + datetime.timedelta(days=rng.randrange(1, 50))
        qs = selectors.slot_search(start=start, end=start + datetime.timedelta(days=7), provider=rng.choice(providers))
        return list(qs.values(*selectors.SLOT_SEARCH_COLUMNS))

    results = {}
    for name, fn in (("provider_week", provider_week), ("any_provider_day", any_provider_day),
                     ("provider_week_all_rows", provider_week_all_rows)):
        for _ in range(20):
            fn()
        times, sizes = [], []
        for _ in range(calls):
            t0 = time.perf_counter()
            out = fn()
            times.append((time.perf_counter() - t0) * 1000)
            sizes.append(out[0] if isinstance(out, tuple) else len(out))
        times.sort()
        results[name] = {"median": statistics.median(times), "p95": times[int(len(times) * 0.95) - 1], "calls": calls,
                         "rows": statistics.median(sizes)}
    start = day0 + datetime.timedelta(days=3)
    for key, qs in (("plan_provider_week", selectors.slot_search(start=start, end=start + datetime.timedelta(days=7),
                                                                 provider=providers[0])),
                    ("plan_any_provider_day", selectors.slot_search(start=start, end=start + datetime.timedelta(days=1),
                                                                    visit_type=visit_type))):
        with CaptureQueriesContext(connection) as ctx:
            first_page(qs)
        (page_sql,) = [q["sql"] for q in ctx.captured_queries]  # the page query, with its total
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS OFF) " + page_sql)
            results[key] = [r[0] for r in cursor.fetchall()]
    print(json.dumps(results))


# --- one booking in process: its statements, and a CPU profile (child process) -------------

def booking_in_process(profile_count):
    """What POST /api/v1/visits/ costs in process, with the production settings against this
    database: the statements of one booking with an Idempotency-Key for a bench patient (the
    view's transaction inside an outer one, so BEGIN/COMMIT appear as SAVEPOINT/RELEASE, as
    tests/scheduling/test_perf_booking.py counts them; rolled back), then, with
    `profile_count`, that many committed bookings under cProfile (CPU per booking and where it
    goes; the next run puts the slots back). Prints JSON."""
    import django

    django.setup()
    import cProfile
    import io
    import pstats

    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from apps.accounts.services import api_key_create, api_key_revoke
    from apps.scheduling.models import VisitType

    visit_type = VisitType.objects.get(name="Office visit")
    key, raw = api_key_create(name=f"bench-sched-inproc-{secrets.token_hex(4)}", scopes=["scheduling:read", "scheduling:write"])
    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Api-Key {raw}")
    lines = booking_lines_from(connection, profile_count + 2, offset=50_000)
    client.get("/api/v1/whoami/")  # the key's first use writes last_used_at once, as in a running server

    def post(line, n):
        patient, slot = line.split()
        return client.post("/api/v1/visits/", {"patient": patient, "slot": slot, "visit_type": str(visit_type.pk)},
                           content_type="application/json", HTTP_IDEMPOTENCY_KEY=f"bench-inproc-{slot}-{n}")

    out = {}
    with transaction.atomic():
        with CaptureQueriesContext(connection) as ctx:
            response = post(lines[0], 0)
        transaction.set_rollback(True)
    if response.status_code != 201:
        raise SystemExit(f"in-process booking answered {response.status_code}: {response.content[:300]}")
    out["statements"] = len(ctx.captured_queries)
    out["statement_list"] = [q["sql"][:110] for q in ctx.captured_queries]
    if profile_count:
        post(lines[1], 1)  # warm: templates compiled, code paths imported
        profiler = cProfile.Profile(time.process_time)  # CPU time: what limits the server here
        cpu0, wall0 = time.process_time(), time.perf_counter()
        profiler.enable()
        for n, line in enumerate(lines[2:2 + profile_count]):
            if post(line, n + 2).status_code != 201:
                raise SystemExit("a profiled booking failed")
        profiler.disable()
        out["cpu_ms"] = (time.process_time() - cpu0) * 1000 / profile_count
        out["wall_ms"] = (time.perf_counter() - wall0) * 1000 / profile_count
        text = io.StringIO()
        stats = pstats.Stats(profiler, stream=text)
        stats.sort_stats("cumulative").print_stats(r"apps/|rest_framework/views|django/db/backends/utils|psycopg/cursor", 30)
        out["profile"] = text.getvalue()
        out["profile_count"] = profile_count
    api_key_revoke(api_key=key)
    print(json.dumps(out))


def booking_lines_from(connection, count, offset=0):
    """`count` (patient, FREE future slot) pairs from this process's connection, skipping the
    first `offset` slots of the order the HTTP load uses."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM scheduling_visitslot WHERE status = 'FREE' AND start > now() + interval '1 day' "
                       "ORDER BY md5(id::text) OFFSET %s LIMIT %s", [offset, count])
        slots = [r[0] for r in cursor.fetchall()]
        cursor.execute("SELECT id FROM patients_patient WHERE email LIKE 'bench-sched-%%' ORDER BY id DESC LIMIT 100")
        patients = [r[0] for r in cursor.fetchall()]
    return [f"{patients[i % len(patients)]} {slot}" for i, slot in enumerate(slots)]


# --- HTTP load ----------------------------------------------------------------------------

SEARCH_LUA = """
local providers = {%(providers)s}
local days = {%(days)s}
local counter = 0
request = function()
  counter = counter + 1
  local p = providers[(counter %% #providers) + 1]
  local d = days[(counter %% #days) + 1]
  return wrk.format("GET", "/api/v1/slots/?provider=" .. p .. "&start=" .. d[1] .. "&end=" .. d[2])
end
"""

BOOK_LUA = """
-- Each request books a different FREE slot: thread t of n takes lines t+1, t+1+n, ...
local lines = {}
for line in io.lines("%(file)s") do lines[#lines + 1] = line end
local threads_total = %(threads)d
local thread_no = 0
setup = function(thread)
  thread:set("tid", thread_no)  -- a global in that thread's Lua state
  thread_no = thread_no + 1
end
local i = -1
request = function()
  i = i + 1
  local n = i * threads_total + (tid or 0) + 1
  local line = lines[n] or lines[#lines]
  local patient, slot = line:match("(%%S+) (%%S+)")
  local body = '{"patient":"' .. patient .. '","slot":"' .. slot .. '","visit_type":"%(visit_type)s"}'
  local headers = {}
  for k, v in pairs(wrk.headers) do headers[k] = v end  -- keep -H Authorization
  headers["Content-Type"] = "application/json"
  headers["Idempotency-Key"] = "bench-" .. slot
  return wrk.format("POST", "/api/v1/visits/", headers, body)
end
"""


def wrk_run(args, url, headers, duration, script=None):
    cmd = [args.wrk, "-t", str(args.threads), "-c", str(args.connections), "-d", f"{duration}s", "--latency", "--timeout", "10s"]
    for name, value in headers.items():
        cmd += ["-H", f"{name}: {value}"]
    if script:
        cmd += ["-s", script]
    cmd.append(url)
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 120)
    if result.returncode != 0:
        raise SetupError(f"wrk failed ({result.returncode}): {result.stderr}")
    return bench_http.parse_wrk(result.stdout)


def booking_lines(args, count):
    """`count` (patient, FREE future slot) pairs, shuffled, none repeated."""
    import psycopg

    with psycopg.connect(args.database_url, autocommit=True) as conn:
        slots = [r[0] for r in conn.execute(
            "SELECT id FROM scheduling_visitslot WHERE status = 'FREE' AND start > now() + interval '1 day' "
            "ORDER BY md5(id::text) LIMIT %s", [count])]
        patients = [r[0] for r in conn.execute(
            "SELECT id FROM patients_patient WHERE email LIKE 'bench-sched-%%' ORDER BY id LIMIT 5000")]
    return [f"{patients[i % len(patients)]} {slot}" for i, slot in enumerate(slots)]


def database_now(args):
    import psycopg

    with psycopg.connect(args.database_url, autocommit=True) as conn:
        return conn.execute("SELECT now()").fetchone()[0]


def check_bookings(args, since):
    """Visits PLANNED by the HTTP load (created since `since`), slots with two active visits
    (any), audit 'create' rows of visits since `since`."""
    import psycopg

    with psycopg.connect(args.database_url, autocommit=True) as conn:
        booked = conn.execute("SELECT count(*) FROM scheduling_visit WHERE start > now() AND status = 'PLANNED' "
                              "AND created_at >= %s", [since]).fetchone()[0]
        doubles = conn.execute(
            "SELECT count(*) FROM (SELECT slot_id FROM scheduling_visit WHERE status <> 'CANCELLED' AND slot_id IS NOT NULL "
            "GROUP BY slot_id HAVING count(*) > 1) d").fetchone()[0]
        audit = conn.execute("SELECT count(*) FROM audit_accesslog WHERE action = 'create' AND object_type = 'scheduling.visit' "
                             "AND at >= %s", [since]).fetchone()[0]
    return booked, doubles, audit


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=0, help="WEB_CONCURRENCY (default: serve.py's own)")
    parser.add_argument("--calls", type=int, default=500, help="selector calls per measurement (500)")
    parser.add_argument("--rebuild", action="store_true", help="drop and rebuild the data set")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_SCHED_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/clinic_bench_sched"))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9"))
    parser.add_argument("--server-log", default="")
    parser.add_argument("--profile", type=int, default=0,
                        help="also profile this many committed bookings in process (cProfile) and print where the CPU goes")
    parser.add_argument("--max-requests", type=int, default=0,
                        help="WEB_MAX_REQUESTS for clinic/serve.py (0, the default here: no worker recycled while measuring)")
    parser.add_argument("--child", choices=["build", "build-rebuild", "selectors", "booking"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    for host in (urlsplit(args.database_url).hostname, urlsplit(args.redis_url).hostname):
        if host not in ("127.0.0.1", "localhost"):
            parser.error("the benchmark only talks to services on 127.0.0.1")
    if args.child == "selectors":
        selector_timing(args.calls)
        return 0
    if args.child == "booking":
        booking_in_process(args.profile)
        return 0
    if args.child:
        build(args.child == "build-rebuild")
        return 0

    args.wrk = shutil.which("wrk")
    if not args.wrk and not args.skip_http:
        print("wrk is not installed: sudo apt-get install -y wrk", file=sys.stderr)
        return 2
    args.secret_key = secrets.token_urlsafe(64)
    proc = db_cpu = None
    tmp = tempfile.mkdtemp(prefix="bench-sched-")
    failures = []
    try:
        bench_http.ensure_database(args.database_url)
        env = bench_http.server_env(args)
        log("migrating the bench database")
        bench_http.run_checked([PYTHON, "manage.py", "migrate", "--noinput"], env, "migrate")
        t0 = time.time()
        out = bench_http.run_checked([PYTHON, __file__, "--child", "build-rebuild" if args.rebuild else "build",
                                      "--database-url", args.database_url], env, "building the data")
        data = json.loads(out.strip().splitlines()[-1])
        log(f"data: {data['slots']} slots ({data['future_free_slots']} future FREE), {data['visits']} visits; "
            f"ready in {time.time() - t0:.0f} s")

        out = bench_http.run_checked([PYTHON, __file__, "--child", "selectors", "--calls", str(args.calls),
                                      "--database-url", args.database_url], env, "selector timing")
        sel = json.loads(out.strip().splitlines()[-1])
        print()
        print(f"In-process free-slot search (selectors.slot_search as rows, total + first page of 25 in one query), {args.calls} calls each")
        for name, label in (("provider_week", "one provider, one week"), ("any_provider_day", "any provider, one day, a visit type"),
                            ("provider_week_all_rows", "one provider, one week, every row")):
            r = sel[name]
            verdict = "PASS" if r["p95"] < 20 else "FAIL"
            if name != "provider_week_all_rows" and verdict == "FAIL":
                failures.append(name)
            print(f"  {label:<40} median {r['median']:6.2f} ms  p95 {r['p95']:6.2f} ms  ({r['rows']:.0f} matching rows)  "
                  f"target p95 < 20 ms: {verdict}")
        for key, label in (("plan_provider_week", "one provider-week"), ("plan_any_provider_day", "any provider-day")):
            # The scans (which index serves the page and the total) and the times.
            lines = [line.strip() for line in sel[key] if " Scan " in line or line.startswith(("Planning", "Execution"))]
            print(f"  plan, {label}: " + " | ".join(lines))

        out = bench_http.run_checked([PYTHON, __file__, "--child", "booking", "--profile", str(args.profile),
                                      "--database-url", args.database_url], env, "booking in process")
        booking = json.loads(out.strip().splitlines()[-1])
        verdict = "PASS" if booking["statements"] <= MAX_BOOKING_STATEMENTS else "FAIL"
        if verdict == "FAIL":
            failures.append("booking statements")
        print()
        print(f"In-process POST /api/v1/visits/ with an Idempotency-Key: {booking['statements']} statements "
              f"(target <= {MAX_BOOKING_STATEMENTS}): {verdict}")
        for n, sql in enumerate(booking["statement_list"], 1):
            print(f"  {n:2}. {sql}")
        if args.profile:
            print(f"  {booking['profile_count']} committed bookings under cProfile (CPU time): {booking['cpu_ms']:.1f} ms CPU, "
                  f"{booking['wall_ms']:.1f} ms wall per booking (the profiler adds to both)")
            print(booking["profile"])
        if args.skip_http:
            return 1 if failures else 0

        proc, port, ws_port = bench_http.start_server(args)
        bench_http.wait_until_up(proc, port, ws_port)
        workers = args.workers or (os.cpu_count() or 1) * 2
        layout = f"python -m clinic.serve (production settings): gunicorn {workers} sync workers, daphne for WebSockets"
        log(layout)
        base = f"http://127.0.0.1:{port}"
        headers = {"Authorization": f"Api-Key {data['raw_key']}"}

        import datetime

        today = datetime.date.today()
        days = ", ".join(f'{{"{today + datetime.timedelta(days=d)}T00:00:00-05:00", "{today + datetime.timedelta(days=d + 7)}T00:00:00-05:00"}}'
                         for d in range(1, 50, 3))
        search_lua = Path(tmp, "search.lua")
        search_lua.write_text(SEARCH_LUA % {"providers": ", ".join(f'"{p}"' for p in data["providers"]), "days": days})
        status, body = bench_http.get(f"{base}/api/v1/slots/?provider={data['providers'][0]}", headers)
        if status != 200 or not json.loads(body)["results"]:
            raise SetupError(f"slot search answered {status}")

        needed = 60_000
        lines = booking_lines(args, needed)
        booking_file = Path(tmp, "bookings.txt")
        booking_file.write_text("\n".join(lines) + "\n")
        book_lua = Path(tmp, "book.lua")
        book_lua.write_text(BOOK_LUA % {"file": booking_file, "threads": args.threads, "visit_type": data["visit_type"]})

        results = {}
        plan = [("minimal", base + "/healthz/", {}, None), ("whoami", base + "/api/v1/whoami/", headers, None),
                ("search", base + "/api/v1/slots/", headers, search_lua), ("book", base + "/api/v1/visits/", headers, book_lua)]
        db_cpu = bench_http.DatabaseCpu(args.database_url)
        for name, url, hdrs, script in plan:
            if args.warmup and name != "book":
                wrk_run(args, url, hdrs, args.warmup, script)
            if name == "book":
                book_started = database_now(args)
            results[name] = r = bench_http.measured(proc, db_cpu, lambda: wrk_run(args, url, hdrs, args.duration, script))
            log(f"{name}: {r['rps']:.1f} req/s, p50 {r['p50']:.2f} ms, p99 {r['p99']:.2f} ms, {r['non_2xx']} non-2xx, "
                f"{r['socket_errors']} socket errors, CPU/request app {r['app_cpu']:.2f} ms + db {r['db_cpu']:.2f} ms")
            if proc.poll() is not None:
                raise SetupError("the server died during the load")
        db_cpu.close()
        db_cpu = None
        # wrk stops counting when its time is up, but the requests it had in flight still run to
        # the end: stop the server (gunicorn finishes them: graceful shutdown) and only then count.
        bench_http.stop_server(proc)
        proc = None
        booked, doubles, audit = check_bookings(args, book_started)

        whoami = results["whoami"]["rps"]
        print()
        print(f"HTTP, production layout: {layout}")
        print(f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s --latency on {os.cpu_count()} cores (wrk, PostgreSQL "
              "and Redis share them)")
        print(f"{'endpoint':<52} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'requests':>9} {'lost':>5} {'vs whoami':>9}"
              f" {'app CPU ms':>10} {'db CPU ms':>9}")
        for name, label in (("minimal", "GET /healthz/ (no authentication, for comparison)"),
                            ("whoami", "GET /api/v1/whoami/ (the reference: API key, 1 query)"),
                            ("search", "GET /api/v1/slots/?provider=&start=&end= (a week)"),
                            ("book", "POST /api/v1/visits/ (a different FREE slot each)")):
            r = results[name]
            ratio = r["rps"] / whoami if whoami else 0
            errors = r["non_2xx"] + r["socket_errors"]
            print(f"{label:<52} {r['rps']:>8.1f} {r['p50']:>8.2f} {r['p99']:>8.2f} {r['requests']:>9} {errors:>5} {ratio:>9.1%}"
                  f" {r['app_cpu']:>10.2f} {r['db_cpu']:>9.2f}")
            if name in TARGETS and errors:
                failures.append(f"{name} errors")
        print("lost = non-2xx answers + socket errors (connect, read, write, timeout)")
        for name, (target, label) in TARGETS.items():
            ratio = results[name]["rps"] / whoami if whoami else 0
            verdict = "PASS" if ratio >= target else "FAIL"
            if verdict == "FAIL":
                failures.append(f"{name} ratio")
            print(f"TARGET {label} / whoami: {ratio:.1%} (target >= {target:.0%}): {verdict}")
        p99 = results["book"]["p99"]
        verdict = "PASS" if p99 < MAX_BOOKING_P99_MS else "FAIL"
        if verdict == "FAIL":
            failures.append("booking p99")
        print(f"TARGET booking p99 at {args.connections} clients: {p99:.0f} ms (target < {MAX_BOOKING_P99_MS} ms): {verdict}")
        print(f"TARGET booking statements: {booking['statements']} (target <= {MAX_BOOKING_STATEMENTS}): "
              f"{'PASS' if booking['statements'] <= MAX_BOOKING_STATEMENTS else 'FAIL'}")
        for name, (target, label) in TARGETS.items():
            print(bench_http.feasibility_line(results["whoami"], results[name], target, label))
        answered = results["book"]["requests"] - results["book"]["non_2xx"]
        print(f"bookings, counted after the server stopped: {booked} visits PLANNED for {answered} POSTs answered 201 "
              f"(+{booked - answered} still in flight when wrk stopped), {audit} audit 'create' rows, "
              f"{doubles} slots with two active visits")
        if doubles:
            failures.append("double booking")
        if booked < answered:
            failures.append("bookings answered 201 but not in the database")
        if failures:
            print(f"targets missed: {', '.join(failures)}")
        return 1 if failures else 0
    except SetupError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    finally:
        if db_cpu is not None:
            db_cpu.close()
        bench_http.stop_server(proc)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
