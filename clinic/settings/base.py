"""Settings shared by every environment.

Every value comes from the environment (django-environ) with a safe development default;
production.py removes the defaults for secrets. Each variable is documented in .env.example.
"""
from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("CLINIC_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False) if (BASE_DIR / ".env").exists() else None

SECRET_KEY = env.str("SECRET_KEY", default="dev-insecure-secret-key-change-me-0123456789abcdef")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
CLINIC_NAME = env.str("CLINIC_NAME", default="Riverside Clinic")
CLINIC_PHONE = env.str("CLINIC_PHONE", default="+12125550100")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # third party
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_celery_beat",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.headless",
    "allauth.usersessions",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    # ours
    "apps.core",
    "apps.accounts",
    "apps.audit",
    "apps.patients",
    "apps.messaging",
    "apps.scheduling",
    "apps.consents",
    "apps.telehealth",
    "apps.billing",
    "apps.records",
    "apps.fhir",
    "apps.portal_api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "apps.core.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Before SessionTimeoutMiddleware, which tells a signed-out user why with a message.
    "django.contrib.messages.middleware.MessageMiddleware",
    "apps.accounts.middleware.SessionTimeoutMiddleware",
    "apps.accounts.middleware.StaffMFARequiredMiddleware",
    "apps.audit.middleware.AuditContextMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "axes.middleware.AxesMiddleware",
    # Under /fhir/ only: a NUL in the path or a query parameter answers an OperationOutcome.
    "apps.fhir.middleware.FhirRefuseNulMiddleware",
    # A NUL character in a query parameter: 400 naming it, for pages and the API alike.
    "apps.core.middleware.RefuseNulInQueryMiddleware",
    "apps.accounts.middleware.AppSignInInputMiddleware",
    # Last, so its process_exception sees a page view's DomainError first (apps/core/pages.py).
    "apps.core.pages.DomainErrorMiddleware",
]

ROOT_URLCONF = "clinic.urls"
WSGI_APPLICATION = "clinic.wsgi.application"
ASGI_APPLICATION = "clinic.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.core.context_processors.clinic",
                "apps.messaging.context_processors.notifications",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------
# No DATABASE_URL: a SQLite file under var/, in WAL mode so web, worker and beat share it.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'clinic.sqlite3'}"),
}
_db = DATABASES["default"]
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    # Persistent connections under WSGI (a new connection per request costs ~6.5x, see
    # NOTES.md). The ASGI process (daphne, WebSockets only) uses a psycopg pool instead:
    # DB_POOL=1 is set for it by clinic/serve.py.
    if env.bool("DB_POOL", default=False):
        _db["CONN_MAX_AGE"] = 0
        _db["OPTIONS"] = {"pool": {"min_size": 1, "max_size": env.int("DB_POOL_MAX", default=10)}}
    else:
        _db["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
        _db["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, channels, cache ---------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    # The pub/sub layer lost none of a 300-message burst where the default layer dropped 61%
    # (NOTES.md). redis-py 8 closes idle sockets after 5 s unless socket_timeout is None.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "socket_timeout": None, "max_connections": 1000}],
                "prefix": env.str("CHANNELS_PREFIX", default="clinic"),
            },
        }
    }
    # Redis, answering from this process's memory while Redis is unreachable (apps/core/cache.py):
    # allauth's sign-in rate limiter lives in this cache and must not turn sign-in into a 500.
    CACHES = {
        "default": {
            "BACKEND": "apps.core.cache.RedisCacheWithFallback",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_PREFIX", default="clinic"),
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery -------------------------------------------------------------------------------
# No REDIS_URL: kombu's filesystem transport, which needs no server, so worker and beat still
# run and jobs really happen.
if REDIS_URL:
    CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
    CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL)
else:
    _broker_dir = VAR_DIR / "celery" / "broker"
    (_broker_dir / "processed").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
        "control_folder": str(VAR_DIR / "celery" / "control"),
    }
    CELERY_RESULT_BACKEND = f"file://{VAR_DIR / 'celery' / 'results'}"
    (VAR_DIR / "celery" / "results").mkdir(parents=True, exist_ok=True)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# A killed worker must not lose a task (NOTES.md): acknowledge after the task ran, and reject
# (requeue) when the child process dies. Tasks are idempotent, so a redelivery is harmless.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_RESULT_EXPIRES = 3600
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)

# --- Auth ---------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "account_login"

ACCOUNT_LOGIN_METHODS = {"email", "phone"}
# Sign-in by a one-time code, sent by email or by SMS to the user's verified mobile number
# (the SMS goes through messaging's outbox: apps/messaging/codes.py). A code lives 5 minutes,
# allows 3 tries, and may be re-sent twice; requests are limited per address (below).
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
ACCOUNT_LOGIN_BY_CODE_TIMEOUT = env.int("LOGIN_CODE_TIMEOUT_SECONDS", default=300)
ACCOUNT_LOGIN_BY_CODE_MAX_ATTEMPTS = 3
ACCOUNT_LOGIN_BY_CODE_SUPPORTS_RESEND = 2
ACCOUNT_PHONE_VERIFICATION_ENABLED = True
ACCOUNT_PHONE_VERIFICATION_TIMEOUT = 15 * 60
# Phone apps sign in through django-allauth headless (/_allauth/app/v1/): a session token in
# X-Session-Token, accepted by the API (apps/accounts/authentication.AppTokenAuthentication).
# It is a server-side session: it lasts SESSION_ABSOLUTE_HOURS at most, and signing out or
# "sign out everywhere" (allauth.usersessions) ends it at once.
HEADLESS_CLIENTS = ("app",)
# Offline sync (apps/portal_api/changes.py): a change joins the feed this many seconds after it
# is written, so a transaction still committing is never passed by an app's cursor.
PORTAL_SYNC_SETTLE_SECONDS = env.int("PORTAL_SYNC_SETTLE_SECONDS", default=2)
# Live presence (apps/messaging/presence.py): an open socket renews itself every third of this;
# a server that stops renewing (it died) has its sockets counted offline after it.
PRESENCE_TTL_SECONDS = env.int("PRESENCE_TTL_SECONDS", default=90)
HEADLESS_ONLY = False
HEADLESS_SERVE_SPECIFICATION = False
HEADLESS_FRONTEND_URLS = {}
USERSESSIONS_TRACK_ACTIVITY = False
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = False
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_SIGNUP_FORM_CLASS = "apps.patients.forms.PatientSignupForm"
ACCOUNT_ADAPTER = "apps.accounts.adapter.AccountAdapter"
ACCOUNT_FORMS = {"login": "apps.accounts.forms.LoginForm"}
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_RATE_LIMITS = {"login_failed": "20/m/ip,5/5m/key", "signup": "20/m/ip", "request_login_code": "20/m/ip,3/5m/key"}
MFA_ADAPTER = "apps.accounts.adapter.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = CLINIC_NAME

OTP_TOTP_ISSUER = CLINIC_NAME
OTP_TOTP_TOLERANCE = 1

# Login throttling: 5 failures for one account (from one address) lock it for 15 minutes.
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "login"
AXES_USERNAME_CALLABLE = "apps.accounts.throttling.axes_username"
AXES_LOCKOUT_TEMPLATE = "account/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_SENSITIVE_PARAMETERS = ["password", "password1", "password2"]
AXES_IPWARE_PROXY_COUNT = env.int("PROXY_COUNT", default=0)
AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if env.int("PROXY_COUNT", default=0) else ["REMOTE_ADDR"]

# Sessions: idle logoff (staff 15 min, patients 30 min) is enforced by
# SessionTimeoutMiddleware; SESSION_COOKIE_AGE is the absolute cap.
STAFF_IDLE_TIMEOUT = timedelta(minutes=env.int("STAFF_IDLE_MINUTES", default=15))
PATIENT_IDLE_TIMEOUT = timedelta(minutes=env.int("PATIENT_IDLE_MINUTES", default=30))
SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=env.int("SESSION_ABSOLUTE_HOURS", default=12))
SESSION_COOKIE_AGE = int(SESSION_ABSOLUTE_TIMEOUT.total_seconds())
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# --- Email --------------------------------------------------------------------------------
# No EMAIL_URL: messages are written as files to var/outbox/email/ (and echoed on the console
# by the dev settings), so a newcomer can read the verification link.
EMAIL_OUTBOX_DIR = VAR_DIR / "outbox" / "email"
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(EMAIL_OUTBOX_DIR)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="clinic@localhost")

# --- Twilio (used by messaging and telehealth; empty means the local outbox) ---------------
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_FROM_NUMBER = env.str("TWILIO_FROM_NUMBER", default="")

# --- i18n, time ---------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("CLINIC_TIME_ZONE", default="America/New_York")
USE_I18N = True
USE_TZ = True

# --- Static -------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(VAR_DIR / "media")}},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Private files (attachments, consent PDFs, recordings, documents): one storage with no URL
# (apps/core/storage.py). The filesystem under PRIVATE_FILES_ROOT by default; an S3-compatible
# bucket when PRIVATE_FILES_S3_BUCKET is set, which every web and worker machine then shares.
PRIVATE_FILES_ROOT = env.str("PRIVATE_FILES_ROOT", default=str(VAR_DIR / "private"))
PRIVATE_FILES_S3_BUCKET = env.str("PRIVATE_FILES_S3_BUCKET", default="")
if PRIVATE_FILES_S3_BUCKET:
    STORAGES["private"] = {"BACKEND": "apps.core.storage.PrivateS3Storage", "OPTIONS": {
        "bucket_name": PRIVATE_FILES_S3_BUCKET,
        "endpoint_url": env.str("PRIVATE_FILES_S3_ENDPOINT_URL", default="") or None,  # MinIO, R2, ...
        "region_name": env.str("PRIVATE_FILES_S3_REGION", default="") or None,
        "access_key": env.str("PRIVATE_FILES_S3_ACCESS_KEY_ID", default="") or None,
        "secret_key": env.str("PRIVATE_FILES_S3_SECRET_ACCESS_KEY", default="") or None,
        "location": env.str("PRIVATE_FILES_S3_PREFIX", default=""),
    }}
else:
    STORAGES["private"] = {"BACKEND": "apps.core.storage.PrivateFileSystemStorage", "OPTIONS": {"location": PRIVATE_FILES_ROOT}}

# --- Real time: where pages open their WebSocket ------------------------------------------
# HTTP is served by gunicorn and WebSockets by daphne (clinic/serve.py). Pages connect to
# WEBSOCKET_URL when set (a proxy routing /ws/ to daphne), else to the same host on WS_PORT.
WEBSOCKET_URL = env.str("WEBSOCKET_URL", default="")
WS_PORT = env.int("WS_PORT", default=env.int("PORT", default=8000) + (1 if REDIS_URL else 0))

# --- API ----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.accounts.authentication.ApiKeyAuthentication",
        "apps.accounts.authentication.MFASessionAuthentication",
        "apps.accounts.authentication.AppTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["apps.core.api.permissions.DenyAll"],
    "DEFAULT_PAGINATION_CLASS": "apps.core.api.pagination.Pagination",
    "PAGE_SIZE": 25,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # DRF's parsers, refusing what PostgreSQL cannot store or Python cannot parse safely: NUL
    # characters and unpaired surrogates in any string (400 naming the field), JSON nested
    # deeper than 64 levels (apps/core/api/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "apps.core.api.parsers.JSONParser",
        "apps.core.api.parsers.FormParser",
        "apps.core.api.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "apps.core.api.errors.exception_handler",
    # orjson writes the same JSON as DRF's renderer for a fraction of the CPU (apps/core/api/renderers.py).
    "DEFAULT_RENDERER_CLASSES": ["apps.core.api.renderers.JSONRenderer", "rest_framework.renderers.BrowsableAPIRenderer"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Clinic API",
    "DESCRIPTION": "Integrator API for the clinic platform. Authenticate with `Authorization: Api-Key <key>`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI's assets come from the app (drf-spectacular-sidecar), never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Every operation documents the error answers the shared layers give (apps/core/api/schema.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.core.api.schema.document_errors",
    ],
    # Stable enum names where several choice sets share a field name (status) or one choice
    # set appears under several field names (severity, mode).
    "ENUM_NAME_OVERRIDES": {
        "SlotStatusEnum": "apps.scheduling.models.VisitSlot.Status",
        "VisitRequestStatusEnum": "apps.scheduling.models.VisitRequest.Status",
        "VisitStatusEnum": "apps.scheduling.models.Visit.Status",
        "VisitRequestTypeEnum": "apps.scheduling.models.VisitRequest.Type",
        "SeverityEnum": "apps.scheduling.models.Severity",
        "ModeEnum": "apps.scheduling.models.Mode",
        "AllergySeverityEnum": "apps.records.models.chart.Allergy.Severity",
        "UsStateEnum": "apps.consents.models.US_STATES",
        "ConsentStatusEnum": "apps.consents.models.ConsentForm.Status",
    },
}

# --- Logging: no PHI in logs. We log ids and request ids, never names or bodies. -----------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "apps.core.logging.RequestIdFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        "daphne": {"level": "WARNING"},
        # PDF rendering (apps/core/pdf.py): WeasyPrint's per-step progress and fontTools' subsetting.
        "weasyprint.progress": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# --- Health -------------------------------------------------------------------------------
# /healthz/ is liveness (the database); /readyz/ reports the database, Redis, the broker and
# the worker's heartbeat, and answers 503 when a required one is down. A stale worker fails
# readiness only with HEALTH_REQUIRE_WORKER (it delays jobs, it does not stop pages).
HEALTH_REQUIRE_WORKER = env.bool("HEALTH_REQUIRE_WORKER", default=False)

# --- Clinic ------------------------------------------------------------------------------
TERMS_VERSION = "2026-01"
DEFAULT_PATIENT_TIMEZONE = TIME_ZONE
API_KEY_LAST_USED_RESOLUTION = timedelta(minutes=1)
LOGIN_URL_PATH = "/accounts/login/"
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# --- Messaging delivery (apps/messaging: outbox, SMS, email, webhooks) ---------------------
# Which SMS backend delivers: "" picks Twilio when TWILIO_ACCOUNT_SID is set, else the local
# outbox (SmsOutboxEntry rows shown on /staff/messages/outbox/); "local" or "twilio" force one.
MESSAGING_SMS_BACKEND = env.str("MESSAGING_SMS_BACKEND", default="")
# The public https base URL Twilio calls (e.g. https://clinic.example.org). Webhook signatures
# are computed over the full public URL, which differs from the request's host behind a proxy.
# Empty: the request's own scheme and host. Also used to build the StatusCallback URL.
MESSAGING_PUBLIC_BASE_URL = env.str("MESSAGING_PUBLIC_BASE_URL", default="")
# Attempts (including the first) before a transiently failing message becomes FAILED.
MESSAGING_MAX_ATTEMPTS = env.int("MESSAGING_MAX_ATTEMPTS", default=5)
# Exponential backoff after a transient failure: base * 2**(attempt-1), capped.
MESSAGING_RETRY_BASE_SECONDS = env.int("MESSAGING_RETRY_BASE_SECONDS", default=30)
MESSAGING_RETRY_MAX_SECONDS = env.int("MESSAGING_RETRY_MAX_SECONDS", default=3600)
# HTTP timeout of one provider call (Twilio). Must be well under the sending timeout below.
MESSAGING_PROVIDER_TIMEOUT_SECONDS = env.int("MESSAGING_PROVIDER_TIMEOUT_SECONDS", default=15)
# A row SENDING for longer than this is presumed to belong to a dead worker and is reaped.
# Must exceed the send task's hard time limit (MESSAGING_TASK_TIME_LIMIT), so the old sender
# is certainly gone (see apps/messaging/delivery.py).
MESSAGING_SENDING_TIMEOUT_SECONDS = env.int("MESSAGING_SENDING_TIMEOUT_SECONDS", default=600)
MESSAGING_TASK_TIME_LIMIT = env.int("MESSAGING_TASK_TIME_LIMIT", default=120)
# Rows one delivery run claims at a time.
MESSAGING_BATCH_SIZE = env.int("MESSAGING_BATCH_SIZE", default=25)
# Enqueue-time kick: a Celery task is queued after commit when the row is due within this
# many seconds (short ETAs only, see NOTES.md); later rows wait for the periodic job.
MESSAGING_KICK_MAX_DELAY_SECONDS = env.int("MESSAGING_KICK_MAX_DELAY_SECONDS", default=300)
MESSAGING_KICK_ENABLED = env.bool("MESSAGING_KICK_ENABLED", default=True)
# A write that queues more rows due soon than this kicks this many batch delivery runs (one per
# worker process to keep busy) instead of one task per row.
MESSAGING_KICK_FANOUT = env.int("MESSAGING_KICK_FANOUT", default=2)
# Every worker process beats its own Heartbeat row this often; one silent for the stale time
# is presumed dead and the reaper takes back its claims once they are also past the provider
# timeout since their last refresh (apps/core/tasks.py, apps/messaging/delivery.py).
WORKER_PROCESS_BEAT_SECONDS = env.int("WORKER_PROCESS_BEAT_SECONDS", default=5)
WORKER_PROCESS_STALE_SECONDS = env.int("WORKER_PROCESS_STALE_SECONDS", default=20)
# Celery queue for messaging tasks ("" = the default queue).
MESSAGING_CELERY_QUEUE = env.str("MESSAGING_CELERY_QUEUE", default="")
# Tests only: seconds the local SMS backend sleeps per message (to kill a worker mid-batch).
MESSAGING_SMS_TEST_DELAY = env.float("MESSAGING_SMS_TEST_DELAY", default=0.0)
# Appointment reminders: hours before the visit start (one deduplicated row per offset).
MESSAGING_REMINDER_OFFSETS_HOURS = env.list("MESSAGING_REMINDER_OFFSETS_HOURS", cast=float, default=[48.0, 2.0])
# Secure-message attachments: in the private storage (STORAGES["private"], under
# "attachments/"), served only through an access check. Largest file, and files per message.
MESSAGING_ATTACHMENT_MAX_BYTES = env.int("MESSAGING_ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
MESSAGING_ATTACHMENTS_PER_MESSAGE = env.int("MESSAGING_ATTACHMENTS_PER_MESSAGE", default=5)
# Push to the phone apps (apps/messaging/push/): FCM for Android and APNs for iOS when their
# credentials are set, else the local push outbox (PushOutboxEntry). "local" forces it.
MESSAGING_PUSH_BACKEND = env.str("MESSAGING_PUSH_BACKEND", default="")
# FCM HTTP v1: the service account's JSON key, as text (Firebase console, Service accounts).
FCM_SERVICE_ACCOUNT_JSON = env.str("FCM_SERVICE_ACCOUNT_JSON", default="")
# APNs token-based auth: the .p8 key's id and text (PEM), the team id and the app's bundle id.
APNS_KEY_ID = env.str("APNS_KEY_ID", default="")
APNS_TEAM_ID = env.str("APNS_TEAM_ID", default="")
APNS_PRIVATE_KEY = env.str("APNS_PRIVATE_KEY", default="", multiline=True)
APNS_TOPIC = env.str("APNS_TOPIC", default="")
APNS_USE_SANDBOX = env.bool("APNS_USE_SANDBOX", default=False)
# The local push provider also writes each push as a JSON file here ("" = rows only), so a
# developer's app client can read what the phone would have shown (examples/app_client.py).
MESSAGING_PUSH_OUTBOX_DIR = env.str("MESSAGING_PUSH_OUTBOX_DIR", default=str(VAR_DIR / "outbox" / "push"))
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"{CLINIC_NAME}: "

# --- Scheduling ---------------------------------------------------------------------------
# Days ahead that slots are generated for (the nightly job extends it).
SCHEDULING_HORIZON_DAYS = env.int("SCHEDULING_HORIZON_DAYS", default=60)
# How long offered slots are held for the patient, and how long before that deadline the
# patient is reminded (offers shorter than the lead get no reminder).
SCHEDULING_OFFER_HOLD_HOURS = env.int("SCHEDULING_OFFER_HOLD_HOURS", default=24)
SCHEDULING_OFFER_REMINDER_MINUTES = env.int("SCHEDULING_OFFER_REMINDER_MINUTES", default=120)
# Hold on a freed slot offered automatically to the best waiting request.
SCHEDULING_WAITLIST_HOLD_HOURS = env.int("SCHEDULING_WAITLIST_HOLD_HOURS", default=4)
# Hold while a patient confirms a self-booked slot.
SCHEDULING_DIRECT_HOLD_MINUTES = env.int("SCHEDULING_DIRECT_HOLD_MINUTES", default=5)
# Patients cannot cancel or move a visit online (portal, texted X) this close to its start;
# staff can, and it counts as a late cancel.
SCHEDULING_CANCELLATION_WINDOW_HOURS = env.int("SCHEDULING_CANCELLATION_WINDOW_HOURS", default=24)
# YELLOW (expedited) requests are offered slots within this many hours.
SCHEDULING_YELLOW_WITHIN_HOURS = env.int("SCHEDULING_YELLOW_WITHIN_HOURS", default=48)
# Post-visit follow-up message: hours after a visit completes (quiet hours respected); 0 = none.
SCHEDULING_FOLLOW_UP_HOURS = env.float("SCHEDULING_FOLLOW_UP_HOURS", default=24.0)
# Saved Idempotency-Key answers of the booking API are kept this long, then purged hourly.
SCHEDULING_IDEMPOTENCY_KEEP_HOURS = env.int("SCHEDULING_IDEMPOTENCY_KEEP_HOURS", default=24)

# --- Telehealth (apps/telehealth; README "Telehealth") -----------------------------------
# Video providers in order of preference: the first that creates the room serves it, the next
# is tried when one fails. builtin (peer-to-peer WebRTC, signalling over our own WebSocket; no
# vendor account), twilio, zoom. A vendor without credentials is skipped.
TELEHEALTH_VIDEO_PROVIDERS = env.list("TELEHEALTH_VIDEO_PROVIDERS", default=["builtin"])
# ICE servers for the built-in provider, as JSON (RTCPeerConnection's iceServers). None are
# needed on one machine or a LAN; production needs a TURN server (README: coturn).
TELEHEALTH_ICE_SERVERS = env.json("TELEHEALTH_ICE_SERVERS", default=[])
# The waiting room opens this many minutes before the visit.
TELEHEALTH_WAITING_ROOM_OPENS_MINUTES = env.int("TELEHEALTH_WAITING_ROOM_OPENS_MINUTES", default=15)
# A patient still waiting after this many minutes is timed out (the job).
TELEHEALTH_WAITING_TIMEOUT_MINUTES = env.int("TELEHEALTH_WAITING_TIMEOUT_MINUTES", default=45)
# The staff queue alerts when someone has waited longer than this.
TELEHEALTH_WAIT_ALERT_MINUTES = env.int("TELEHEALTH_WAIT_ALERT_MINUTES", default=10)
# A session whose patient never joined is a no-show this many minutes after its start.
TELEHEALTH_NO_SHOW_GRACE_MINUTES = env.int("TELEHEALTH_NO_SHOW_GRACE_MINUTES", default=15)
# A call still open this many minutes after its scheduled end is ended by the job.
TELEHEALTH_END_OPEN_AFTER_MINUTES = env.int("TELEHEALTH_END_OPEN_AFTER_MINUTES", default=120)
# Lifetime of a participant (join) token.
TELEHEALTH_TOKEN_TTL_SECONDS = env.int("TELEHEALTH_TOKEN_TTL_SECONDS", default=4 * 3600)
# States whose rules require a STATE_SPECIFIC consent for telehealth (two-letter codes).
TELEHEALTH_STATE_CONSENT_STATES = env.list("TELEHEALTH_STATE_CONSENT_STATES", default=[])
# Twilio Video: an API key (SID and secret) of the account TWILIO_ACCOUNT_SID; room status
# callbacks are verified with TWILIO_AUTH_TOKEN (X-Twilio-Signature).
TWILIO_API_KEY_SID = env.str("TWILIO_API_KEY_SID", default="")
TWILIO_API_KEY_SECRET = env.str("TWILIO_API_KEY_SECRET", default="")
# Zoom Video SDK: the SDK key and secret sign session JWTs; the webhook secret token verifies
# x-zm-signature and answers Zoom's URL validation.
ZOOM_SDK_KEY = env.str("ZOOM_SDK_KEY", default="")
ZOOM_SDK_SECRET = env.str("ZOOM_SDK_SECRET", default="")
ZOOM_WEBHOOK_SECRET_TOKEN = env.str("ZOOM_WEBHOOK_SECRET_TOKEN", default="")
# Zoom's browser SDK (not shipped with the app: Zoom's terms): where the call page loads it from
# (a copy you serve, or Zoom's CDN file of the SDK version you use) and its SRI hash (sha384-...).
TELEHEALTH_ZOOM_SDK_JS_URL = env.str("TELEHEALTH_ZOOM_SDK_JS_URL", default="")
TELEHEALTH_ZOOM_SDK_JS_INTEGRITY = env.str("TELEHEALTH_ZOOM_SDK_JS_INTEGRITY", default="")
# Webhooks older than this (by the provider's timestamp) are refused as replays.
TELEHEALTH_WEBHOOK_MAX_AGE_SECONDS = env.int("TELEHEALTH_WEBHOOK_MAX_AGE_SECONDS", default=300)
# Recordings of video visits are deleted (by the retention job) this many days after they start.
TELEHEALTH_RECORDING_RETENTION_DAYS = env.int("TELEHEALTH_RECORDING_RETENTION_DAYS", default=30)
# The largest recording the provider's browser may upload (built-in provider), in megabytes.
TELEHEALTH_RECORDING_MAX_MB = env.int("TELEHEALTH_RECORDING_MAX_MB", default=500)

# --- FHIR R4 read API (apps/fhir) ---
# The system URI of the clinic's MRNs in Patient.identifier: a URI the clinic controls.
FHIR_MRN_SYSTEM = env.str("FHIR_MRN_SYSTEM", default="https://clinic.example.org/fhir/sid/mrn")

# --- Billing (apps/billing) ---
# The payment gateway: "test" (built in, no network; documented test cards) or "stripe".
BILLING_PAYMENT_GATEWAY = env.str("BILLING_PAYMENT_GATEWAY", default="test")
BILLING_CURRENCY = env.str("BILLING_CURRENCY", default="usd")
# Days from issue to the due date; the daily job marks unpaid invoices OVERDUE after it.
BILLING_INVOICE_DUE_DAYS = env.int("BILLING_INVOICE_DUE_DAYS", default=30)
# On: a procedure plan's deposit (set by billing staff) must be paid before its surgical case
# starts ("Deposit paid" on the pre-op checklist). Off: deposits are billed but do not block.
BILLING_DEPOSIT_REQUIRED = env.bool("BILLING_DEPOSIT_REQUIRED", default=False)
# Stripe (only with BILLING_PAYMENT_GATEWAY=stripe): the secret key, the publishable key for
# Stripe.js in the portal, and the webhook endpoint's signing secret (Stripe-Signature).
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_PUBLISHABLE_KEY = env.str("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
# Eligibility (X12 270/271): the clearinghouse, "simulator" (built in, no network; answers by
# member id, see the README) or "http" (POSTs the 270 to the URL with the bearer token). The
# clinic as the information receiver (NM1*1P: name and NPI) and its submitter id (ISA06, GS02).
BILLING_CLEARINGHOUSE = env.str("BILLING_CLEARINGHOUSE", default="simulator")
BILLING_CLEARINGHOUSE_URL = env.str("BILLING_CLEARINGHOUSE_URL", default="")
BILLING_CLEARINGHOUSE_TOKEN = env.str("BILLING_CLEARINGHOUSE_TOKEN", default="")
BILLING_CLEARINGHOUSE_SUBMITTER_ID = env.str("BILLING_CLEARINGHOUSE_SUBMITTER_ID", default="CLINICDEMO")
BILLING_CLEARINGHOUSE_TEST_MODE = env.bool("BILLING_CLEARINGHOUSE_TEST_MODE", default=True)
BILLING_PROVIDER_NAME = env.str("BILLING_PROVIDER_NAME", default="Riverside Clinic")
BILLING_PROVIDER_NPI = env.str("BILLING_PROVIDER_NPI", default="1234567893")

# --- Health records (apps/records) ---
# The largest document a patient or staff member may upload (PDF, PNG, JPEG, HEIC; by content).
RECORDS_DOCUMENT_MAX_BYTES = env.int("RECORDS_DOCUMENT_MAX_BYTES", default=10 * 1024 * 1024)
