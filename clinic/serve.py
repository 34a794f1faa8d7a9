"""The `web` process: HTTP through gunicorn's sync workers, WebSockets through daphne.

Why two servers: one daphne process served plain HTTP about 7x slower than four sync workers
(NOTES.md), while WebSockets need an ASGI server. So gunicorn (WEB_CONCURRENCY workers,
persistent database connections) answers HTTP on $PORT and daphne (a psycopg pool) answers
/ws/ on $WS_PORT. Pages open their socket on WEBSOCKET_URL when set (a proxy that routes /ws/
to $WS_PORT on the same origin), else on the same host at $WS_PORT.

This supervisor starts both, forwards SIGTERM/SIGINT, and exits when either one exits, so the
platform restarts the pair together.

Workers are recycled after WEB_MAX_REQUESTS requests (default 5000; 0: never) plus a random
0..WEB_MAX_REQUESTS_JITTER more (default a tenth of it), so the workers, started together, do
not all restart at once. Benchmarks set WEB_MAX_REQUESTS=0 so no worker restarts while they
measure (bench/README.md).

With no REDIS_URL (the zero-setup default) the channel layer is in-memory and cannot carry an
event from a gunicorn worker to daphne, so daphne alone serves HTTP and WebSockets on $PORT.
"""
import os
import signal
import subprocess
import sys
import time


DEFAULT_MAX_REQUESTS = 5000


def recycling(environ=None):
    """gunicorn's --max-requests and --max-requests-jitter from WEB_MAX_REQUESTS and
    WEB_MAX_REQUESTS_JITTER (default: a tenth of the first). 0 requests: never recycle."""
    environ = os.environ if environ is None else environ
    max_requests = int(environ.get("WEB_MAX_REQUESTS", DEFAULT_MAX_REQUESTS))
    if max_requests <= 0:
        return ["--max-requests", "0"]
    jitter = int(environ.get("WEB_MAX_REQUESTS_JITTER", max_requests // 10))
    return ["--max-requests", str(max_requests), "--max-requests-jitter", str(max(0, jitter))]


def commands(host, port, ws_port, workers):
    python = sys.executable
    bindir = os.path.dirname(python)
    gunicorn = [
        os.path.join(bindir, "gunicorn"), "clinic.wsgi:application",
        "--bind", f"{host}:{port}",
        "--workers", str(workers),
        "--worker-class", "sync",
        *recycling(),
        "--timeout", "30", "--graceful-timeout", "20",
        "--access-logfile", os.environ.get("ACCESS_LOG", "-") if os.environ.get("ACCESS_LOG") else "/dev/null",
    ]
    daphne = [os.path.join(bindir, "daphne"), "-b", host, "-p", str(ws_port), "--proxy-headers", "clinic.asgi:application"]
    return gunicorn, daphne


def main():
    host = os.environ.get("HOST", "0.0.0.0")
    port = int(os.environ.get("PORT", "8000"))
    ws_port = int(os.environ.get("WS_PORT", port + 1))
    workers = int(os.environ.get("WEB_CONCURRENCY", (os.cpu_count() or 1) * 2))
    if not os.environ.get("REDIS_URL"):
        ws_port = port
    gunicorn, daphne = commands(host, port, ws_port, workers)
    env = dict(os.environ, WS_PORT=str(ws_port))
    if ws_port == port:
        print(f"web: daphne serves HTTP and WebSockets on {host}:{port} (no REDIS_URL: single process)", flush=True)
        children = [subprocess.Popen(daphne, env=env)]
    else:
        print(f"web: gunicorn ({workers} workers) on {host}:{port}, daphne WebSockets on {host}:{ws_port}", flush=True)
        uses_postgres = os.environ.get("DATABASE_URL", "").startswith(("postgres", "postgresql", "pgsql"))
        children = [
            subprocess.Popen(gunicorn, env=env),
            subprocess.Popen(daphne, env=dict(env, DB_POOL=os.environ.get("DB_POOL", "1" if uses_postgres else "0"))),
        ]

    def stop(signum, frame):
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
    finally:
        stop(None, None)
        deadline = time.time() + 20
        for child in children:
            try:
                child.wait(max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                child.kill()
    sys.exit(max((c.returncode or 0) for c in children))


if __name__ == "__main__":
    main()
