"""Benchmark of the production HTTP layout: the patients list against /api/v1/whoami/ (and /healthz/).

    .venv/bin/python bench/http.py                       # 16 connections, 20 s per endpoint
    .venv/bin/python bench/http.py --duration 10 --rounds 2 --workers 4

What it does, in order:
  1. checks that wrk is installed (`apt-get install -y wrk`);
  2. creates its own PostgreSQL database (default clinic_bench) when missing and migrates it;
  3. seeds patients through the ORM (bulk_create, valid MRNs) up to --patients, empties the
     bench database's access log (so every run starts alike) and creates a fresh API key with
     patients:read (apps.accounts.services.api_key_create);
  4. starts the production layout on free ports: `python -m clinic.serve` with
     clinic.settings.production, a generated SECRET_KEY and REDIS_URL set, so gunicorn's sync
     workers answer HTTP and daphne answers WebSockets; WEB_MAX_REQUESTS=0 (--max-requests) so
     no worker is recycled while it measures;
  5. checks the endpoints once (status, JSON shape, the list's one audit entry naming the
     patients shown), then loads each one with the same wrk command (warm-up, then --duration
     seconds, --latency), alternating the endpoints for --rounds rounds;
  6. prints requests/s, p50, p99 and failed ("lost") requests for each endpoint and the
     list's ratio to /api/v1/whoami/ (the target's reference: authenticated, one query, through
     the same DRF stack; issue 15) and, for comparison, to /healthz/ (no authentication), and
     stops every process it started.

Exit status: 0 when the ratio list / whoami meets --target (0.50) with no failed request, 1 when
not, 2 on a setup error.
"""
import sys
from pathlib import Path

# Run as `python bench/http.py`, this file's folder comes first on sys.path and this module
# would shadow the standard library's `http` package (urllib needs http.client): drop it.
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

MINIMAL_PATH = "/healthz/"
# The targets' reference (issue 15): a real one-query API endpoint (the API-key lookup), through
# the same DRF stack, authentication and renderer as the list. /healthz/ does no
# authentication and is shown for comparison only.
WHOAMI_PATH = "/api/v1/whoami/"
LIST_PATH = "/api/v1/patients/?page_size={page_size}"


# --- helpers ------------------------------------------------------------------------------

class SetupError(Exception):
    pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log(message):
    print(f"[bench] {message}", flush=True)


def server_env(args, port=None, ws_port=None):
    """The production environment, as a platform would give it to `web`."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="clinic.settings.production",
        SECRET_KEY=args.secret_key,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="False",
        DATABASE_URL=args.database_url,
        REDIS_URL=args.redis_url,
        PYTHONPATH=str(ROOT),
        LOG_LEVEL="WARNING",
    )
    env.pop("DEBUG", None)
    # Production refuses to start without an email server; the benchmarks send no mail.
    env.setdefault("EMAIL_URL", "smtp://127.0.0.1:9")
    # clinic/serve.py recycles gunicorn workers after WEB_MAX_REQUESTS requests: a recycled
    # worker re-imports Django (~1 s of CPU) in the middle of a measurement. 0: never.
    env["WEB_MAX_REQUESTS"] = str(getattr(args, "max_requests", 0))
    if args.workers:
        env["WEB_CONCURRENCY"] = str(args.workers)
    if port is not None:
        env.update(HOST="127.0.0.1", PORT=str(port), WS_PORT=str(ws_port))
    return env


def ensure_database(database_url):
    """CREATE DATABASE when it does not exist yet (connecting to the server's `postgres` db)."""
    import psycopg

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise SetupError(f"unexpected database name {name!r}")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
            log(f"created database {name}")


def run_checked(cmd, env, what):
    result = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise SetupError(f"{what} failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
    return result.stdout


# --- seeding (runs in a child process with the production settings) ----------------------

def seed(count):
    """Top the bench database up to `count` active patients, empty its access log, revoke
    earlier bench keys and print a new patients:read key as JSON."""
    import django

    django.setup()
    import random
    from datetime import date, timedelta

    from django.db import connection, transaction

    from apps.accounts.models import ApiKey
    from apps.accounts.services import api_key_create, api_key_revoke
    from apps.patients.models import MrnSequence, Patient
    from apps.patients.services import _luhn_digit

    first = ["Ada", "Ben", "Carla", "Dev", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jon", "Kemi", "Luis"]
    last = ["Abbott", "Baker", "Chen", "Diaz", "Evans", "Fischer", "Garcia", "Haddad", "Ito", "Jones",
            "Kowalski", "Lopez", "Moreau", "Nguyen", "Okafor", "Patel", "Quinn", "Rossi", "Silva", "Tanaka"]
    rng = random.Random(20260101)
    created = 0
    with transaction.atomic():
        have = Patient.objects.active().count()
        missing = max(0, count - have)
        if missing:
            # Take MRN numbers from the real sequence so later patient_create calls never collide.
            seq, _ = MrnSequence.objects.select_for_update().get_or_create(pk=1)
            start = seq.next_value
            MrnSequence.objects.filter(pk=1).update(next_value=start + missing)
            rows = []
            for i in range(missing):
                value = start + i
                rows.append(Patient(
                    mrn=f"{value:07d}{_luhn_digit(value)}",
                    first_name=rng.choice(first),
                    last_name=rng.choice(last),
                    date_of_birth=date(1940, 1, 1) + timedelta(days=rng.randrange(0, 30000)),
                    sex_at_birth=rng.choice("FMXU"),
                    email=f"bench{value}@example.test",
                    phone=f"+1212555{value % 10000:04d}",
                    city="Springfield",
                    state="NY",
                    postal_code="10001",
                ))
            Patient.objects.bulk_create(rows, batch_size=1000)
            created = missing
    # The access log is append-only (a trigger refuses UPDATE and DELETE); TRUNCATE is not a
    # row operation, and this is the bench's own database. Every run starts from an empty log.
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE audit_accesslog")
    for old in ApiKey.objects.active().filter(name__startswith="bench-"):
        api_key_revoke(api_key=old)
    _, raw = api_key_create(name=f"bench-{int(time.time())}-{secrets.token_hex(3)}", scopes=["patients:read"])
    total = Patient.objects.active().count()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(json.dumps({"raw_key": raw, "patients": total, "created": created}))


# --- the server ---------------------------------------------------------------------------

def start_server(args):
    port, ws_port = free_port(), free_port()
    while ws_port == port:
        ws_port = free_port()
    env = server_env(args, port, ws_port)
    logfile = open(args.server_log, "w") if args.server_log else subprocess.DEVNULL
    # Its own session (process group): on the way out we can signal serve.py and, if anything
    # lingers, the whole group it started (gunicorn master and workers, daphne).
    proc = subprocess.Popen(
        [PYTHON, "-m", "clinic.serve"], env=env, cwd=ROOT, stdout=logfile, stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return proc, port, ws_port


def stop_server(proc):
    if proc is None:
        return
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # serve.py forwards it to gunicorn and daphne
        try:
            proc.wait(25)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # anything left in the group it started
    except ProcessLookupError:
        pass
    if proc.poll() is None:
        proc.wait(5)


def get(url, headers=None, timeout=5):
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.status, response.read()


def wait_until_up(proc, port, ws_port, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SetupError(f"clinic.serve exited with {proc.returncode} while starting (see --server-log)")
        try:
            status, _ = get(f"http://127.0.0.1:{port}{MINIMAL_PATH}", timeout=2)
            if status == 200:
                with socket.create_connection(("127.0.0.1", ws_port), timeout=2):
                    return
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.3)
    raise SetupError(f"the server did not answer on port {port} within {timeout} s")


def audit_entries_since(args, last_id):
    """(id, patient_ids as text) of the access-log entries after `last_id`."""
    import psycopg

    with psycopg.connect(args.database_url, autocommit=True, connect_timeout=5) as conn:
        return conn.execute("SELECT id, patient_ids::text[] FROM audit_accesslog WHERE id > %s ORDER BY id",
                            [last_id]).fetchall()


def last_audit_id(args):
    import psycopg

    with psycopg.connect(args.database_url, autocommit=True, connect_timeout=5) as conn:
        return conn.execute("SELECT coalesce(max(id), 0) FROM audit_accesslog").fetchone()[0]


def sanity_check(args, base, headers):
    """The endpoints answer 200 with what they promise, and a list request writes one audit
    entry naming every patient shown."""
    status, body = get(base + MINIMAL_PATH)
    minimal = json.loads(body)
    if status != 200 or minimal.get("status") != "ok":
        raise SetupError(f"{MINIMAL_PATH} answered {status} {minimal}")
    status, body = get(base + WHOAMI_PATH, headers)
    whoami = json.loads(body)
    if status != 200 or whoami.get("actor_type") != "api_key" or "patients:read" not in whoami.get("scopes", []):
        raise SetupError(f"{WHOAMI_PATH} answered {status} {whoami}")
    before = last_audit_id(args)
    status, body = get(base + LIST_PATH.format(page_size=args.page_size), headers)
    page = json.loads(body)
    shown = [row["id"] for row in page.get("results", [])]
    if status != 200 or len(shown) != min(args.page_size, page.get("count", 0)) or not shown:
        raise SetupError(f"patients list answered {status} with {len(shown)} results")
    written = audit_entries_since(args, before)
    if [ids for _, ids in written] != [shown]:
        raise SetupError(f"a list request showed {len(shown)} patients but wrote {len(written)} audit entries "
                         f"({[len(ids or []) for _, ids in written]} patients named)")
    log(f"sanity: {MINIMAL_PATH} -> {minimal}; {WHOAMI_PATH} -> {whoami['name']}; "
        f"list -> {len(shown)} of {page['count']} patients, one audit entry naming them")


# --- CPU accounting -----------------------------------------------------------------------
# Requests/s on a shared 2-core machine move with whatever else runs; the CPU time the server
# spends per request moves much less. So each measurement also records the CPU time of the
# server's process group (serve.py, gunicorn master and workers, daphne; a recycled worker's
# time reaches its master's cutime) and of the bench database's PostgreSQL backends.

_TICK_MS = 1000.0 / os.sysconf("SC_CLK_TCK")


def _stat(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            rest = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # rest[0] is field 3 (state): pgrp is field 5, utime..cstime are fields 14..17.
    return int(rest[2]), sum(int(v) for v in rest[11:15])


def group_cpu_ms(pgid):
    total = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _stat(entry)
            if stat and stat[0] == pgid:
                total += stat[1]
    return total * _TICK_MS


class DatabaseCpu:
    """CPU time of the backends serving the bench database (not this one)."""

    def __init__(self, database_url):
        import psycopg

        self.conn = psycopg.connect(database_url, autocommit=True, connect_timeout=5)
        self.name = urlsplit(database_url).path.lstrip("/")

    def snapshot(self):
        pids = [r[0] for r in self.conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [self.name])]
        times = {}
        for pid in pids:
            stat = _stat(pid)
            if stat:
                times[pid] = stat[1] * _TICK_MS
        return times

    @staticmethod
    def spent(before, after):
        # A backend that ended during the run is lost (rare: persistent connections).
        return sum(t - before.get(pid, 0.0) for pid, t in after.items())

    def close(self):
        self.conn.close()


# --- wrk ----------------------------------------------------------------------------------

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(text):
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * _UNITS[unit]


def parse_wrk(output):
    """requests/s, p50/p99 (ms), request count, non-2xx/3xx and socket errors from `wrk --latency`."""
    def find(pattern, cast=float, default=None):
        match = re.search(pattern, output)
        return cast(match.group(1)) if match else default

    result = {
        "rps": find(r"Requests/sec:\s+([\d.]+)"),
        "p50": None,
        "p99": None,
        "requests": find(r"(\d+) requests in", int, 0),
        "non_2xx": find(r"Non-2xx or 3xx responses:\s+(\d+)", int, 0),
        "socket_errors": 0,
    }
    for pattern in (r"^\s+50%\s+(\S+)", r"^\s+99%\s+(\S+)"):
        match = re.search(pattern, output, re.M)
        if match:
            result["p50" if "50" in pattern else "p99"] = _ms(match.group(1))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if errors:
        result["socket_errors"] = sum(int(n) for n in errors.groups())
    if result["rps"] is None or result["p50"] is None or result["p99"] is None:
        raise SetupError(f"could not parse wrk's output:\n{output}")
    return result


def wrk(args, url, headers, duration):
    cmd = [args.wrk, "-t", str(args.threads), "-c", str(args.connections), "-d", f"{duration}s", "--latency",
           "--timeout", "10s"]
    for name, value in headers.items():
        cmd += ["-H", f"{name}: {value}"]
    cmd.append(url)
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    if result.returncode != 0:
        raise SetupError(f"wrk failed ({result.returncode}): {result.stderr}")
    return result.stdout


# --- report -------------------------------------------------------------------------------

def summarize(runs):
    """Median over rounds of each figure (one round: the figures themselves)."""
    return {key: statistics.median(r[key] for r in runs) for key in ("rps", "p50", "p99", "app_cpu", "db_cpu")} | {
        "requests": sum(r["requests"] for r in runs),
        "errors": sum(r["non_2xx"] + r["socket_errors"] for r in runs),
    }


def feasibility_line(whoami, endpoint, target, label):
    """Whether `target` (a requests/s ratio to /api/v1/whoami/) can be reached when the server
    is CPU-bound, from figures of one run. Budget: whoami's server CPU (app + db) / target.
    Floor: whoami's app CPU (middleware, DRF dispatch, API-key authentication with its query, a
    rendered answer: all of which `label` repeats) + `label`'s own database CPU. A floor above
    the budget means no work on the endpoint's own code can meet the target here; a cost above
    the budget with the floor under it is the endpoint's own Python."""
    budget = (whoami["app_cpu"] + whoami["db_cpu"]) / target
    floor = whoami["app_cpu"] + endpoint["db_cpu"]
    cost = endpoint["app_cpu"] + endpoint["db_cpu"]
    verdict = "out of reach on this machine" if floor > budget else "not excluded by this bound"
    return (f"CPU budget for {label} at {target:.0%} of whoami: {budget:.2f} ms/request; it costs {cost:.2f}; its floor "
            f"(whoami's app CPU {whoami['app_cpu']:.2f} + its own db CPU {endpoint['db_cpu']:.2f}) = {floor:.2f} ms: {verdict}")


def measured(proc, db_cpu, run_wrk):
    """Run `run_wrk()` (which returns parse_wrk's dict) and add the server's app and database
    CPU per request to it."""
    app_before, db_before = group_cpu_ms(proc.pid), db_cpu.snapshot()
    run = run_wrk()
    app_after, db_after = group_cpu_ms(proc.pid), db_cpu.snapshot()
    run["app_cpu"] = (app_after - app_before) / max(1, run["requests"])
    run["db_cpu"] = DatabaseCpu.spent(db_before, db_after) / max(1, run["requests"])
    return run


def print_table(args, results, info):
    minimal, whoami, listing = (summarize(results[k]) for k in ("minimal", "whoami", "list"))
    ratio = listing["rps"] / whoami["rps"] if whoami["rps"] else 0.0
    ratio_minimal = listing["rps"] / minimal["rps"] if minimal["rps"] else 0.0
    rows = [
        (f"GET {MINIMAL_PATH} (no authentication)", minimal),
        (f"GET {WHOAMI_PATH} (the reference)", whoami),
        (f"GET {LIST_PATH.format(page_size=args.page_size)}", listing),
    ]
    width = max(len(name) for name, _ in rows)
    print()
    print(f"Production layout: {info['layout']}")
    print(f"Machine: {os.cpu_count()} cores; wrk -t{args.threads} -c{args.connections} -d{args.duration}s --latency, "
          f"warm-up {args.warmup}s, {args.rounds} round(s) (median shown); {info['patients']} patients")
    print()
    header = (f"{'endpoint':<{width}}  {'requests/s':>10}  {'p50 ms':>8}  {'p99 ms':>8}  {'requests':>9}  {'lost':>5}"
              f"  {'vs whoami':>9}  {'app CPU ms/req':>14}  {'db CPU ms/req':>13}")
    print(header)
    print("-" * len(header))
    for name, s in rows:
        versus = s["rps"] / whoami["rps"] if whoami["rps"] else 0.0
        print(f"{name:<{width}}  {s['rps']:>10.1f}  {s['p50']:>8.2f}  {s['p99']:>8.2f}  {s['requests']:>9}  {s['errors']:>5}"
              f"  {versus:>9.1%}  {s['app_cpu']:>14.2f}  {s['db_cpu']:>13.2f}")
    print("-" * len(header))
    print("lost = non-2xx answers + socket errors (connect, read, write, timeout)")
    verdict = "PASS" if ratio >= args.target and not listing["errors"] else "FAIL"
    print(f"TARGET patients list / whoami: {ratio:.1%} (target >= {args.target:.0%}): {verdict}")
    print(f"ratio list / {MINIMAL_PATH}: {ratio_minimal:.1%} (for comparison: no authentication)")
    cpu = {name: s["app_cpu"] + s["db_cpu"] for name, s in (("minimal", minimal), ("whoami", whoami), ("list", listing))}
    if cpu["list"]:
        print(f"server CPU per request (app + db), whoami / list: {cpu['whoami']:.2f} / {cpu['list']:.2f} ms = "
              f"{cpu['whoami'] / cpu['list']:.1%}  (the ratio to expect when the server alone is CPU-bound; "
              f"excludes wrk and Redis)")
        print(feasibility_line(whoami, listing, args.target, "the list"))
    if args.rounds > 1:
        for name, key in (("minimal", "minimal"), ("whoami", "whoami"), ("list", "list")):
            per = ", ".join(f"{r['rps']:.0f}" for r in results[key])
            print(f"  per round requests/s, {name}: {per}")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "minimal": minimal, "whoami": whoami, "list": listing, "ratio_whoami": ratio, "ratio_minimal": ratio_minimal,
            "rounds": results,
            "config": {k: v for k, v in vars(args).items() if k not in ("secret_key",)}, "info": info,
        }, indent=2))
    return ratio


# --- main ---------------------------------------------------------------------------------

def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=20, help="seconds of measured load per endpoint and round (20)")
    parser.add_argument("--warmup", type=int, default=5, help="seconds of unmeasured load before each measurement (5)")
    parser.add_argument("--rounds", type=int, default=1, help="alternate minimal/whoami/list this many times; medians shown (1)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (16)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    parser.add_argument("--page-size", type=int, default=25, help="patients per list page (25)")
    parser.add_argument("--patients", type=int, default=2000, help="seed the database up to this many patients (2000)")
    parser.add_argument("--workers", type=int, default=0, help="WEB_CONCURRENCY for gunicorn (default: serve.py's own)")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/clinic_bench"))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9"))
    parser.add_argument("--target", type=float, default=0.50, help="minimum ratio list / whoami (0.50)")
    parser.add_argument("--max-requests", type=int, default=0,
                        help="WEB_MAX_REQUESTS for clinic/serve.py (0, the default here: no worker recycled while measuring)")
    parser.add_argument("--server-log", default="", help="write the server's output to this file")
    parser.add_argument("--json", default="", help="also write the results to this JSON file")
    parser.add_argument("--seed-only", type=int, default=None, help=argparse.SUPPRESS)  # internal
    args = parser.parse_args(argv)
    for host in (urlsplit(args.database_url).hostname, urlsplit(args.redis_url).hostname):
        if host not in ("127.0.0.1", "localhost"):
            parser.error("the benchmark only talks to services on 127.0.0.1")
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.seed_only is not None:
        seed(args.seed_only)
        return 0
    args.wrk = shutil.which("wrk")
    if not args.wrk:
        print("wrk is not installed. Install it with:  sudo apt-get install -y wrk   (macOS: brew install wrk)",
              file=sys.stderr)
        return 2
    args.secret_key = secrets.token_urlsafe(64)
    proc = db_cpu = None
    try:
        ensure_database(args.database_url)
        env = server_env(args)
        log("migrating the bench database")
        run_checked([PYTHON, "manage.py", "migrate", "--noinput"], env, "migrate")
        seeded = json.loads(run_checked([PYTHON, __file__, "--seed-only", str(args.patients)], env, "seeding").strip().splitlines()[-1])
        log(f"{seeded['patients']} patients ({seeded['created']} created now); audit log emptied; new API key")
        headers = {"Authorization": f"Api-Key {seeded['raw_key']}"}

        proc, port, ws_port = start_server(args)
        wait_until_up(proc, port, ws_port)
        workers = args.workers or (os.cpu_count() or 1) * 2
        layout = (f"python -m clinic.serve (clinic.settings.production): gunicorn {workers} sync workers on :{port}, "
                  f"daphne WebSockets on :{ws_port}")
        log(layout)
        base = f"http://127.0.0.1:{port}"
        sanity_check(args, base, headers)
        db_cpu = DatabaseCpu(args.database_url)

        targets = {
            "minimal": (base + MINIMAL_PATH, {}),
            "whoami": (base + WHOAMI_PATH, headers),
            "list": (base + LIST_PATH.format(page_size=args.page_size), headers),
        }
        results = {"minimal": [], "whoami": [], "list": []}
        for round_no in range(1, args.rounds + 1):
            for name, (url, hdrs) in targets.items():
                if args.warmup:
                    wrk(args, url, hdrs, args.warmup)
                run = measured(proc, db_cpu, lambda: parse_wrk(wrk(args, url, hdrs, args.duration)))
                results[name].append(run)
                log(f"round {round_no} {name}: {run['rps']:.1f} req/s, p50 {run['p50']:.2f} ms, p99 {run['p99']:.2f} ms, "
                    f"CPU/request app {run['app_cpu']:.2f} ms + db {run['db_cpu']:.2f} ms, "
                    f"{run['non_2xx']} non-2xx, {run['socket_errors']} socket errors")
                if proc.poll() is not None:
                    raise SetupError("the server died during the load")
        ratio = print_table(args, results, {"layout": layout, "patients": seeded["patients"]})
        errors = sum(r["non_2xx"] + r["socket_errors"] for runs in results.values() for r in runs)
        if errors:
            print(f"WARNING: {errors} failed requests; the figures are not trustworthy", file=sys.stderr)
            return 1
        return 0 if ratio >= args.target else 1
    except SetupError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    finally:
        if db_cpu is not None:
            db_cpu.close()
        stop_server(proc)


if __name__ == "__main__":
    sys.exit(main())
