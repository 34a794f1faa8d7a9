"""Deploy checks (`manage.py check --deploy`): the clinic refuses to be deployed on the
development fallbacks. clinic/settings/production.py stops at start on the same rules; these
catch any other settings module deployed with --deploy checks (and CI runs them).

- core.E001 DATABASE_URL: the database is not PostgreSQL (SQLite is for one machine, and the
  clinic's locking, constraints and NUL handling are built for PostgreSQL).
- core.E002 REDIS_URL: the channel layer is in memory or the Celery broker is not a server,
  so live events never leave the process and jobs stay on one machine's disk.
- core.E003 EMAIL_URL: email goes to files, memory, the console or nowhere."""
from django.conf import settings
from django.core.checks import Error, Tags, register

POSTGRESQL_ENGINES = frozenset({"django.db.backends.postgresql", "django.contrib.gis.db.backends.postgis"})
SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
UNDELIVERED_EMAIL_BACKENDS = frozenset({
    "django.core.mail.backends.filebased.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
})
_LOCAL_BROKERS = ("filesystem:", "memory:", "sqla+", "django:")


@register(Tags.database, deploy=True)
def check_database(app_configs=None, **kwargs):
    engine = settings.DATABASES.get("default", {}).get("ENGINE", "")
    if engine in POSTGRESQL_ENGINES:
        return []
    return [Error(
        f"DATABASE_URL does not point at PostgreSQL: the database is {engine.rsplit('.', 1)[-1] or 'not configured'}.",
        hint="Set DATABASE_URL=postgres://user:password@host:5432/clinic.",
        id="core.E001",
    )]


@register(deploy=True)
def check_redis(app_configs=None, **kwargs):
    problems = []
    if not getattr(settings, "REDIS_URL", ""):
        problems.append("REDIS_URL is not set")
    layer = settings.CHANNEL_LAYERS.get("default", {}).get("BACKEND", "")
    if not layer.startswith("channels_redis."):
        problems.append(f"the channel layer is {layer.rsplit('.', 1)[-1] or 'missing'} (events never leave the process)")
    broker = str(getattr(settings, "CELERY_BROKER_URL", "") or "")
    if not broker or broker.startswith(_LOCAL_BROKERS):
        problems.append(f"the Celery broker is {broker.split(':', 1)[0] or 'not set'}:// (jobs stay on this machine)")
    if not problems:
        return []
    return [Error(
        "REDIS_URL: " + "; ".join(problems) + ".",
        hint="Set REDIS_URL=redis://host:6379/0 (channel layer, cache, Celery broker and results).",
        id="core.E002",
    )]


@register(deploy=True)
def check_email(app_configs=None, **kwargs):
    backend = settings.EMAIL_BACKEND
    if backend not in UNDELIVERED_EMAIL_BACKENDS:
        return []
    return [Error(
        f"EMAIL_URL: email is not delivered (the {backend.rsplit('.', 2)[-2]} backend keeps it on this machine).",
        hint="Set EMAIL_URL=smtp+tls://user:password@smtp.example.org:587.",
        id="core.E003",
    )]
