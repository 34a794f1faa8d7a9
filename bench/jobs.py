"""Benchmark of reminders at volume: enqueue 10,000 due reminder SMS, dispatch them with one
Celery worker at concurrency 2 through the local SMS provider, then the same again with the
worker SIGKILLed once in the middle.

    .venv/bin/python bench/jobs.py                      # 10,000 messages: normal run, then the kill run
    .venv/bin/python bench/jobs.py --messages 2000      # smaller
    .venv/bin/python bench/jobs.py --no-kill            # only the normal run

What it does, in order:
  1. creates its own PostgreSQL database (default clinic_bench_jobs) when missing, migrates it
     and writes the periodic jobs into django-celery-beat (manage.py sync_periodic_tasks, the
     Procfile's release step);
  2. in a child process with clinic.settings.production: tops up --messages patients (a mobile
     number, SMS on, email off, no portal user, no quiet hours) and one PLANNED walk-in visit
     each (one location, visit type and provider);
  3. for each run: empties the bench database's outbox tables (TRUNCATE: its own database),
     forgets old worker heartbeats, moves every visit to start 2 hours from now (so its 2-hour
     reminder is due now) and empties the bench Redis database's Celery queue; starts the
     Procfile's `worker` (prefork, --concurrency 2) and `beat` with the production settings,
     MESSAGING_SMS_BACKEND=local, and waits until the worker is ready;
  4. enqueue: a child process loads the visits and calls
     apps.messaging.reminders.visit_reminders_schedule_many() once, the service
     visit_reminders_schedule() itself goes through, "now" being a minute before the reminders
     fell due (as if the visits had been booked then): one reminder SMS per visit, in one
     transaction; its delivery kicks go to the broker after commit. The figure is the
     service call's wall time (loading the visits is printed apart);
  5. dispatch: from that commit until every row is SENT, polled every 0.1 s. In the kill run
     the worker's main process gets SIGKILL when half the rows are sent (its pool processes
     die with it: Celery gives them SIGKILL as parent-death signal); the rows it had claimed
     are noted, and a new worker is started after --restart-delay seconds, as a supervisor
     would. The figure beside the target is the time from the kill until the last of those
     rows was SENT;
  6. checks: duplicates (local provider entries beyond one per message), lost (rows not SENT,
     or SENT without exactly one provider entry, or whose provider id is not that entry's),
     and how many earlier attempts were reconciled (found at the provider, not resent);
  7. prints the figures beside the targets of issue 15 and stops what it started.

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
import signal
import subprocess
import tempfile
import time
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
CELERY = str(Path(sys.executable).parent / "celery")

_spec = importlib.util.spec_from_file_location("bench_http", Path(__file__).resolve().parent / "http.py")
bench_http = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_http)
SetupError, log, ensure_database, run_checked = bench_http.SetupError, bench_http.log, bench_http.ensure_database, bench_http.run_checked
group_cpu_ms, DatabaseCpu = bench_http.group_cpu_ms, bench_http.DatabaseCpu

# Issue 15, "Jobs at volume".
TARGET_ENQUEUE_S = 10.0
TARGET_DISPATCH_S = 60.0
TARGET_RECOVERY_S = 60.0
VISIT_KEY = "bench-jobs-{:05d}"  # Visit.idempotency_key of the bench's visits
OUTBOX_TABLES = "messaging_deliveryattempt, messaging_deliverystatusevent, messaging_smsoutboxentry, messaging_outboundmessage"


# --- child processes (clinic.settings.production) --------------------------------------------

def seed(count):
    """Top up `count` patients, each with one PLANNED walk-in visit."""
    import django

    django.setup()
    import random
    from datetime import date, timedelta

    from django.db import transaction
    from django.utils import timezone

    from apps.accounts.models import User
    from apps.patients.models import MrnSequence, Patient
    from apps.patients.services import _luhn_digit
    from apps.scheduling.models import Location, Provider, Visit, VisitType

    rng = random.Random(20261203)
    with transaction.atomic():
        location, _ = Location.objects.get_or_create(name="Bench Jobs Clinic", defaults={"timezone": "America/New_York"})
        visit_type, _ = VisitType.objects.get_or_create(name="Bench Jobs Visit", defaults={"duration_minutes": 30})
        user = User.objects.filter(email="bench-jobs-provider@example.test").first() or User.objects.create_user(
            email="bench-jobs-provider@example.test", password=None, is_staff=True)
        provider, _ = Provider.objects.get_or_create(user=user)
        have = Visit.objects.filter(idempotency_key__startswith="bench-jobs-").count()
        missing = max(0, count - have)
        if missing:
            seq, _ = MrnSequence.objects.select_for_update().get_or_create(pk=1)
            start = seq.next_value
            MrnSequence.objects.filter(pk=1).update(next_value=start + missing)
            patients = [Patient(
                mrn=f"{start + i:07d}{_luhn_digit(start + i)}",
                # A first name of its own: every SMS is its own text, rendered on its own.
                first_name=f"{rng.choice(['Ada', 'Ben', 'Carla', 'Dev', 'Elena', 'Farid', 'Grace', 'Hugo'])}{start + i}",
                last_name=rng.choice(["Abbott", "Baker", "Chen", "Diaz", "Evans", "Fischer", "Garcia", "Haddad"]),
                date_of_birth=date(1940, 1, 1) + timedelta(days=rng.randrange(0, 30000)),
                sex_at_birth=rng.choice("FMXU"),
                phone=f"+1212{(start + i) % 10_000_000:07d}",
                email_opt_in=False,
                city="Springfield", state="NY", postal_code="10001",
            ) for i in range(missing)]
            Patient.objects.bulk_create(patients, batch_size=1000)
            soon = timezone.now() + timedelta(hours=2)
            Visit.objects.bulk_create([Visit(
                patient=p, provider=provider, visit_type=visit_type, location=location, mode="in_person",
                start=soon, end=soon + timedelta(minutes=30), is_walk_in=True, status="PLANNED",
                idempotency_key=VISIT_KEY.format(have + i),
            ) for i, p in enumerate(patients)], batch_size=1000)
    total = Visit.objects.filter(idempotency_key__startswith="bench-jobs-").count()
    print(json.dumps({"visits": total, "created": missing}))


def prepare(count):
    """Empty the outbox, forget process heartbeats, move the first `count` visits to start in
    2 hours (their 2-hour reminder due now) and the others out of the way."""
    import django

    django.setup()
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    from apps.core.models import Heartbeat
    from apps.core.tasks import PROCESS_PREFIX
    from apps.scheduling.models import Visit

    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {OUTBOX_TABLES} CASCADE")  # the bench's own database
    Heartbeat.objects.filter(name__startswith=PROCESS_PREFIX).delete()
    # Reminder due one second ago; microseconds dropped (the reminder key stores the start to
    # the second).
    start = (timezone.now() + timedelta(hours=2, seconds=-1)).replace(microsecond=0)
    visits = Visit.objects.filter(idempotency_key__startswith="bench-jobs-")
    keys = [VISIT_KEY.format(i) for i in range(count)]
    visits.filter(idempotency_key__in=keys).update(start=start, end=start + timedelta(minutes=30), status="PLANNED")
    visits.exclude(idempotency_key__in=keys).update(status="CANCELLED")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(json.dumps({"start": start.isoformat()}))


def enqueue(count):
    """The timed enqueue: one call of visit_reminders_schedule_many for `count` visits."""
    import django

    django.setup()
    from datetime import timedelta

    from apps.messaging.reminders import VisitReminders, visit_reminders_schedule_many
    from apps.scheduling.models import Visit

    t0 = time.perf_counter()
    visits = list(Visit.objects.filter(idempotency_key__startswith="bench-jobs-", status="PLANNED")
                  .select_related("patient", "location").order_by("idempotency_key")[:count])
    items = [VisitReminders(visit_id=str(v.pk), patient=v.patient, start_at=v.start, location_name=v.location.name,
                            status=v.status) for v in visits]
    loaded = time.perf_counter() - t0
    # "now" a minute before the 2-hour reminders fell due: as if the visits were booked then.
    booked_at = visits[0].start - timedelta(hours=2, minutes=1)
    t1 = time.perf_counter()
    rows = visit_reminders_schedule_many(visits=items, now=booked_at)
    seconds = time.perf_counter() - t1
    committed_at = time.time()
    print(json.dumps({"seconds": seconds, "load_seconds": loaded, "visits": len(items),
                      "rows": sum(len(r) for r in rows), "committed_at": committed_at}))


# --- the worker ---------------------------------------------------------------------------

def worker_env(args):
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="clinic.settings.production",
        SECRET_KEY=args.secret_key,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=args.database_url,
        REDIS_URL=args.redis_url,
        EMAIL_URL="smtp://127.0.0.1:9",  # production needs one; nothing is emailed here
        MESSAGING_SMS_BACKEND="local",
        TWILIO_ACCOUNT_SID="",
        MESSAGING_CELERY_QUEUE="",
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
        LOG_LEVEL="WARNING",
    )
    env.pop("DEBUG", None)
    return env


class Proc:
    def __init__(self, name, argv, env):
        self.name = name
        self.log = tempfile.NamedTemporaryFile(prefix=f"bench-jobs-{name}-", suffix=".log", delete=False)
        self.popen = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT,
                                      start_new_session=True)

    def output(self):
        return Path(self.log.name).read_text(errors="replace")

    def wait_for(self, text, timeout=90):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.output():
                return
            if self.popen.poll() is not None:
                raise SetupError(f"{self.name} exited with {self.popen.returncode}:\n{self.output()[-3000:]}")
            time.sleep(0.1)
        raise SetupError(f"{self.name} did not print {text!r} within {timeout}s:\n{self.output()[-3000:]}")

    def group_alive(self):
        """Processes left in its process group (session)."""
        alive = 0
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as f:
                        rest = f.read().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(rest[2]) == self.popen.pid and rest[0] != "Z":
                    alive += 1
        return alive

    def stop(self):
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, signal.SIGTERM)
                self.popen.wait(20)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            self.popen.wait(10)
        except subprocess.TimeoutExpired:
            pass
        self.log.close()
        os.unlink(self.log.name)


def start_worker(args, env, name):
    # The Procfile's worker line (prefork pool), with a node name of its own.
    return Proc(name, [CELERY, "-A", "clinic", "worker", "--loglevel=INFO", f"--concurrency={args.concurrency}",
                       "-n", f"{name}-{secrets.token_hex(3)}@%h"], env)


def start_beat(env):
    return Proc("beat", [CELERY, "-A", "clinic", "beat", "--loglevel=INFO", "--pidfile=",
                         "--scheduler", "django_celery_beat.schedulers:DatabaseScheduler"], env)


def purge_queue(redis_url):
    import redis

    client = redis.Redis.from_url(redis_url)
    # Only Celery's own keys in the bench's Redis database: the default queue and the unacked
    # (visibility timeout) bookkeeping of earlier, killed runs.
    for key in ("celery", "unacked", "unacked_index", "unacked_mutex"):
        client.delete(key)
    client.close()


# --- measuring ----------------------------------------------------------------------------

class Db:
    def __init__(self, url):
        import psycopg

        self.conn = psycopg.connect(url, autocommit=True, connect_timeout=5)

    def one(self, sql, params=()):
        return self.conn.execute(sql, params).fetchone()

    def commit_ms(self, count=200):
        """Median time of one INSERT + COMMIT on this server now (the local provider's cost per
        SMS is one of these; it moves with the disk and the other load on the machine)."""
        # A plain (logged) table of the bench's own database: a temporary one writes no WAL.
        self.conn.execute("CREATE TABLE IF NOT EXISTS bench_commit_probe (v int)")
        times = []
        with self.conn.cursor() as cur:
            self.conn.autocommit = False
            try:
                for i in range(count):
                    t0 = time.perf_counter()
                    cur.execute("INSERT INTO bench_commit_probe VALUES (%s)", [i])
                    self.conn.commit()
                    times.append((time.perf_counter() - t0) * 1000)
            finally:
                self.conn.autocommit = True
        self.conn.execute("DROP TABLE bench_commit_probe")
        return sorted(times)[len(times) // 2]

    def statuses(self):
        return dict(self.conn.execute("SELECT status, count(*) FROM messaging_outboundmessage GROUP BY status").fetchall())

    def sent(self):
        return self.one("SELECT count(*) FROM messaging_outboundmessage WHERE status = 'sent'")[0]

    def sending_rows(self):
        return self.conn.execute(
            "SELECT id, claimed_by FROM messaging_outboundmessage WHERE status = 'sending'").fetchall()

    def all_sent(self, ids):
        return self.one("SELECT count(*) FROM messaging_outboundmessage WHERE id = ANY(%s) AND status = 'sent'",
                        [list(ids)])[0] == len(ids)

    def check(self, expected):
        rows = self.one("SELECT count(*) FROM messaging_outboundmessage")[0]
        entries = self.one("SELECT count(*) FROM messaging_smsoutboxentry")[0]
        distinct = self.one("SELECT count(DISTINCT message_id) FROM messaging_smsoutboxentry")[0]
        not_sent = self.one("SELECT count(*) FROM messaging_outboundmessage WHERE status <> 'sent'")[0]
        # SENT with exactly one provider entry, and the row's provider id is that entry's sid.
        matched = self.one(
            "SELECT count(*) FROM messaging_outboundmessage m JOIN messaging_smsoutboxentry e ON e.message_id = m.id "
            "WHERE m.status = 'sent' AND m.provider_message_id = e.sid")[0]
        resent = self.one("SELECT count(*) FROM messaging_deliveryattempt WHERE outcome = 'not_sent'")[0]
        return {
            "rows": rows,
            "duplicates": entries - distinct,
            "lost": max(0, expected - matched) + max(0, expected - rows),
            "not_sent_rows": not_sent,
            "checked_not_sent": resent,
        }

    def in_flight(self):
        """IN_FLIGHT attempts: (accepted by the provider but not recorded, never sent)."""
        accepted = self.one(
            "SELECT count(*) FROM messaging_deliveryattempt a WHERE a.outcome = 'in_flight' "
            "AND EXISTS (SELECT 1 FROM messaging_smsoutboxentry e WHERE e.attempt_id = a.id)")[0]
        total = self.one("SELECT count(*) FROM messaging_deliveryattempt WHERE outcome = 'in_flight'")[0]
        return accepted, total - accepted

    def close(self):
        self.conn.close()


def one_run(args, env, *, kill):
    label = "kill" if kill else "normal"
    prepared = json.loads(run_checked([PYTHON, __file__, "--child", "prepare", str(args.messages)], env, "prepare").strip().splitlines()[-1])
    purge_queue(args.redis_url)
    db = Db(args.database_url)
    db_cpu = DatabaseCpu(args.database_url)
    beat = start_beat(env)
    worker = start_worker(args, env, "worker")
    workers = [worker]
    result = {"run": label, "visits_start": prepared["start"]}
    try:
        worker.wait_for(" ready.")
        beat.wait_for("beat: Starting...", timeout=60)
        result.update(commit_ms=db.commit_ms(), load_average=os.getloadavg()[0])
        log(f"PostgreSQL INSERT + COMMIT now: {result['commit_ms']:.2f} ms (median); load average {result['load_average']:.2f}")
        cpu_before = db_cpu.snapshot()
        log(f"{label} run: worker ready; enqueueing {args.messages} reminders")
        enq = json.loads(run_checked([PYTHON, __file__, "--child", "enqueue", str(args.messages)], env, "enqueue").strip().splitlines()[-1])
        result.update(enqueue_s=enq["seconds"], load_s=enq["load_seconds"], rows=enq["rows"])
        log(f"enqueued {enq['rows']} rows in {enq['seconds']:.2f} s (+ {enq['load_seconds']:.2f} s loading the visits)")
        committed = enq["committed_at"]
        deadline = time.monotonic() + args.timeout
        killed_at = claimed = recovered_s = None
        while time.monotonic() < deadline:
            sent = db.sent()
            if sent >= enq["rows"]:
                break
            if kill and killed_at is None and sent >= enq["rows"] * args.kill_at:
                os.kill(worker.popen.pid, signal.SIGKILL)  # the main process only
                killed_at = time.time()
                time.sleep(0.3)
                claimed = db.sending_rows()
                accepted, unsent = db.in_flight()
                result.update(killed_after_sent=sent, claimed_at_kill=len(claimed), claimers=sorted({c for _, c in claimed}),
                              left_alive=worker.group_alive(), accepted_unrecorded=accepted, written_ahead_unsent=unsent)
                log(f"SIGKILL to the worker's main process with {sent} sent; {len(claimed)} rows SENDING, claimed by "
                    f"{result['claimers']}; {accepted} accepted by the provider but unrecorded, {unsent} written ahead "
                    f"and not sent; {result['left_alive']} of its processes left alive")
                time.sleep(args.restart_delay)
                workers.append(start_worker(args, env, "restarted"))
            if claimed is not None and recovered_s is None and db.all_sent([i for i, _ in claimed]):
                recovered_s = time.time() - killed_at
                log(f"the dead worker's {len(claimed)} claimed rows were all SENT {recovered_s:.1f} s after its death")
            time.sleep(0.1)
        done = time.time()
        if claimed is not None and recovered_s is None and db.all_sent([i for i, _ in claimed]):
            recovered_s = done - killed_at
        all_done = db.sent() >= enq["rows"]
        result.update(dispatch_s=(done - committed) if all_done else None, finished=all_done, statuses=db.statuses())
        if kill:
            result.update(recovered_s=recovered_s)
        result["db_cpu_ms"] = DatabaseCpu.spent(cpu_before, db_cpu.snapshot())
        result["worker_cpu_ms"] = sum(group_cpu_ms(w.popen.pid) for w in workers)
        time.sleep(1)  # a late duplicate would show now
        result.update(db.check(enq["rows"]))
        if not all_done:
            log(f"not finished within {args.timeout} s: {db.statuses()}")
        else:
            log(f"{label} run: {enq['rows']} SENT {result['dispatch_s']:.1f} s after the enqueue committed; "
                f"duplicates {result['duplicates']}, lost {result['lost']}")
    finally:
        if args.show_logs:
            for p in (*workers, beat):
                print(f"--- {p.name} log (end) ---\n{p.output()[-args.show_logs:]}")
        for w in workers:
            w.stop()
        beat.stop()
        db.close()
        db_cpu.close()
    return result


def verdict(ok):
    return "met" if ok else "NOT MET"


def print_report(args, runs):
    print()
    print(f"Jobs at volume: {args.messages} reminder SMS, one worker (prefork, concurrency {args.concurrency}), "
          "local SMS provider, PostgreSQL + Redis")
    print(f"{'run':<8} {'figure':<52} {'measured':>12} {'target':>10}  verdict")
    ok = True

    def line(run, figure, value, target, good, unit="s"):
        nonlocal ok
        ok &= bool(good)
        shown = "-" if value is None else (f"{value:.2f} {unit}" if isinstance(value, float) else str(value))
        print(f"{run:<8} {figure:<52} {shown:>12} {target:>10}  {verdict(good)}")

    for r in runs:
        n = r["rows"]
        line(r["run"], f"enqueue {n} (visit_reminders_schedule_many)", r["enqueue_s"], f"< {TARGET_ENQUEUE_S:.0f} s",
             r["enqueue_s"] < TARGET_ENQUEUE_S)
        line(r["run"], f"dispatch {n}, commit to last SENT", r["dispatch_s"], f"< {TARGET_DISPATCH_S:.0f} s",
             r["dispatch_s"] is not None and r["dispatch_s"] < TARGET_DISPATCH_S)
        if r["dispatch_s"]:
            print(f"{'':<8} {'  = messages/s':<52} {n / r['dispatch_s']:>12.1f}")
        line(r["run"], "duplicates (provider entries beyond one a message)", r["duplicates"], "0", r["duplicates"] == 0)
        line(r["run"], "lost (not SENT exactly once, or id mismatch)", r["lost"], "0", r["lost"] == 0)
        if r["run"] == "kill":
            line(r["run"], f"dead worker's {r.get('claimed_at_kill', 0)} claimed rows SENT after its death",
                 r.get("recovered_s"), f"< {TARGET_RECOVERY_S:.0f} s",
                 r.get("recovered_s") is not None and r["recovered_s"] < TARGET_RECOVERY_S)
            print(f"{'':<8}   killed with {r.get('killed_after_sent')} sent; processes of it left alive: "
                  f"{r.get('left_alive')}; restarted after {args.restart_delay:.0f} s; of its claims, "
                  f"{r.get('accepted_unrecorded')} were accepted by the provider but unrecorded (found, not resent) and "
                  f"{r.get('written_ahead_unsent')} written ahead but never sent ({r['checked_not_sent']} checked, then sent once)")
        print(f"{'':<8}   CPU per message: worker {r['worker_cpu_ms'] / n:.2f} ms, PostgreSQL {r['db_cpu_ms'] / n:.2f} ms; "
              f"statuses {r['statuses']}; INSERT + COMMIT {r['commit_ms']:.2f} ms, load average {r['load_average']:.2f} at the start")
    return ok


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000, help="reminder SMS per run (10000)")
    parser.add_argument("--concurrency", type=int, default=2, help="the worker's prefork processes (2)")
    parser.add_argument("--no-kill", action="store_true", help="skip the run that kills the worker")
    parser.add_argument("--kill-at", type=float, default=0.5, help="kill when this share of rows is SENT (0.5)")
    parser.add_argument("--restart-delay", type=float, default=1.0, help="seconds before the new worker starts (1)")
    parser.add_argument("--timeout", type=float, default=300, help="give up a run after this many seconds (300)")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/clinic_bench_jobs"))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11"))
    parser.add_argument("--json", default="", help="also write the results to this JSON file")
    parser.add_argument("--show-logs", type=int, default=0, metavar="CHARS", help="print the end of the worker and beat logs")
    parser.add_argument("--child", nargs=2, metavar=("STEP", "COUNT"), help=argparse.SUPPRESS)  # internal
    args = parser.parse_args(argv)
    for host in (urlsplit(args.database_url).hostname, urlsplit(args.redis_url).hostname):
        if host not in ("127.0.0.1", "localhost"):
            parser.error("the benchmark only talks to services on 127.0.0.1")
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.child:
        step, count = args.child
        {"seed": seed, "prepare": prepare, "enqueue": enqueue}[step](int(count))
        return 0
    args.secret_key = secrets.token_urlsafe(64)
    try:
        ensure_database(args.database_url)
        env = worker_env(args)
        log("migrating the bench database; writing the periodic jobs")
        run_checked([PYTHON, "manage.py", "migrate", "--noinput"], env, "migrate")
        run_checked([PYTHON, "manage.py", "sync_periodic_tasks"], env, "sync_periodic_tasks")
        seeded = json.loads(run_checked([PYTHON, __file__, "--child", "seed", str(args.messages)], env, "seeding").strip().splitlines()[-1])
        log(f"{seeded['visits']} bench visits ({seeded['created']} created now)")
        runs = [one_run(args, env, kill=False)]
        if not args.no_kill:
            runs.append(one_run(args, env, kill=True))
        ok = print_report(args, runs)
        if args.json:
            Path(args.json).write_text(json.dumps(runs, indent=2, default=str))
        return 0 if ok else 1
    except SetupError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
