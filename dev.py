#!/usr/bin/env python3
"""One entry point for a fresh machine with only Python 3.11+.

    python3 dev.py run     install into .venv, migrate, load demo data, run web + worker + beat
    python3 dev.py test    install into .venv and run the test suite (extra args go to pytest)

Everything lives in ./.venv and ./var; no services are needed (SQLite, in-memory channel
layer, filesystem Celery broker) unless DATABASE_URL / REDIS_URL are set.
"""
import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PY = VENV / "bin" / "python"
STAMP = VENV / ".requirements.sha256"


def sh(*args, **kwargs):
    print("+", " ".join(str(a) for a in args), flush=True)
    subprocess.run([str(a) for a in args], check=True, cwd=ROOT, **kwargs)


def ensure_venv():
    if sys.version_info < (3, 11):
        sys.exit("Python 3.11 or newer is needed.")
    if not PY.exists():
        sh(sys.executable, "-m", "venv", VENV)
    digest = hashlib.sha256()
    for name in ("requirements.txt", "requirements-dev.txt"):
        digest.update((ROOT / name).read_bytes())
    if not STAMP.exists() or STAMP.read_text() != digest.hexdigest():
        sh(PY, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
        sh(PY, "-m", "pip", "install", "--quiet", "-r", "requirements-dev.txt")
        STAMP.write_text(digest.hexdigest())


def run():
    ensure_venv()
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings.dev")
    env.setdefault("PORT", "8000")
    env.setdefault("HOST", "127.0.0.1")  # the dev clinic listens on this machine only
    env["PATH"] = f"{VENV / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONUNBUFFERED"] = "1"
    sh(PY, "manage.py", "migrate", "--noinput", env=env)
    sh(PY, "manage.py", "sync_periodic_tasks", env=env)
    sh(PY, "manage.py", "seed_demo", env=env)
    sh(PY, "manage.py", "collectstatic", "--noinput", "--verbosity", "0", env=env)
    port = env["PORT"]
    print(
        f"\n  The clinic is starting at http://127.0.0.1:{port}/\n"
        f"  Demo logins are listed above (password clinic-demo-2026).\n"
        f"  Staff second factor: `{PY} manage.py demo_totp` prints the current code.\n"
        f"  Emails (verification links) are written to var/outbox/email/.\n"
        f"  API docs: http://127.0.0.1:{port}/api/docs/   Stop with Ctrl+C.\n",
        flush=True,
    )
    os.execve(str(VENV / "bin" / "honcho"), ["honcho", "start", "-f", "Procfile.dev"], env)


def test(extra):
    ensure_venv()
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "clinic.settings.test"
    env["PATH"] = f"{VENV / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    # In parallel, one worker per core (pytest-xdist), unless the caller chose (-n, -p no:xdist).
    parallel = [] if any(a == "-n" or a.startswith("-n") or a == "no:xdist" for a in extra) else ["-n", "auto"]
    result = subprocess.run([str(PY), "-m", "pytest", *parallel, *extra], cwd=ROOT, env=env)
    if result.returncode != 0 or extra:
        sys.exit(result.returncode)
    # The browser tests, as their own invocation (tests/browser/conftest.py): headless Chromium
    # at phone width against the live server. Without Chromium they skip (and fail in CI).
    print("+ browser tests (tests/browser)", flush=True)
    browser = subprocess.run([str(PY), "-m", "pytest", "tests/browser", "-p", "no:xdist"], cwd=ROOT,
                             env={**env, "CLINIC_BROWSER_TESTS": "1"})
    sys.exit(browser.returncode)


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "run"
    if command == "run":
        run()
    elif command == "test":
        test(sys.argv[2:])
    else:
        sys.exit(__doc__)
