"""Production refuses to run on the development fallbacks: clinic.settings.production stops at
import with ImproperlyConfigured naming the variable, and `check --deploy` fails for each of
DATABASE_URL, REDIS_URL and EMAIL_URL under any settings that fall back (core.E001-E003)."""
import importlib
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

import clinic.settings

ROOT = Path(__file__).resolve().parent.parent.parent
GOOD = {
    "SECRET_KEY": secrets.token_urlsafe(64),
    "ALLOWED_HOSTS": "clinic.example.org",
    "DATABASE_URL": "postgres://clinic:secret@db.internal:5432/clinic",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "EMAIL_URL": "smtp://localhost:25",
}


def load_production(monkeypatch, **environ):
    """Import clinic.settings.production afresh (base too, which reads the environment) with
    exactly these variables set; sys.modules is restored afterwards."""
    for name in ("DATABASE_URL", "REDIS_URL", "EMAIL_URL", "SECRET_KEY", "ALLOWED_HOSTS", "CELERY_BROKER_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        if value is not None:
            monkeypatch.setenv(name, value)
    for module in ("clinic.settings.base", "clinic.settings.production"):
        monkeypatch.delitem(sys.modules, module, raising=False)
        monkeypatch.setattr(clinic.settings, module.rsplit(".", 1)[1], None, raising=False)
    return importlib.import_module("clinic.settings.production")


@pytest.mark.parametrize("variable", ["DATABASE_URL", "REDIS_URL", "EMAIL_URL"])
def test_production_refuses_to_start_without_each_service_variable(monkeypatch, variable):
    with pytest.raises(ImproperlyConfigured) as refused:
        load_production(monkeypatch, **{**GOOD, variable: None})

    assert str(refused.value).startswith(f"{variable} is not set: production needs")


def test_production_refuses_a_database_url_that_is_not_postgresql(monkeypatch, tmp_path):
    with pytest.raises(ImproperlyConfigured) as refused:
        load_production(monkeypatch, **{**GOOD, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"})

    assert str(refused.value) == "DATABASE_URL must point at PostgreSQL (postgres://...); it names sqlite3."


def test_production_refuses_an_email_url_that_delivers_nothing(monkeypatch):
    with pytest.raises(ImproperlyConfigured) as refused:
        load_production(monkeypatch, **{**GOOD, "EMAIL_URL": "consolemail://"})

    assert "EMAIL_URL must name an SMTP server" in str(refused.value)
    assert "console email, which delivers nothing" in str(refused.value)


def test_the_refusal_never_shows_the_database_password(monkeypatch):
    with pytest.raises(ImproperlyConfigured) as refused:
        load_production(monkeypatch, **{**GOOD, "DATABASE_URL": "mysql://clinic:hunter2-secret@db:3306/clinic"})

    assert "hunter2-secret" not in str(refused.value)
    assert "it names mysql" in str(refused.value)


def test_production_starts_with_postgresql_redis_and_smtp(monkeypatch):
    production = load_production(monkeypatch, **GOOD)

    assert production.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    assert production.CHANNEL_LAYERS["default"]["BACKEND"] == "channels_redis.pubsub.RedisPubSubChannelLayer"
    assert production.CACHES["default"]["BACKEND"] == "apps.core.cache.RedisCacheWithFallback"
    assert production.CELERY_BROKER_URL == GOOD["REDIS_URL"]
    assert production.EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend"
    assert production.STORAGES["staticfiles"]["BACKEND"] == "apps.core.storage.ManifestStaticFilesStorage"


# --- check --deploy, as an operator (and CI) runs it -----------------------------------------

def check_deploy(settings_module, **environ):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "EMAIL_URL", "CELERY_BROKER_URL", "DEBUG")}
    env.update(DJANGO_SETTINGS_MODULE=settings_module, **environ)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )


def test_check_deploy_fails_for_each_fallback_with_the_variable_named():
    # The development settings fall back on everything: what a production made from them
    # would run on.
    result = check_deploy("clinic.settings.dev", DEBUG="false")

    assert result.returncode == 1
    assert "(core.E001) DATABASE_URL does not point at PostgreSQL: the database is sqlite3." in result.stderr
    assert "(core.E002) REDIS_URL: REDIS_URL is not set; the channel layer is InMemoryChannelLayer" in result.stderr
    assert "the Celery broker is filesystem://" in result.stderr
    assert "(core.E003) EMAIL_URL: email is not delivered (the filebased backend" in result.stderr


def test_check_deploy_names_only_what_is_missing():
    result = check_deploy("clinic.settings.dev", DEBUG="false", DATABASE_URL=GOOD["DATABASE_URL"], REDIS_URL=GOOD["REDIS_URL"])

    assert result.returncode == 1
    assert "core.E001" not in result.stderr and "core.E002" not in result.stderr
    assert "(core.E003) EMAIL_URL" in result.stderr


@pytest.mark.parametrize("variable", ["DATABASE_URL", "REDIS_URL", "EMAIL_URL"])
def test_check_deploy_under_production_settings_fails_without_each_variable(variable):
    environ = {k: v for k, v in GOOD.items() if k != variable}

    result = check_deploy("clinic.settings.production", **environ)

    assert result.returncode == 1
    assert f"django.core.exceptions.ImproperlyConfigured: {variable} is not set" in result.stderr


def test_check_deploy_passes_with_the_variables_ci_gives_it():
    """The CI step (.ci/run): production settings, a generated key, PostgreSQL, Redis, SMTP."""
    result = check_deploy("clinic.settings.production", **GOOD)

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
