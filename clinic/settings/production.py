"""Production: no defaults for secrets, HTTPS everywhere, PostgreSQL, Redis and SMTP required.

Base's zero-setup fallbacks (SQLite, the in-memory channel layer, the filesystem broker, email
written to files) are for development only: here an unset DATABASE_URL, REDIS_URL or EMAIL_URL,
or a DATABASE_URL that is not PostgreSQL, stops the process at start with ImproperlyConfigured
naming the variable. The same rules run as system checks (`check --deploy`,
apps/core/checks.py) for any settings module deployed without this one."""
from django.core.exceptions import ImproperlyConfigured

from apps.core.checks import POSTGRESQL_ENGINES, SMTP_BACKEND  # the deploy checks' own rules

from .base import *  # noqa: F401,F403
from .base import DATABASES, EMAIL_BACKEND, STORAGES, env

DEBUG = False
SECRET_KEY = env.str("SECRET_KEY")  # no default: refuse to start without a real key
if len(SECRET_KEY) < 50 or SECRET_KEY.startswith(("dev-", "django-insecure")):
    raise ImproperlyConfigured("SECRET_KEY must be a real secret of at least 50 characters.")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")


def _require(name, what):
    if not env.str(name, default=""):
        raise ImproperlyConfigured(f"{name} is not set: production needs {what} (see .env.example).")


_require("DATABASE_URL", "PostgreSQL, e.g. DATABASE_URL=postgres://user:password@host:5432/clinic")
if DATABASES["default"]["ENGINE"] not in POSTGRESQL_ENGINES:
    # The URL holds a password: name its engine, never the URL.
    raise ImproperlyConfigured(
        f"DATABASE_URL must point at PostgreSQL (postgres://...); it names {DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}."
    )
_require("REDIS_URL", "Redis for the channel layer, the cache and Celery, e.g. REDIS_URL=redis://host:6379/0")
_require("EMAIL_URL", "an SMTP server, e.g. EMAIL_URL=smtp+tls://user:password@smtp.example.org:587")
if EMAIL_BACKEND != SMTP_BACKEND:
    raise ImproperlyConfigured(
        "EMAIL_URL must name an SMTP server (smtp://, smtp+tls://, smtps://); "
        f"it selects {EMAIL_BACKEND.rsplit('.', 2)[-2]} email, which delivers nothing."
    )

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# Load balancers probe over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz/$", r"^readyz/$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
STORAGES = {
    **STORAGES,
    # Whitenoise's compressed manifest storage (run `collectstatic`: the Procfile's release
    # step does), which falls back to the plain name for a file missing from the manifest
    # instead of failing the page (a 404 page must never become a 500).
    "staticfiles": {"BACKEND": "apps.core.storage.ManifestStaticFilesStorage"},
}
