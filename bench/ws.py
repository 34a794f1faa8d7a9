"""Benchmark of the live staff board (/ws/staff/board/) over two daphne processes.

    .venv/bin/python bench/ws.py                 # 100 screens, 10 events/s for 60 s, burst of 300
    .venv/bin/python bench/ws.py --quick         # smoke run: 20 screens, 10 s
    .venv/bin/python bench/ws.py --clients 100 --rate 10 --duration 60 --burst 300

What it does, in order:
  1. creates its own PostgreSQL database (default clinic_bench_ws) when missing and migrates it,
     as bench/http.py does;
  2. in a child process with clinic.settings.production: tops up --clients staff users
     (apps.accounts.services.staff_user_create, role front_desk, which holds
     scheduling.view_visitrequest) each with a confirmed TOTP device, deletes the bench
     database's old sessions and signs each user in the way tests/conftest.py `login` does
     (force_login, then DEVICE_ID_SESSION_KEY = the device's persistent id in the session);
     prints the session cookies;
  3. starts two daphne processes with the production daphne command (clinic.serve.commands),
     clinic.settings.production, DB_POOL=1 (as clinic/serve.py gives daphne), REDIS_URL (so the
     channels_redis pub/sub layer is used) and a channel prefix of its own for this run, on
     free ports of 127.0.0.1;
  4. opens --clients WebSocket clients, alternating between the two daphnes, each with its
     session cookie and Origin http://127.0.0.1:<port>, and waits for each {"type": "hello"};
  5. publishes to the channel-layer group "scheduling.board" what apps.scheduling.events sends
     after a commit, {"type": "board.events", "events": [{"type": "slot.changed", "slot": {...}}]},
     one message per event, with the event's sequence number as slot.id (the consumer forwards
     whitelisted fields only; an extra field in the slot checks that it is not forwarded):
     --rate events/s for --duration s, waits for them to be delivered (at most
     --drain-timeout s), then --burst events as fast as one publisher sends them;
  6. records each client's receive time of each event and prints p50, p99 and max latency
     (publish to receive, one clock: the clients and the publisher share this process), lost
     frames (clients x events - received within the drain timeout), how long the burst took
     to drain, and the CPU time of the daphnes and PostgreSQL per delivered frame, beside the
     targets of issue 15; then closes the clients and stops both daphnes.

Exit status: 0 when every target is met, 1 when one is not, 2 on a setup error.
"""
import sys
from pathlib import Path

if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)  # bench/http.py would shadow the standard library's http package

import argparse
import asyncio
import collections
import importlib.util
import json
import os
import secrets
import signal
import socket
import subprocess
import time
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

_spec = importlib.util.spec_from_file_location("bench_http", Path(__file__).resolve().parent / "http.py")
bench_http = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_http)
SetupError, log = bench_http.SetupError, bench_http.log

BOARD_PATH = "/ws/staff/board/"
BOARD_GROUP = "scheduling.board"  # apps.scheduling.events.BOARD_GROUP
BATCH_TYPE = "board.events"  # apps.scheduling.events.BATCH_TYPE
ROLE = "front_desk"  # has scheduling.view_visitrequest (apps/accounts/roles.py)
EMAIL = "bench-ws-{:04d}@example.test"
DAPHNES = 2
# Issue 15, "Live boards that keep up".
TARGET_P99_MS = 100.0
TARGET_BURST_DRAIN_S = 3.0
NOT_FORWARDED = "bench_not_forwarded"  # a field the consumer's whitelist must drop
PHASE_SPAN = 100_000  # sequence numbers: steady 1.., burst 100,001.., warm-up 1,000,000..
STEADY_FIRST, BURST_FIRST, WARM_FIRST = 1, PHASE_SPAN + 1, 10 * PHASE_SPAN


# --- seeding (a child process with the production settings) -----------------------------

def seed(count):
    """Top up `count` bench staff users with a confirmed TOTP device, replace the bench
    database's sessions with one verified session per user, print the cookies as JSON."""
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import Group
    from django.contrib.sessions.models import Session
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from apps.accounts.models import User
    from apps.accounts.roles import ensure_roles
    from apps.accounts.services import staff_user_create

    if not Group.objects.filter(name=ROLE).exists():
        ensure_roles()
    created = 0
    users = []
    for i in range(count):
        email = EMAIL.format(i)
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            # No password (unusable): hashing 100 passwords would only slow the set-up down.
            user = staff_user_create(email=email, password=None, full_name=f"Bench Screen {i}", role=ROLE)
            created += 1
        if not (user.is_active and user.is_staff):
            User.objects.filter(pk=user.pk).update(is_active=True, is_staff=True)
            user.refresh_from_db()
        if not user.has_perm("scheduling.view_visitrequest"):
            user.groups.add(Group.objects.get(name=ROLE))
        if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
        users.append(user)
    # The bench's own database: earlier runs' sessions are of no use to anyone.
    Session.objects.all().delete()
    name = settings.SESSION_COOKIE_NAME
    cookies = []
    for user in users:
        # tests/conftest.py `login`: sign in, then the verified second factor in the session.
        client = Client()
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        device = user.totpdevice_set.filter(confirmed=True).first()
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        cookies.append(f"{name}={client.cookies[name].value}")
    print(json.dumps({"cookies": cookies, "created": created}))


# --- the daphnes ----------------------------------------------------------------------------

def daphne_env(args):
    env = bench_http.server_env(args)
    env.update(DB_POOL="1", CHANNELS_PREFIX=args.prefix)  # DB_POOL=1: what clinic/serve.py gives daphne
    # Production refuses to start without an SMTP server; the board sends no mail. A port on
    # 127.0.0.1 where nothing listens, so a stray send fails at once and nothing leaves.
    env.setdefault("EMAIL_URL", "smtp://127.0.0.1:9")
    return env


def start_daphnes(args):
    sys.path.insert(0, str(ROOT))
    from clinic.serve import commands  # the production daphne command line

    procs = []
    env = daphne_env(args)
    ports = set()
    for i in range(DAPHNES):
        port = bench_http.free_port()
        while port in ports:
            port = bench_http.free_port()
        ports.add(port)
        _, daphne = commands("127.0.0.1", port, port, 1)
        logfile = open(f"{args.server_log}.{i}", "w") if args.server_log else subprocess.DEVNULL
        # Its own session, so the whole group can be killed on the way out.
        proc = subprocess.Popen(daphne, env=env, cwd=ROOT, stdout=logfile, stderr=subprocess.STDOUT,
                                start_new_session=True)
        procs.append((proc, port))
    return procs


def wait_for_ports(procs, timeout=60):
    deadline = time.time() + timeout
    pending = list(procs)
    while pending and time.time() < deadline:
        for proc, port in list(pending):
            if proc.poll() is not None:
                raise SetupError(f"daphne on :{port} exited with {proc.returncode} while starting (see --server-log)")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    pending.remove((proc, port))
            except OSError:
                pass
        time.sleep(0.2)
    if pending:
        raise SetupError(f"daphne did not listen on {[p for _, p in pending]} within {timeout} s")


def stop_daphnes(procs):
    for proc, _ in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.time() + 15
    for proc, _ in procs:
        try:
            proc.wait(max(0.1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # anything left in its group
        except ProcessLookupError:
            pass
        if proc.poll() is None:
            proc.wait(5)


# --- the screens --------------------------------------------------------------------------

class Screen:
    """One WebSocket client: what it received, and when (time.monotonic())."""

    def __init__(self, index, port, cookie):
        self.index, self.port, self.cookie = index, port, cookie
        self.ws = None
        self.received = {}  # sequence number -> receive time
        self.counts = collections.Counter()  # distinct frames received per phase (phase_of)
        self.duplicates = self.unexpected = self.leaked = 0
        self.frames = 0  # every board frame received, of any phase (CPU per frame)
        self.closed_with = None  # close code when the server closed the socket during the run
        self.reader = None

    @property
    def url(self):
        return f"ws://127.0.0.1:{self.port}{BOARD_PATH}"

    async def open(self, timeout):
        from websockets.asyncio.client import connect

        self.ws = await connect(
            self.url, origin=f"http://127.0.0.1:{self.port}", additional_headers={"Cookie": self.cookie},
            open_timeout=timeout, close_timeout=2, ping_interval=None,
        )
        first = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        if first != {"type": "hello"}:
            raise SetupError(f"screen {self.index}: expected hello, got {first}")
        self.reader = asyncio.create_task(self._read())

    async def _read(self):
        from websockets.exceptions import ConnectionClosed

        try:
            async for raw in self.ws:
                now = time.monotonic()
                message = json.loads(raw)
                slot = message.get("slot") if message.get("type") == "slot.changed" else None
                try:
                    seq = int(slot["id"])
                except (TypeError, KeyError, ValueError):
                    self.unexpected += 1
                    continue
                self.frames += 1
                if NOT_FORWARDED in slot:
                    self.leaked += 1
                if seq in self.received:
                    self.duplicates += 1
                else:
                    self.received[seq] = now
                    self.counts[phase_of(seq)] += 1
        except ConnectionClosed:
            pass
        if self.ws.close_code is not None and not getattr(self, "closing", False):
            self.closed_with = self.ws.close_code

    async def close(self):
        self.closing = True
        if self.ws is not None:
            try:
                await asyncio.wait_for(self.ws.close(), 5)
            except Exception:
                pass
        if self.reader is not None:
            self.reader.cancel()
            await asyncio.gather(self.reader, return_exceptions=True)


async def refused_without_session(port):
    """Sanity: the board refuses a socket without a session (accept, then close 4401)."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed, InvalidStatus

    try:
        async with connect(f"ws://127.0.0.1:{port}{BOARD_PATH}", origin=f"http://127.0.0.1:{port}",
                           open_timeout=10, close_timeout=2, ping_interval=None) as ws:
            try:
                message = await asyncio.wait_for(ws.recv(), 10)
                return f"NOT refused: got {message[:80]}"
            except ConnectionClosed:
                return f"closed {ws.close_code}"
    except InvalidStatus as exc:
        return f"HTTP {exc.response.status_code}"
    except (OSError, asyncio.TimeoutError) as exc:
        return f"error {exc!r}"


# --- publishing -----------------------------------------------------------------------------

def board_message(seq):
    """What apps.scheduling.events sends to the board group for one committed slot change."""
    return {"type": BATCH_TYPE, "events": [{"type": "slot.changed", "slot": {
        "id": str(seq),
        "provider_id": "00000000-0000-0000-0000-000000000001",
        "status": "BOOKED" if seq % 2 else "FREE",
        "start": "2027-01-04T09:00:00-05:00",
        NOT_FORWARDED: "must not reach the browser",
    }}]}


async def publish_steady(layer, sent, first_seq, rate, duration):
    count = int(round(rate * duration))
    start = time.monotonic()
    for i in range(count):
        due = start + i / rate
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        seq = first_seq + i
        sent[seq] = time.monotonic()
        await asyncio.wait_for(layer.group_send(BOARD_GROUP, board_message(seq)), 5)
    return list(range(first_seq, first_seq + count)), time.monotonic() - start


async def publish_burst(layer, sent, first_seq, count):
    start = time.monotonic()
    for i in range(count):
        seq = first_seq + i
        sent[seq] = time.monotonic()
        await asyncio.wait_for(layer.group_send(BOARD_GROUP, board_message(seq)), 5)
    return list(range(first_seq, first_seq + count)), time.monotonic() - start


def phase_of(seq):
    """Sequence numbers by phase: steady 1.., burst BURST_FIRST.., warm-up WARM_FIRST.."""
    return seq // PHASE_SPAN


async def wait_delivered(screens, seqs, timeout):
    """Until every open screen received every seq of that phase, or `timeout` s; returns the
    seconds waited. (Counts, not sets: the poll must cost the clients' process next to nothing.)"""
    start = time.monotonic()
    phase, wanted = phase_of(seqs[0]), len(seqs)
    while time.monotonic() - start < timeout:
        live = [s for s in screens if s.closed_with is None]
        if not live or all(s.counts[phase] >= wanted for s in live):
            break
        await asyncio.sleep(0.05)
    return time.monotonic() - start


# --- figures ------------------------------------------------------------------------------

def percentile(sorted_values, p):
    """Nearest rank."""
    if not sorted_values:
        return float("nan")
    rank = max(1, -(-len(sorted_values) * p // 100))
    return sorted_values[int(rank) - 1]


def phase_figures(screens, seqs, sent):
    latencies, per_port = [], {}
    last = None
    for s in screens:
        for seq in seqs:
            t = s.received.get(seq)
            if t is None:
                continue
            ms = (t - sent[seq]) * 1000
            latencies.append(ms)
            per_port.setdefault(s.port, []).append(ms)
            last = t if last is None or t > last else last
    latencies.sort()
    expected = len(screens) * len(seqs)
    return {
        "expected": expected, "received": len(latencies), "lost": expected - len(latencies),
        "p50_ms": percentile(latencies, 50), "p99_ms": percentile(latencies, 99),
        "max_ms": latencies[-1] if latencies else float("nan"),
        "last_receive": last,
        "per_daphne_p99_ms": {port: percentile(sorted(v), 99) for port, v in per_port.items()},
    }


class Cpu:
    """CPU time (ms) of the daphnes' process groups, the bench database's PostgreSQL backends
    and this process (the clients and the publisher)."""

    def __init__(self, procs, database_url, screens):
        self.procs, self.screens = procs, screens
        self.db = bench_http.DatabaseCpu(database_url)

    def snapshot(self):
        return {"daphnes": sum(bench_http.group_cpu_ms(p.pid) for p, _ in self.procs),
                "db": self.db.snapshot(), "bench": time.process_time() * 1000,
                "frames": sum(s.frames for s in self.screens)}

    def spent(self, before, after):
        """CPU (ms) in the window and the frames delivered in it, whichever phase they were of."""
        return {"daphnes": after["daphnes"] - before["daphnes"],
                "db": bench_http.DatabaseCpu.spent(before["db"], after["db"]),
                "bench": after["bench"] - before["bench"], "frames": after["frames"] - before["frames"]}

    def close(self):
        self.db.close()


# --- the run --------------------------------------------------------------------------------

async def run(args, cookies, procs):
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    ports = [port for _, port in procs]
    screens = [Screen(i, ports[i % len(ports)], cookie) for i, cookie in enumerate(cookies)]
    results = {}
    cpu = Cpu(procs, args.database_url, screens)
    try:
        for port in ports:
            log(f"sanity: a socket without a session on :{port}: {await refused_without_session(port)}")

        t0 = time.monotonic()
        gate = asyncio.Semaphore(args.connect_concurrency)

        async def open_one(screen):
            async with gate:
                try:
                    await screen.open(args.connect_timeout)
                    return None
                except Exception as exc:  # reported, then the run stops
                    return f"screen {screen.index} on :{screen.port}: {exc!r}"

        failures = [f for f in await asyncio.gather(*(open_one(s) for s in screens)) if f]
        if failures:
            raise SetupError(f"{len(failures)} of {len(screens)} screens did not get hello:\n  " + "\n  ".join(failures[:10]))
        log(f"{len(screens)} screens open over daphnes on :{', :'.join(map(str, ports))}, each got hello "
            f"({time.monotonic() - t0:.1f} s)")

        sent = {}
        # A few unmeasured events first: the publisher's Redis connection and each daphne's
        # subscription are set up before the clock starts.
        warm, _ = await publish_burst(layer, sent, WARM_FIRST, 3)
        await wait_delivered(screens, warm, 10)

        log(f"steady: {args.rate:g} events/s for {args.duration} s")
        before = cpu.snapshot()
        steady, took = await publish_steady(layer, sent, STEADY_FIRST, args.rate, args.duration)
        waited = await wait_delivered(screens, steady, args.drain_timeout)
        spent = cpu.spent(before, cpu.snapshot())
        results["steady"] = phase_figures(screens, steady, sent) | {
            "events": len(steady), "publish_s": took, "drain_after_last_publish_s": waited, "cpu_ms": spent}
        log(f"steady: {len(steady)} events published in {took:.1f} s; waited {waited:.1f} s more for delivery")

        log(f"burst: {args.burst} events at once")
        before = cpu.snapshot()
        burst, took = await publish_burst(layer, sent, BURST_FIRST, args.burst)
        await wait_delivered(screens, burst, args.drain_timeout)
        spent = cpu.spent(before, cpu.snapshot())
        figures = phase_figures(screens, burst, sent)
        drained = (figures["last_receive"] - sent[burst[0]]) if figures["last_receive"] and not figures["lost"] else None
        results["burst"] = figures | {"events": len(burst), "publish_s": took, "drained_s": drained, "cpu_ms": spent}
        log(f"burst: {len(burst)} events published in {took * 1000:.0f} ms")

        results["screens"] = {
            "closed_by_server": {s.index: s.closed_with for s in screens if s.closed_with is not None},
            "duplicates": sum(s.duplicates for s in screens),
            "unexpected_frames": sum(s.unexpected for s in screens),
            "leaked_field": sum(s.leaked for s in screens),
        }
        return results
    finally:
        await asyncio.gather(*(s.close() for s in screens), return_exceptions=True)
        try:
            await asyncio.wait_for(layer.flush(), 5)
        except Exception:
            pass
        cpu.close()


def fmt_ms(value):
    return "-" if value != value else (f"{value:,.0f}" if value >= 1000 else f"{value:.1f}")


def report(args, results):
    steady, burst, screens = results["steady"], results["burst"], results["screens"]
    print()
    print(f"Staff board {BOARD_PATH}: {args.clients} screens over {DAPHNES} daphne processes "
          f"(clinic.settings.production, channels_redis pub/sub layer, DB_POOL=1); {os.cpu_count()} cores")
    print(f"latency = publish (group_send to {BOARD_GROUP!r}) to receive by a client; lost = not received "
          f"within {args.drain_timeout:g} s of the last publish")
    print()
    header = f"{'phase':<32}  {'frames':>13}  {'lost':>6}  {'p50 ms':>8}  {'p99 ms':>8}  {'max ms':>8}  {'daphne CPU ms/frame':>19}  {'db CPU ms/frame':>15}"
    print(header)
    print("-" * len(header))
    for name, r in ((f"steady {args.rate:g}/s x {args.duration} s", steady), (f"burst of {args.burst}", burst)):
        frames = max(1, r["cpu_ms"]["frames"])  # all frames delivered in the phase's window
        print(f"{name:<32}  {r['received']:>6}/{r['expected']:<6}  {r['lost']:>6}  {fmt_ms(r['p50_ms']):>8}  "
              f"{fmt_ms(r['p99_ms']):>8}  {fmt_ms(r['max_ms']):>8}  {r['cpu_ms']['daphnes'] / frames:>19.3f}  "
              f"{r['cpu_ms']['db'] / frames:>15.3f}")
    print("-" * len(header))
    checks = []
    p99_ok = steady["p99_ms"] < TARGET_P99_MS and steady["lost"] == 0
    checks.append(p99_ok)
    print(f"target: p99 < {TARGET_P99_MS:.0f} ms at 10 events/s with 100 screens over two daphnes: "
          f"p99 {fmt_ms(steady['p99_ms'])} ms, {steady['lost']} lost: {'PASS' if p99_ok else 'FAIL'}"
          + ("" if (args.clients, args.rate) == (100, 10) else f"  (this run: {args.clients} screens, {args.rate:g}/s)"))
    drained = burst["drained_s"]
    burst_ok = burst["lost"] == 0 and drained is not None and drained <= TARGET_BURST_DRAIN_S
    checks.append(burst_ok)
    print(f"target: burst of 300: 0 lost, drained within {TARGET_BURST_DRAIN_S:.0f} s: {burst['lost']} lost, "
          f"drained in {'-' if drained is None else f'{drained:.2f} s'}: {'PASS' if burst_ok else 'FAIL'}"
          + ("" if args.burst == 300 else f"  (this run: a burst of {args.burst})"))
    print(f"  steady: published in {steady['publish_s']:.1f} s, delivered {steady['drain_after_last_publish_s']:.1f} s after the last publish; "
          f"p99 per daphne: " + ", ".join(f":{p} {fmt_ms(v)} ms" for p, v in steady["per_daphne_p99_ms"].items()))
    print(f"  burst: published in {burst['publish_s'] * 1000:.0f} ms; "
          f"whole board: {burst['received'] / drained:,.0f} frames/s" if drained else
          f"  burst: published in {burst['publish_s'] * 1000:.0f} ms; not drained within {args.drain_timeout:g} s")
    for name, r in (("steady", steady), ("burst", burst)):
        print(f"  CPU during {name} (ms): daphnes {r['cpu_ms']['daphnes']:,.0f}, PostgreSQL {r['cpu_ms']['db']:,.0f}, "
              f"this process (clients + publisher) {r['cpu_ms']['bench']:,.0f}")
    problems = []
    if screens["closed_by_server"]:
        problems.append(f"{len(screens['closed_by_server'])} sockets closed by the server "
                        f"(codes {sorted(set(screens['closed_by_server'].values()))})")
    if screens["duplicates"]:
        problems.append(f"{screens['duplicates']} duplicate frames")
    if screens["unexpected_frames"]:
        problems.append(f"{screens['unexpected_frames']} unexpected frames")
    if screens["leaked_field"]:
        problems.append(f"{screens['leaked_field']} frames carried a field outside the whitelist")
    if (steady["lost"] or burst["lost"]) and not screens["closed_by_server"]:
        print(f"  note: no socket closed; the pub/sub layer queues without bound, so frames missing after "
              f"{args.drain_timeout:g} s are most likely late, not dropped (a longer --drain-timeout tells)")
    if steady["lost"]:
        problems.append(f"the steady phase was not delivered within {args.drain_timeout:g} s: the burst started "
                        "behind its backlog (see --drain-timeout)")
    for problem in problems:
        print(f"WARNING: {problem}")
    if args.json:
        Path(args.json).write_text(json.dumps({"results": results, "config": {
            k: v for k, v in vars(args).items() if k not in ("secret_key",)}}, indent=2, default=str))
    return all(checks) and not problems


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=None, help="WebSocket screens, spread over two daphnes (100; --quick 20)")
    parser.add_argument("--rate", type=float, default=10.0, help="steady events per second (10)")
    parser.add_argument("--duration", type=int, default=None, help="seconds of steady events (60; --quick 10)")
    parser.add_argument("--burst", type=int, default=300, help="events published at once after the steady phase (300)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 20 screens, 10 s (explicit flags win)")
    parser.add_argument("--drain-timeout", type=float, default=None,
                        help="seconds to wait for delivery after each phase's last publish; later counts as lost (180; --quick 60)")
    parser.add_argument("--connect-concurrency", type=int, default=10, help="handshakes in flight at once (10)")
    parser.add_argument("--connect-timeout", type=float, default=30, help="seconds for a handshake and its hello (30)")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_WS_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/clinic_bench_ws"))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9"))
    parser.add_argument("--server-log", default="", help="write each daphne's output to this file + .0 / .1")
    parser.add_argument("--json", default="", help="also write the results to this JSON file")
    parser.add_argument("--seed-only", type=int, default=None, help=argparse.SUPPRESS)  # internal
    args = parser.parse_args(argv)
    if args.clients is None:
        args.clients = 20 if args.quick else 100
    if args.duration is None:
        args.duration = 10 if args.quick else 60
    if args.drain_timeout is None:
        args.drain_timeout = 60.0 if args.quick else 180.0
    if args.clients < 1 or args.rate <= 0 or args.duration < 1 or args.burst < 1 or args.drain_timeout <= 0:
        parser.error("--clients, --rate, --duration, --burst and --drain-timeout must be positive")
    if args.rate * args.duration >= PHASE_SPAN - 1 or args.burst >= PHASE_SPAN - 1:
        parser.error(f"at most {PHASE_SPAN - 2} events per phase")
    for host in (urlsplit(args.database_url).hostname, urlsplit(args.redis_url).hostname):
        if host not in ("127.0.0.1", "localhost"):
            parser.error("the benchmark only talks to services on 127.0.0.1")
    args.workers = 0  # bench_http.server_env reads it (gunicorn is not started here)
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.seed_only is not None:
        seed(args.seed_only)
        return 0
    args.secret_key = secrets.token_urlsafe(64)
    # Pub/sub channels are global to the Redis server: a prefix of our own keeps other runs'
    # events (and ours) apart.
    args.prefix = f"bench-ws-{secrets.token_hex(4)}"
    procs = []
    try:
        bench_http.ensure_database(args.database_url)
        env = daphne_env(args)
        log("migrating the bench database")
        bench_http.run_checked([PYTHON, "manage.py", "migrate", "--noinput"], env, "migrate")
        out = bench_http.run_checked([PYTHON, __file__, "--seed-only", str(args.clients),
                                      "--database-url", args.database_url], env, "seeding")
        seeded = json.loads(out.strip().splitlines()[-1])
        log(f"{len(seeded['cookies'])} staff users ({seeded['created']} created now), each with a verified session")

        procs = start_daphnes(args)
        wait_for_ports(procs)
        log("daphne on " + ", ".join(f"127.0.0.1:{port} (pid {proc.pid})" for proc, port in procs))

        # The publisher: this process's channel layer, from the same settings as the daphnes.
        os.environ.update(env)
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        results = asyncio.run(asyncio.wait_for(run(args, seeded["cookies"], procs), _run_budget(args)))
        for proc, port in procs:
            if proc.poll() is not None:
                raise SetupError(f"daphne on :{port} died during the run")
        return 0 if report(args, results) else 1
    except asyncio.TimeoutError:
        print("bench: the run exceeded its time budget", file=sys.stderr)
        return 2
    except SetupError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    finally:
        stop_daphnes(procs)


def _run_budget(args):
    """An upper bound for the whole asynchronous part: connects, both phases, their drains."""
    connects = args.connect_timeout * (args.clients / max(1, args.connect_concurrency) + 2)
    return connects + 30 + args.duration * 1.5 + 2 * args.drain_timeout + args.burst * 0.05 + 60


if __name__ == "__main__":
    sys.exit(main())
