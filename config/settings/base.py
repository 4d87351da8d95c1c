"""Tally settings. Everything is read from the environment through config.env; the other modules only adjust."""

from pathlib import Path
from typing import Any

import dj_database_url
from celery.schedules import crontab

from config.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env_str("TALLY_VAR_DIR", str(BASE_DIR / "var")))

SECRET_KEY = env_str("DJANGO_SECRET_KEY", "insecure-local-only-secret-key-change-me")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "apps.dashboards.apps.TallyAdminConfig",  # django.contrib.admin with Tally's site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "apps.dashboards.apps.LoginLockoutsConfig",  # axes, named for people
    "auditlog",
    "apps.common",
    "apps.groups",
    "apps.stats",
    "apps.course_analytics",
    "apps.activity_agg",
    "apps.datasets",
    "apps.dashboards",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "apps.common.middleware.RequestLogMiddleware",
    "apps.common.middleware.RequestSizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "apps.common.middleware.SafeMethodSlashMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "apps.common.middleware.AuditMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "apps.common.middleware.PrivateResponseMiddleware",
    "axes.middleware.AxesMiddleware",
    "apps.common.middleware.AtomicWriteMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
            ],
        },
    },
]

# PostgreSQL (psycopg 3) in production; an embedded SQLite file so that a newcomer needs nothing but Python.
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'tally.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DJANGO_CONN_MAX_AGE", 60))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # As a server database would be: readers keep reading while a rollup writes (WAL), and a writer waits up to
    # `timeout` seconds for the lock instead of failing. Transactions take the write lock when they begin
    # (IMMEDIATE): a deferred one that reads first cannot wait for it later, and fails with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "timeout": env_int("TALLY_SQLITE_TIMEOUT_SECONDS", 20),
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "common.User"
# django-axes (maintained) rate-limits logins (the admin's): after AXES_FAILURE_LIMIT failures from one address,
# that address is locked out for AXES_COOLOFF_TIME hours with a 429.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env_int("TALLY_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = 1
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

TIME_ZONE = "UTC"

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env_str("TALLY_MEDIA_ROOT", str(VAR_DIR / "media")))
# The tracking-event store (day-partitioned Parquet): a folder by default, any fsspec URL (s3://bucket/events) in
# production, where the filesystem library reads its credentials from its own environment variables.
TRACKING_EVENT_STORE = env_str("TALLY_EVENT_STORE", str(VAR_DIR / "events"))
MEDIA_URL = "/media/"
# Dataset files (uploads and built outputs): a folder by default, any django-storages backend by configuration.
DATASETS_STORAGE = {
    "BACKEND": env_str("TALLY_DATASETS_STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage"),
    "OPTIONS": {"location": env_str("TALLY_DATASETS_ROOT", str(VAR_DIR / "datasets"))},
}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
    "datasets": DATASETS_STORAGE,
}

# Request limits: a body larger than REQUEST_MAX_BYTES is refused with 413 before any view reads it; endpoints that
# stream large bodies get their own prefix here.
REQUEST_MAX_BYTES = env_int("TALLY_REQUEST_MAX_BYTES", 2 * 1024 * 1024)
REQUEST_MAX_BYTES_BY_PATH: dict[str, int] = {
    "/api/v0/ingest/": env_int("TALLY_INGEST_MAX_BYTES", 50 * 1024 * 1024),
    "/api/v1/datasets/sessions/": env_int("TALLY_INGEST_MAX_BYTES", 50 * 1024 * 1024),
    "/datasets/files/": env_int("TALLY_DATASETS_UPLOAD_MAX_BYTES", 100 * 1024 * 1024),
}
DATA_UPLOAD_MAX_MEMORY_SIZE = REQUEST_MAX_BYTES
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.common.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
        "rest_framework.filters.SearchFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "apps.common.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "apps.common.api.schema.DialectAutoSchema",
    "DEFAULT_PARSER_CLASSES": ["apps.common.api.parsers.StrictJSONParser"],
    "DEFAULT_THROTTLE_CLASSES": ["apps.common.api.throttling.ApiKeyRateThrottle"],
    "EXCEPTION_HANDLER": "apps.common.api.native.exception_handler",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Tally API",
    "DESCRIPTION": "Groups of learners and the analytics about them. Each API dialect keeps its reference envelope.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "GroupStatusEnum": "apps.groups.models.GroupStatus",
        "MemberStatusEnum": "apps.groups.models.MemberStatus",
        "MemberRoleEnum": "apps.groups.models.MemberRole",
        "ItemModerationEnum": "apps.groups.models.ItemModeration",
    },
}

# Celery. Without a broker URL tasks run in-process, so the embedded default needs no Redis.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL is None
CELERY_TASK_EAGER_PROPAGATES = True
if CELERY_BROKER_URL is None:
    CELERY_BROKER_URL = "memory://"
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "tally")
# Dataset builds can take a queue (and workers) of their own, so that a large one does not delay the nightly jobs.
DATASETS_QUEUE = env_str("TALLY_DATASETS_QUEUE", CELERY_TASK_DEFAULT_QUEUE)
# Every task's delivery options (retries are per task, in apps.common.tasks): a task is acknowledged when done, so
# that a worker that dies hands it to another; results live in JobRun, not in a result backend.
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A task taken by a worker that died unacknowledged goes back to the queue once this long has passed since its
# delivery, so it must outlast the longest task (the hard time limit below); a check refuses a shorter one.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("TALLY_CELERY_VISIBILITY_TIMEOUT_SECONDS", 6 * 3600)}
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 50 * 60)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 60 * 60)
CELERY_BEAT_SCHEDULER = "apps.common.beat:RetryingScheduler"
CELERY_BEAT_SCHEDULE = {
    "course_analytics.rollup_day": {
        "task": "course_analytics.rollup_day",
        "schedule": crontab(hour=0, minute=30),
        "options": {"expires": 6 * 3600},
    },
    "activity_agg.refresh": {
        "task": "activity_agg.refresh",
        "schedule": crontab(hour=1, minute=0),
        "options": {"expires": 6 * 3600},
    },
    "common.prune_job_runs": {
        "task": "common.prune_job_runs",
        "schedule": crontab(hour=3, minute=30),
        "kwargs": {"older_than_days": 90},
        "options": {"expires": 3600},
    },
}

# Shared by every process when set (API throttling counts across gunicorn workers); per process otherwise.
CACHE_URL = env_str("TALLY_CACHE_URL")
CACHE_TIMEOUT_SECONDS = env_int("TALLY_CACHE_TIMEOUT_MS", 500) / 1000
CACHES = {
    "default": {
        "BACKEND": "apps.common.cache_backends.RedisCache",
        "LOCATION": CACHE_URL,
        # Deployments (or test runs) sharing one Redis keep apart by their prefix.
        "KEY_PREFIX": env_str("TALLY_CACHE_KEY_PREFIX", ""),
        # A Redis that stops answering costs a request at most this long before the cache is bypassed
        # (apps.common.cache_backends); its usual answer takes a fraction of a millisecond.
        "OPTIONS": {"socket_connect_timeout": CACHE_TIMEOUT_SECONDS, "socket_timeout": CACHE_TIMEOUT_SECONDS},
    }
    if CACHE_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

# How long a v0 answer may be served from a shared cache (a rollup makes it stale at once).
ANALYTICS_CACHE_SECONDS = env_int("TALLY_ANALYTICS_CACHE_SECONDS", 300)

# How long a getGroups page may be served from a shared cache (a group write makes it stale at once).
GROUPS_PAGE_CACHE_SECONDS = env_int("TALLY_GROUPS_PAGE_CACHE_SECONDS", 300)

# How long a process may trust a cached API key (apps.common.key_cache; only with a shared cache, where a revoke
# reaches every process at once).
API_KEY_CACHE_SECONDS = env_int("TALLY_API_KEY_CACHE_SECONDS", 300)

HEALTH_CHECK_TIMEOUT_SECONDS = 3

# API request rates per key (per user for sessions, per address for anonymous calls), in every dialect, counted in
# the cache above: the Open edX Analytics API's rates, the user rate and the higher rate of service accounts
# (dashboards): keys marked `service`, or any key of the usernames listed here.
API_THROTTLE_RATE = env_str("TALLY_API_THROTTLE_RATE", "60/minute")
API_SERVICE_THROTTLE_RATE = env_str("TALLY_API_SERVICE_THROTTLE_RATE", "800/minute")
API_SERVICE_USERNAMES = env_list("TALLY_API_SERVICE_USERNAMES", [])

# Audit log (django-auditlog) of every write to these models, from the API, the admin, commands and jobs; the
# actor, address and API key of a request are attached by apps.common.middleware.AuditMiddleware.
AUDITLOG_LOGENTRY_MODEL = "common.AuditLogEntry"
# Its own migrations would create the table of the entry model swapped out above, whose foreign key to users stops
# a flush; common's migrations create the one in use.
MIGRATION_MODULES = {"auditlog": None}
# The client address is the peer's; behind a proxy that sets it, name its header (e.g. HTTP_X_FORWARDED_FOR).
AUDIT_TRUSTED_PROXY_HEADER = env_str("TALLY_AUDIT_TRUSTED_PROXY_HEADER")
AUDITLOG_INCLUDE_TRACKING_MODELS = (
    {
        "model": "common.user",
        "exclude_fields": ["password", "last_login"],
        "m2m_fields": {"groups", "user_permissions"},
    },
    {"model": "common.apikey", "exclude_fields": ["digest", "last_used"]},
    "groups.group",
    "groups.membership",
    "groups.activity",
)


LOG_FORMAT = env_str("TALLY_LOG_FORMAT", "json")
LOG_LEVEL = env_str("TALLY_LOG_LEVEL", "INFO")
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "plain": {
            "()": "apps.common.logs.EscapingFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
    },
}

# Groups: the Newspark vhost of groups created without one, and the Sunbird limits (the reference's defaults).
TALLY_DEFAULT_VHOST = env_int("TALLY_DEFAULT_VHOST", 1)
GROUPS_MAX_PER_CREATOR = env_int("TALLY_GROUPS_MAX_PER_CREATOR", 50)
GROUPS_MAX_MEMBERS = env_int("TALLY_GROUPS_MAX_MEMBERS", 150)
GROUPS_MAX_ACTIVITIES = env_int("TALLY_GROUPS_MAX_ACTIVITIES", 20)

# A tracking-log line longer than this is counted malformed and not stored: Open edX's logger drops events past its
# TRACK_MAX_EVENT (50,000 characters), so no complete Open edX line is longer. A dataset's build fails past
# DATASETS_MAX_ROWS membership rows (users placed in groups), which bounds the memory one build takes.
TRACKING_LINE_MAX_CHARS = env_int("TALLY_TRACKING_LINE_MAX_CHARS", 64 * 1024)
DATASETS_MAX_ROWS = env_int("TALLY_DATASETS_MAX_ROWS", 1_000_000)

# Learnosity Data API: how far a request's timestamp may be from now (the SDK stamps to the minute), and how long
# the signed upload and download URLs of datasets last (the reference's 60 minutes).
LEARNOSITY_TIMESTAMP_SKEW_SECONDS = env_int("TALLY_LEARNOSITY_TIMESTAMP_SKEW_SECONDS", 600)
DATASETS_URL_MAX_AGE_SECONDS = env_int("TALLY_DATASETS_URL_MAX_AGE_SECONDS", 3600)

# Sunbird user tokens (x-authenticated-user-token): JWTs signed with this HS256 secret or one of these RS256 public
# keys (PEM, concatenated). A user's own Tally API key is accepted as well.
SUNBIRD_JWT_HS256_SECRET = env_str("TALLY_SUNBIRD_JWT_HS256_SECRET")
SUNBIRD_JWT_RS256_PUBLIC_KEYS = env_str("TALLY_SUNBIRD_JWT_RS256_PUBLIC_KEYS", "")
# Checked when set (production requires both); a token may live at most SUNBIRD_JWT_MAX_LIFETIME_SECONDS, from its
# `iat` or, without one, from now to its `exp`.
SUNBIRD_JWT_AUDIENCE = env_str("TALLY_SUNBIRD_JWT_AUDIENCE")
SUNBIRD_JWT_ISSUER = env_str("TALLY_SUNBIRD_JWT_ISSUER")
SUNBIRD_JWT_MAX_LIFETIME_SECONDS = env_int("TALLY_SUNBIRD_JWT_MAX_LIFETIME_SECONDS", 3600)

# Content-Security-Policy on every response (django-csp, maintained): only our own scripts; the admin and the API
# docs use inline styles. The docs' two pages relax scripts for their inline loaders (config/urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Activity aggregator: how long a group's aggregate response is cached (writes invalidate it sooner).
ACTIVITY_AGG_CACHE_SECONDS = env_int("TALLY_ACTIVITY_AGG_CACHE_SECONDS", 60)
