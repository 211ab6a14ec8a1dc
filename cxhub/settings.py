"""Settings for cxhub, read from the environment (and an optional `.env` file).

Every value has a safe local default: SQLite in WAL mode and a broker that needs
no server (kombu's filesystem transport under `var/`). Production sets
DATABASE_URL, CELERY_BROKER_URL, SECRET_KEY, ALLOWED_HOSTS and DEBUG=false.
"""

import os
import ssl
import zoneinfo
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

from cxhub.daily_window import parse_window

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


def env_secret(name: str) -> str:
    """Return a secret exactly as set (empty when unset).

    django-environ reads a value that starts with "$" as the name of another variable
    to look up, so a random key that happens to start with "$" (one in 50 of Django's
    get_random_secret_key) silently became empty, and another process given the same
    key signed with a different one. A secret is read as written.
    """
    return os.environ.get(name, "")


VAR_DIR = Path(env.str("CXHUB_VAR_DIR", default=str(BASE_DIR / "var"))).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
# Production is DEBUG off and served to anyone but this machine (ALLOWED_HOSTS names
# another host), or CXHUB_REQUIRE_SECRET_KEY on. It needs no other variable to be safe:
# it requires a SECRET_KEY and a shared cache, and defaults to Secure cookies, HSTS and
# closed metrics; a setting that would undo one of those stops startup (docs/security.md).
_LOCAL_ONLY = {"localhost", "127.0.0.1", "[::1]", "::1"}
CXHUB_PRODUCTION = not DEBUG and (
    env.bool("CXHUB_REQUIRE_SECRET_KEY", default=False) or not set(ALLOWED_HOSTS) <= _LOCAL_ONLY
)
SECRET_KEY = env_secret("SECRET_KEY")
if not SECRET_KEY:
    if CXHUB_PRODUCTION:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set in production (DEBUG off, served beyond this machine)."
        )
    # A per-checkout key, kept under var/, so a local run never ships a shared secret.
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        from django.core.management.utils import get_random_secret_key

        key_file.write_text(get_random_secret_key())
        key_file.chmod(0o600)
    SECRET_KEY = key_file.read_text().strip()

CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The port `./run` (the Procfile's web line) serves on.
CXHUB_PORT = env.int("CXHUB_PORT", default=8000)
if not 0 < CXHUB_PORT < 65536:
    raise ImproperlyConfigured("CXHUB_PORT must be a TCP port number (1-65535).")
# The base URL people reach cxhub at; used for every link in pages, messages and what
# `./run` prints. Unset, it follows CXHUB_PORT, so a local run on another port links right.
CXHUB_BASE_URL = env.str("CXHUB_BASE_URL", default=f"http://127.0.0.1:{CXHUB_PORT}").rstrip("/")
if not CXHUB_BASE_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured("CXHUB_BASE_URL must start with http:// or https://.")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_prometheus",
    "axes",
    "csp",
    "cxhub",
    "actions",
    "incidents",
    "notifications",
    "oncall",
    "importers",
    "statuspage",
    "apikeys",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # Last: its post_migrate handler creates the role groups from every app's permissions.
    "support",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # An address over the failed-authentication limit gets 429 before a password check.
    "cxhub.middleware.AdminLoginLimitMiddleware",
    # A lost database answers 503 + Retry-After, not 500.
    "cxhub.middleware.DatabaseUnavailableMiddleware",
    # A chunked body (no Content-Length) is read and counted, not taken as empty.
    "cxhub.middleware.ChunkedBodyMiddleware",
    # Static files (admin CSS, later the support pages) come from the app itself: no CDN.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After WhiteNoise (static files keep their long cache): everything else no-store.
    "cxhub.middleware.NoStoreMiddleware",
    # Valid trigger posts (the storm) are answered here, before what people's requests need.
    "incidents.api.fastpath.FastIngestMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "cxhub.middleware.IdleSessionMiddleware",
    # After authentication: a person's saved language and time zone beat the browser's.
    "support.middleware.PreferenceMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last: it turns a locked-out admin login into the lockout page.
    "axes.middleware.AxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

# django-axes first: it refuses a locked-out login before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "cxhub.urls"
WSGI_APPLICATION = "cxhub.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "cxhub" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'cxhub.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the worker writes; IMMEDIATE transactions
    # take the write lock up front so concurrent writers wait instead of failing.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["TEST"] = {
        # A file, not memory, so a real worker process can share the test database.
        "NAME": str(VAR_DIR / "test.sqlite3"),
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# A host cut off in the middle of a transaction (a network partition, a power cut)
# keeps its locks, e.g. on the storm's incident row, until PostgreSQL notices that the
# client is gone: after two hours of TCP keepalive by default, while every other
# host's counting waits on that row (tests/drill_hosts.py). These session settings
# have the server probe a silent client and drop it, rolling its claims back, after
# about this many seconds; libpq does the same on the client's side. 0 leaves the
# server's own settings (e.g. behind PgBouncer, which refuses the `options` parameter).
CXHUB_DB_DEAD_PEER_SECONDS = env.int("CXHUB_DB_DEAD_PEER_SECONDS", default=10)
if CXHUB_DB_DEAD_PEER_SECONDS < 0 or 0 < CXHUB_DB_DEAD_PEER_SECONDS < 4:
    raise ImproperlyConfigured("CXHUB_DB_DEAD_PEER_SECONDS must be 0 (off) or at least 4.")
if DATABASES["default"]["ENGINE"].endswith("postgresql") and CXHUB_DB_DEAD_PEER_SECONDS:
    _probe = max(1, CXHUB_DB_DEAD_PEER_SECONDS // 5)  # three probes, then the peer is dead
    _idle = CXHUB_DB_DEAD_PEER_SECONDS - 3 * _probe
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options.update(
        keepalives=1,
        keepalives_idle=_idle,
        keepalives_interval=_probe,
        keepalives_count=3,
        tcp_user_timeout=CXHUB_DB_DEAD_PEER_SECONDS * 1000,
        connect_timeout=CXHUB_DB_DEAD_PEER_SECONDS,
    )
    _options["options"] = " ".join(
        [
            _options.get("options", ""),
            f"-c tcp_keepalives_idle={_idle} -c tcp_keepalives_interval={_probe}",
            f"-c tcp_keepalives_count=3 -c tcp_user_timeout={CXHUB_DB_DEAD_PEER_SECONDS * 1000}",
        ]
    ).strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Failed-authentication counts (cxhub.ratelimit.FailedAuthLimit) live in this cache.
# Local memory (one process) is only the local default: production points it at
# Redis (rediscache://127.0.0.1:6379/1) so every web process shares one count, and
# `check --deploy` says so when it does not (cxhub.deploy_checks).
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
if CXHUB_PRODUCTION and CACHES["default"]["BACKEND"].endswith(("LocMemCache", "DummyCache")):
    raise ImproperlyConfigured(
        "Production needs a shared cache for the failed-authentication limit: set CACHE_URL "
        "to Redis (rediscache://host:6379/1); local memory counts per process."
    )
if CACHES["default"]["BACKEND"].endswith(".RedisCache"):
    # An unreachable Redis (down, or this host cut off) must cost a request a moment,
    # not a TCP timeout: the limiter then lets it through uncounted (cxhub.ratelimit).
    CACHES["default"].setdefault("OPTIONS", {}).setdefault("socket_connect_timeout", 0.5)
    CACHES["default"]["OPTIONS"].setdefault("socket_timeout", 0.5)
# Signed-in sessions end after this long without a page view (cxhub.middleware), and
# in any case after CXHUB_SESSION_HOURS.
CXHUB_SESSION_IDLE_MINUTES = env.int("CXHUB_SESSION_IDLE_MINUTES", default=30)
SESSION_COOKIE_AGE = int(env.float("CXHUB_SESSION_HOURS", default=12) * 3600)
if CXHUB_SESSION_IDLE_MINUTES < 1 or SESSION_COOKIE_AGE < 60:
    raise ImproperlyConfigured("CXHUB_SESSION_IDLE_MINUTES and CXHUB_SESSION_HOURS must be set.")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="en")
LANGUAGES = [("en", "English"), ("pt-br", "Português (Brasil)")]
TIME_ZONE = env.str("TIME_ZONE", default="America/Sao_Paulo")
USE_I18N = True
# Compiled pt_BR messages are committed; `makemessages -l pt_BR` then `compilemessages`.
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_TZ = True
# Datetime formats with the UTC offset (cxhub/formats/<lang>/formats.py).
FORMAT_MODULE_PATH = ["cxhub.formats"]

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
LOGIN_URL = "admin:login"
# Messages live in the session (the database), not a cookie: an API key or token shown
# once in a message must not travel back and forth in the browser, signed but readable.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# Admin login lockout (django-axes): this many failed passwords for one username
# from one address lock that pair out for the cool-off; rows in the database, so
# every web process sees them. Admin → Access attempts unlocks early.
AXES_FAILURE_LIMIT = env.int("CXHUB_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.float("CXHUB_LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "cxhub.ratelimit.client_ip"
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
AXES_VERBOSE = False

# Content-Security-Policy (django-csp) for every page: scripts only from cxhub's own
# static files (the admin, the support pages, Swagger UI and ReDoc from the sidecar;
# Swagger's init script is served as a file, not inline). Styles may be inline:
# ReDoc and Swagger UI set them at run time. No page may be framed.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        # ReDoc's Redocly logo comes from a CDN: img-src keeps the browser from fetching it.
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "worker-src": [SELF, "blob:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# One request body at most 1 MiB; the ingest API answers 413 past it.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
# Monitoring senders' webhooks (Alertmanager, Grafana, PagerDuty, Opsgenie, generic):
# a 5,000-alert Alertmanager group with labels and annotations is several MiB, and a
# refused notification is lost (senders drop on 4xx). Parsed from the stream, so
# DATA_UPLOAD_MAX_MEMORY_SIZE (Django's request.body) does not apply there.
CXHUB_MONITORING_MAX_BODY = env.int("CXHUB_MONITORING_MAX_BODY", default=10 * 1024 * 1024)
if CXHUB_MONITORING_MAX_BODY < DATA_UPLOAD_MAX_MEMORY_SIZE:
    raise ImproperlyConfigured("CXHUB_MONITORING_MAX_BODY must be at least 1048576 (1 MiB).")

REST_FRAMEWORK = {
    # API keys first: their WWW-Authenticate header turns a missing or bad key into a 401.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apikeys.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"],
    "DEFAULT_PAGINATION_CLASS": "cxhub.api.StrictLimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "cxhub.api.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

# OpenAPI schema at /api/schema/; Swagger UI and ReDoc come from the sidecar's static files.
SPECTACULAR_SETTINGS = {
    "TITLE": "cxhub API",
    "DESCRIPTION": "Monitoring triggers in; incidents, customer pushes and team pages out.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "cxhub.schema.require_request_bodies",
        "cxhub.schema.add_links",
    ],
    "APPEND_COMPONENTS": {
        "securitySchemes": {
            "genieKey": {
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": "An opsgenie integration's token, sent as "
                "`Authorization: GenieKey <token>`; Bearer is refused.",
            }
        }
    },
    "ENUM_NAME_OVERRIDES": {
        "IncidentStatusEnum": "incidents.models.Incident.Status",
        "DeliveryStatusEnum": "notifications.models.Delivery.Status",
    },
}

# Celery. The broker only rings the doorbell: every piece of due work is a row in
# the database, and the beat sweep finds what a lost message left behind.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # kombu's transport with atomic message files (see cxhub/broker.py).
    CELERY_BROKER_TRANSPORT = "cxhub.broker:Transport"
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        "polling_interval": 0.2,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Tasks are short; a message unacknowledged this long belonged to a dead worker.
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=300),
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
    }
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # kombu's Redis transport, whose failed acknowledgement still frees its prefetch slot
    # (see cxhub/broker_redis.py): a pages worker consumed nothing more after one.
    CELERY_BROKER_TRANSPORT = "cxhub.broker_redis:Transport"
    if CELERY_BROKER_URL.startswith("rediss://") and "ssl_cert_reqs" not in CELERY_BROKER_URL:
        # What kombu gives a rediss:// URL without TLS options (by the transport's name,
        # which is now ours): encrypted, the certificate not checked.
        CELERY_BROKER_USE_SSL = {"ssl_cert_reqs": ssl.CERT_NONE}
# A request must not hang on a broker outage: the rows are committed, the sweep catches up.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Tasks are short (a batch count, one send); a few prefetched messages keep a worker
# busy between them. With acks_late a crashed worker's messages are redelivered.
CELERY_WORKER_PREFETCH_MULTIPLIER = env.int("CELERY_WORKER_PREFETCH_MULTIPLIER", default=4)
# Queues by urgency: tier pages and notices ("pages") never wait behind report
# counting ("reports") or bulk sends (push batches, triage pages: "bulk"). A worker
# consumes every queue listed here unless started with -Q; the Procfile runs one
# worker on "pages" alone and keeps the other off it, because a busy worker holds
# the messages it prefetched until one of its processes is free.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = {"celery": {}, "reports": {}, "pages": {}, "bulk": {}}
CELERY_TASK_ROUTES = {
    "incidents.tasks.reports_drain": {"queue": "reports"},
    "notifications.tasks.send_delivery": {"queue": "bulk"},
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CXHUB_SWEEP_SECONDS = env.float("CXHUB_SWEEP_SECONDS", default=5.0)
if CXHUB_SWEEP_SECONDS <= 0:
    raise ImproperlyConfigured("CXHUB_SWEEP_SECONDS must be a positive number of seconds.")
# How often silent heartbeat checks are looked for (their own beat task).
CXHUB_HEARTBEAT_SECONDS = env.float("CXHUB_HEARTBEAT_SECONDS", default=15.0)
if CXHUB_HEARTBEAT_SECONDS <= 0:
    raise ImproperlyConfigured("CXHUB_HEARTBEAT_SECONDS must be a positive number of seconds.")
# On call: shifts are materialized this far ahead (who is on call is then one indexed
# query), refreshed on every change and by a beat task this often, which also reads
# the schedules' iCal feeds (at most CXHUB_ONCALL_FEED_MAX_BYTES each).
CXHUB_ONCALL_HORIZON = timedelta(days=env.int("CXHUB_ONCALL_HORIZON_DAYS", default=56))
CXHUB_ONCALL_REFRESH_MINUTES = env.float("CXHUB_ONCALL_REFRESH_MINUTES", default=15.0)
CXHUB_ONCALL_FEED_MAX_BYTES = env.int("CXHUB_ONCALL_FEED_MAX_BYTES", default=5 * 1024 * 1024)
# Shifts that ended are the record of who was on call; older than this they are pruned.
CXHUB_ONCALL_HISTORY = timedelta(days=env.int("CXHUB_ONCALL_HISTORY_DAYS", default=400))
if CXHUB_ONCALL_HORIZON < timedelta(days=1) or CXHUB_ONCALL_REFRESH_MINUTES <= 0:
    raise ImproperlyConfigured(
        "CXHUB_ONCALL_HORIZON_DAYS must be at least 1 and CXHUB_ONCALL_REFRESH_MINUTES positive."
    )
CELERY_BEAT_SCHEDULE = {
    "sweep": {
        "task": "incidents.tasks.sweep",
        "schedule": timedelta(seconds=CXHUB_SWEEP_SECONDS),
        "options": {"expires": CXHUB_SWEEP_SECONDS},
    },
    "heartbeats": {
        "task": "incidents.tasks.heartbeats_check",
        "schedule": timedelta(seconds=CXHUB_HEARTBEAT_SECONDS),
        "options": {"expires": CXHUB_HEARTBEAT_SECONDS},
    },
    # Recurring maintenance: occurrences are written this far ahead (hourly, and on save).
    "maintenance": {
        "task": "incidents.tasks.recurrences_materialize",
        "schedule": timedelta(hours=1),
        "options": {"expires": 3600},
    },
    "prune": {
        "task": "incidents.tasks.prune",
        "schedule": timedelta(hours=1),
        "options": {"expires": 3600},
    },
    # Keeps every schedule's shifts materialized to the horizon and reads iCal feeds.
    "oncall-shifts": {
        "task": "oncall.tasks.schedules_refresh",
        "schedule": timedelta(minutes=CXHUB_ONCALL_REFRESH_MINUTES),
        "options": {"expires": CXHUB_ONCALL_REFRESH_MINUTES * 60},
    },
}
# The Open Finance Brasil discovery feed names endpoints (and links its pages) under the
# bank's registered API host, which proxies /open-banking/discovery/ to cxhub.
CXHUB_OPEN_FINANCE_BASE_URL = env.str("CXHUB_OPEN_FINANCE_BASE_URL", default=CXHUB_BASE_URL).rstrip(
    "/"
)
# Recurring maintenance windows are written (shown, announced, held) this many days ahead.
CXHUB_MAINTENANCE_HORIZON_DAYS = env.int("CXHUB_MAINTENANCE_HORIZON_DAYS", default=35)
if CXHUB_MAINTENANCE_HORIZON_DAYS < 1:
    raise ImproperlyConfigured("CXHUB_MAINTENANCE_HORIZON_DAYS must be at least 1.")
# Processed reports/triggers and delivery message bodies older than this are pruned.
CXHUB_RETENTION_DAYS = env.int("CXHUB_RETENTION_DAYS", default=30)
if CXHUB_RETENTION_DAYS < 1:
    raise ImproperlyConfigured("CXHUB_RETENTION_DAYS must be at least 1.")

# Work that a lost broker message left behind is picked up by the sweep after this grace.
CXHUB_STALE_AFTER = timedelta(seconds=env.float("CXHUB_STALE_SECONDS", default=10.0))
# A delivery claimed longer ago than this belonged to a worker that died mid-send.
# It must exceed the slowest send (CXHUB_HTTP_TIMEOUT, Apprise's own timeouts); a
# shorter lease would re-send a page that is merely slow.
CXHUB_DELIVERY_LEASE = timedelta(seconds=env.float("CXHUB_DELIVERY_LEASE_SECONDS", default=60.0))
CXHUB_DELIVERY_MAX_ATTEMPTS = env.int("CXHUB_DELIVERY_MAX_ATTEMPTS", default=5)
CXHUB_TRIAGE_TEAM = env.str("CXHUB_TRIAGE_TEAM", default="triage")
CXHUB_TRIAGE_INTERVAL = timedelta(minutes=env.float("CXHUB_TRIAGE_INTERVAL_MINUTES", default=60))
# At most one triage page per this many seconds, listing every new uncovered pair: a storm of
# 1,000 new service/code pairs is one page, not 1,000.
CXHUB_TRIAGE_DIGEST_SECONDS = env.float("CXHUB_TRIAGE_DIGEST_SECONDS", default=60.0)
# Incident lifecycle: how long the acknowledge link in a page works, and how far back
# triage re-processes unmatched triggers once an action covers them.
CXHUB_ACK_LINK_MAX_AGE = timedelta(hours=env.float("CXHUB_ACK_LINK_HOURS", default=24))
CXHUB_TRIAGE_REPROCESS_WINDOW = timedelta(
    minutes=env.float("CXHUB_TRIAGE_REPROCESS_MINUTES", default=60)
)
# At most this many waiting reports are counted in one worker transaction.
CXHUB_REPORT_BATCH = env.int("CXHUB_REPORT_BATCH", default=200)
if CXHUB_REPORT_BATCH < 1:
    raise ImproperlyConfigured("CXHUB_REPORT_BATCH must be at least 1.")
# A web process rings the worker at most once per this many seconds; the drain that
# ring starts keeps looking for reports until the window is over.
CXHUB_DOORBELL_SECONDS = env.float("CXHUB_DOORBELL_SECONDS", default=0.5)
# A drain that has worked this long rings again and ends, so other tasks get a turn.
CXHUB_DRAIN_SECONDS = env.float("CXHUB_DRAIN_SECONDS", default=2.0)
# Between batches that were not full a drain waits this long, so a storm is counted in
# batches of many (a batch costs the same whatever its size): a little latency for CPU.
CXHUB_DRAIN_GATHER_SECONDS = env.float("CXHUB_DRAIN_GATHER_SECONDS", default=0.1)
if CXHUB_DOORBELL_SECONDS < 0 or CXHUB_DRAIN_SECONDS <= 0 or CXHUB_DRAIN_GATHER_SECONDS < 0:
    raise ImproperlyConfigured(
        "CXHUB_DOORBELL_SECONDS and CXHUB_DRAIN_GATHER_SECONDS must be >= 0 and "
        "CXHUB_DRAIN_SECONDS > 0 seconds."
    )
CXHUB_MAX_TRIGGERS_PER_REQUEST = env.int("CXHUB_MAX_TRIGGERS_PER_REQUEST", default=1000)
# How often an open incident's support page asks whether it changed, in seconds.
CXHUB_SUPPORT_REFRESH_SECONDS = env.int("CXHUB_SUPPORT_REFRESH_SECONDS", default=5)
# /metrics: a bearer token or basic-auth "user:password" when set (either works);
# with neither, open unless CXHUB_METRICS_OPEN is false (its production default).
CXHUB_METRICS_TOKEN = env_secret("CXHUB_METRICS_TOKEN")
CXHUB_METRICS_BASIC_AUTH = env.str("CXHUB_METRICS_BASIC_AUTH", default="")
if CXHUB_METRICS_BASIC_AUTH and ":" not in CXHUB_METRICS_BASIC_AUTH:
    raise ImproperlyConfigured("CXHUB_METRICS_BASIC_AUTH must be 'user:password'.")
CXHUB_METRICS_OPEN = env.bool("CXHUB_METRICS_OPEN", default=not CXHUB_PRODUCTION)
_METRICS_CREDENTIAL = bool(CXHUB_METRICS_TOKEN or CXHUB_METRICS_BASIC_AUTH)
if CXHUB_PRODUCTION and CXHUB_METRICS_OPEN and not _METRICS_CREDENTIAL:
    raise ImproperlyConfigured(
        "Production does not serve /metrics to anyone: set CXHUB_METRICS_TOKEN or "
        "CXHUB_METRICS_BASIC_AUTH instead of CXHUB_METRICS_OPEN=true."
    )
# Failed token checks allowed per client address and minute before 429 (0: no limit).
CXHUB_AUTH_FAILURES_PER_MINUTE = env.int("CXHUB_AUTH_FAILURES_PER_MINUTE", default=30)
# Integration tokens and rule matches are cached this long per web process: a
# disabled token or a new rule takes effect on other processes within it.
CXHUB_HOT_CACHE_SECONDS = env.float("CXHUB_HOT_CACHE_SECONDS", default=5.0)

# Push provider for customer pushes: console (logs), locmem (tests) or webhook
# (the bank's push gateway: JSON POSTs of recipient batches, HMAC-signed).
CXHUB_PUSH_PROVIDER = env.str("CXHUB_PUSH_PROVIDER", default="console")
CXHUB_PUSH_WEBHOOK_URL = env.str("CXHUB_PUSH_WEBHOOK_URL", default="")
CXHUB_PUSH_WEBHOOK_SECRET = env_secret("CXHUB_PUSH_WEBHOOK_SECRET")
CXHUB_PUSH_BATCH_SIZE = env.int("CXHUB_PUSH_BATCH_SIZE", default=500)
CXHUB_HTTP_TIMEOUT = env.float("CXHUB_HTTP_TIMEOUT", default=10.0)
if CXHUB_DELIVERY_LEASE.total_seconds() <= 2 * CXHUB_HTTP_TIMEOUT:
    # A send can take a connect and a read timeout; a shorter lease would hand a
    # slow send to a second worker and page twice.
    raise ImproperlyConfigured(
        "CXHUB_DELIVERY_LEASE_SECONDS must exceed twice CXHUB_HTTP_TIMEOUT "
        f"({2 * CXHUB_HTTP_TIMEOUT:g} s)."
    )
# Outbound destinations (channels, push gateway) may not resolve to loopback,
# private, link-local or reserved addresses unless listed here: host names,
# addresses or networks, e.g. "smtp.internal,10.20.0.0/16" (cxhub/outbound.py).
CXHUB_OUTBOUND_ALLOW = env.list("CXHUB_OUTBOUND_ALLOW", default=[])
# More providers (docs/customers.md): apprise (a URL with {token}) and fcm (HTTP v1).
CXHUB_PUSH_APPRISE_URL = env.str("CXHUB_PUSH_APPRISE_URL", default="")
CXHUB_FCM_CREDENTIALS_FILE = env.str("CXHUB_FCM_CREDENTIALS_FILE", default="")
CXHUB_FCM_BASE_URL = env.str("CXHUB_FCM_BASE_URL", default="https://fcm.googleapis.com")
CXHUB_FCM_TOKEN_URI = env.str("CXHUB_FCM_TOKEN_URI", default="")  # empty: the account's
CXHUB_PUSH_CONCURRENCY = env.int("CXHUB_PUSH_CONCURRENCY", default=16)
# Stops every customer push at send time (the admin's kill switch does the same).
CXHUB_PUSH_KILL_SWITCH = env.bool("CXHUB_PUSH_KILL_SWITCH", default=False)
# At most one outage push per customer in this window, across incidents.
CXHUB_PUSH_CAP_WINDOW = timedelta(hours=env.float("CXHUB_PUSH_CAP_HOURS", default=6.0))
CXHUB_MAX_CUSTOMERS_PER_REQUEST = env.int("CXHUB_MAX_CUSTOMERS_PER_REQUEST", default=500)
# Four-eyes: an outage push to more customers than this waits for a second person's
# approval in the admin (0: never asks). An action may only lower it.
CXHUB_PUSH_APPROVAL_THRESHOLD = env.int("CXHUB_PUSH_APPROVAL_THRESHOLD", default=100000)
if CXHUB_PUSH_APPROVAL_THRESHOLD < 0:
    raise ImproperlyConfigured("CXHUB_PUSH_APPROVAL_THRESHOLD must be 0 or more.")
# Whether an action may send a held push nobody decided when its approval times out.
# Off: a timeout cancels, and no action can make it send (actions/approval_rules.py).
CXHUB_PUSH_APPROVAL_TIMEOUT_SENDS = env.bool("CXHUB_PUSH_APPROVAL_TIMEOUT_SENDS", default=False)
# Send-rate limits per push provider, messages per minute ("fcm=6000,webhook=1200"; a
# provider not named is not limited). Enforced across workers by a shared schedule:
# in Redis when CXHUB_THROTTLE_REDIS_URL is set (the broker's URL when it is Redis), in
# the database otherwise. A batch may start this many seconds ahead of its slot.
try:
    CXHUB_PUSH_RATE_LIMITS = {
        name.strip(): int(limit)
        for name, limit in env.dict("CXHUB_PUSH_RATE_LIMITS", default={}).items()
    }
except ValueError:
    raise ImproperlyConfigured(
        "CXHUB_PUSH_RATE_LIMITS: give provider=messages per minute, e.g. fcm=60000,webhook=6000."
    ) from None
if any(limit < 1 for limit in CXHUB_PUSH_RATE_LIMITS.values()):
    raise ImproperlyConfigured("CXHUB_PUSH_RATE_LIMITS values must be at least 1 per minute.")
CXHUB_PUSH_RATE_BURST_SECONDS = env.float("CXHUB_PUSH_RATE_BURST_SECONDS", default=1.0)
CXHUB_THROTTLE_REDIS_URL = env.str(
    "CXHUB_THROTTLE_REDIS_URL",
    default=CELERY_BROKER_URL if CELERY_BROKER_URL.startswith(("redis://", "rediss://")) else "",
)
# A customer stored without a time zone gets the one of its locale (exact, then the
# language), else TIME_ZONE: "pt-BR=America/Sao_Paulo,en-US=America/New_York".
CXHUB_TIME_ZONE_BY_LOCALE = env.dict(
    "CXHUB_TIME_ZONE_BY_LOCALE",
    default={
        "pt-BR": "America/Sao_Paulo",
        "pt-PT": "Europe/Lisbon",
        "en": "America/Sao_Paulo",
        "en-US": "America/New_York",
        "en-GB": "Europe/London",
        "es": "America/Argentina/Buenos_Aires",
    },
)
for _zone in [*CXHUB_TIME_ZONE_BY_LOCALE.values(), TIME_ZONE]:
    try:
        zoneinfo.ZoneInfo(_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ImproperlyConfigured(
            f"CXHUB_TIME_ZONE_BY_LOCALE / TIME_ZONE: unknown time zone {_zone!r}."
        ) from None

# Outage pushes in a customer's quiet hours (their own time zone) wait for the end of
# them, unless the action is critical. "" turns quiet hours off.
CXHUB_QUIET_HOURS = env.str("CXHUB_QUIET_HOURS", default="22:00-08:00")
try:
    CXHUB_QUIET_WINDOW = parse_window(CXHUB_QUIET_HOURS)
except ValueError as exc:
    raise ImproperlyConfigured(f"CXHUB_QUIET_HOURS: {exc}") from None
# Fallback channels (docs/customers.md): SMS and e-mail to customers no push reached.
# Provider per channel: console (log), locmem (tests), apprise (a URL with {to}) or
# webhook (the bank's gateway, HMAC-signed JSON batches).
CXHUB_SMS_PROVIDER = env.str("CXHUB_SMS_PROVIDER", default="console")
CXHUB_SMS_APPRISE_URL = env.str("CXHUB_SMS_APPRISE_URL", default="")
CXHUB_SMS_WEBHOOK_URL = env.str("CXHUB_SMS_WEBHOOK_URL", default="")
CXHUB_SMS_WEBHOOK_SECRET = env_secret("CXHUB_SMS_WEBHOOK_SECRET")
CXHUB_EMAIL_PROVIDER = env.str("CXHUB_EMAIL_PROVIDER", default="console")
CXHUB_EMAIL_APPRISE_URL = env.str("CXHUB_EMAIL_APPRISE_URL", default="")
CXHUB_EMAIL_WEBHOOK_URL = env.str("CXHUB_EMAIL_WEBHOOK_URL", default="")
CXHUB_EMAIL_WEBHOOK_SECRET = env_secret("CXHUB_EMAIL_WEBHOOK_SECRET")
if CXHUB_SMS_PROVIDER not in ("console", "locmem", "apprise", "webhook"):
    raise ImproperlyConfigured("CXHUB_SMS_PROVIDER must be console, locmem, apprise or webhook.")
if CXHUB_EMAIL_PROVIDER not in ("console", "locmem", "apprise", "webhook", "smtp"):
    raise ImproperlyConfigured(
        "CXHUB_EMAIL_PROVIDER must be console, locmem, apprise, webhook or smtp."
    )
# Every e-mail cxhub sends (status page notices and confirmations, the customer fallback)
# goes through CXHUB_EMAIL_PROVIDER; `smtp` uses Django's SMTP backend set by EMAIL_URL:
# smtp://host:port, smtp+tls://user:password@host:587 (STARTTLS), smtps://host:465 (TLS).
EMAIL_URL = env.str("EMAIL_URL", default="consolemail://")
try:
    _email = environ.Env.email_url_config(EMAIL_URL)
except ImproperlyConfigured:
    raise ImproperlyConfigured(
        "EMAIL_URL must be smtp://host:port, smtp+tls://user:password@host:587 or "
        "smtps://host:465 (or consolemail:// locally)."
    ) from None
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST") or "localhost"
EMAIL_PORT = _email.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = bool(_email.get("EMAIL_USE_TLS"))
EMAIL_USE_SSL = bool(_email.get("EMAIL_USE_SSL"))
EMAIL_TIMEOUT = CXHUB_HTTP_TIMEOUT
SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
if CXHUB_EMAIL_PROVIDER == "smtp" and (
    EMAIL_BACKEND != SMTP_BACKEND or not _email.get("EMAIL_HOST")
):
    raise ImproperlyConfigured(
        "CXHUB_EMAIL_PROVIDER=smtp needs EMAIL_URL naming an SMTP server, e.g. "
        "smtp://127.0.0.1:2525 or smtp+tls://user:password@smtp.example.com:587."
    )
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="cxhub <status@localhost>")

# The in-app status API (GET /api/v1/status) and the status page (/status/).
# Anonymous by default (the app may ask); false: an integration token is needed.
CXHUB_STATUS_API_ANONYMOUS = env.bool("CXHUB_STATUS_API_ANONYMOUS", default=True)
# Both are served from a snapshot at most this old (seconds), per web process.
CXHUB_STATUS_CACHE_SECONDS = env.float("CXHUB_STATUS_CACHE_SECONDS", default=5.0)
CXHUB_STATUS_PAGE_DAYS = env.int("CXHUB_STATUS_PAGE_DAYS", default=90)
# Subscribers (docs/status.md): a confirmation link works this long; subscribing is
# limited per address and per client address (each per hour); maintenance is recalled
# this long before it starts; notices are looked for by the beat this often.
CXHUB_STATUS_CONFIRM_HOURS = env.float("CXHUB_STATUS_CONFIRM_HOURS", default=48.0)
CXHUB_STATUS_SUBSCRIBE_PER_ADDRESS = env.int("CXHUB_STATUS_SUBSCRIBE_PER_ADDRESS", default=3)
CXHUB_STATUS_SUBSCRIBE_PER_CLIENT = env.int("CXHUB_STATUS_SUBSCRIBE_PER_CLIENT", default=20)
CXHUB_STATUS_REMINDER_MINUTES = env.float("CXHUB_STATUS_REMINDER_MINUTES", default=60.0)
CXHUB_STATUS_ANNOUNCE_DAYS = env.float("CXHUB_STATUS_ANNOUNCE_DAYS", default=7.0)
CXHUB_STATUS_NOTICE_SECONDS = env.float("CXHUB_STATUS_NOTICE_SECONDS", default=30.0)
if CXHUB_STATUS_CONFIRM_HOURS <= 0 or CXHUB_STATUS_NOTICE_SECONDS <= 0:
    raise ImproperlyConfigured(
        "CXHUB_STATUS_CONFIRM_HOURS and CXHUB_STATUS_NOTICE_SECONDS must be positive."
    )
CELERY_BEAT_SCHEDULE["status-notices"] = {
    "task": "statuspage.tasks.notices_sweep",
    "schedule": timedelta(seconds=CXHUB_STATUS_NOTICE_SECONDS),
    "options": {"expires": CXHUB_STATUS_NOTICE_SECONDS},
}
if CXHUB_STATUS_CACHE_SECONDS < 0 or CXHUB_STATUS_PAGE_DAYS < 1:
    raise ImproperlyConfigured(
        "CXHUB_STATUS_CACHE_SECONDS must be >= 0 and CXHUB_STATUS_PAGE_DAYS >= 1."
    )
for _name in ("CXHUB_PUSH_BATCH_SIZE", "CXHUB_PUSH_CONCURRENCY", "CXHUB_MAX_CUSTOMERS_PER_REQUEST"):
    if globals()[_name] < 1:
        raise ImproperlyConfigured(f"{_name} must be at least 1.")

CXHUB_LOG_FORMAT = env.str("CXHUB_LOG_FORMAT", default="plain")
if CXHUB_LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured("CXHUB_LOG_FORMAT must be 'plain' or 'json'.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"()": "cxhub.logs.PlainFormatter"},
        "json": {"()": "cxhub.logs.JsonFormatter"},
    },
    # Tokens sent in a URL path must not reach the log (cxhub.gunicorn does the access log).
    "filters": {
        "redact": {"()": "cxhub.logs.RedactFilter"},
        # A 403 or 400 is one WARNING line, not a traceback.
        "client_error": {"()": "cxhub.logs.ClientErrorFilter"},
        # Beat's bookkeeping (every few seconds) at DEBUG, so PUSH and PAGE lines show.
        "routine": {"()": "cxhub.logs.RoutineFilter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": CXHUB_LOG_FORMAT,
            "filters": ["redact", "client_error", "routine"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # axes logs every successful login at INFO; its lockouts are warnings.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}

if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=CXHUB_PRODUCTION)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=CXHUB_PRODUCTION)
    if CXHUB_PRODUCTION and not (SESSION_COOKIE_SECURE and CSRF_COOKIE_SECURE):
        raise ImproperlyConfigured(
            "Production sends session and CSRF cookies over HTTPS only: remove "
            "SESSION_COOKIE_SECURE=false / CSRF_COOKIE_SECURE=false."
        )

# HTTPS in production (docs/operations.md lists the variables). Probes and the
# metrics scrape come from inside the network over plain HTTP, so they are exempt.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if CXHUB_PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
CXHUB_BEHIND_TLS_PROXY = env.bool("CXHUB_BEHIND_TLS_PROXY", default=False)
# gunicorn behind the Procfile's nginx (cxhub/proxy.py), on a socket only nginx reaches:
# the client address is the X-Forwarded-For nginx sets.
CXHUB_BEHIND_PROXY = env.bool("CXHUB_BEHIND_PROXY", default=False)
if CXHUB_BEHIND_TLS_PROXY:
    # Only behind a proxy that sets this header itself and strips it from clients.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
