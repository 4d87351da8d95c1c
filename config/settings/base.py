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
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "auditlog",
    "apps.common",
    "apps.groups",
    "apps.stats",
    "apps.course_analytics",
    "apps.activity_agg",
    "apps.datasets",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
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
    # Readers keep reading while a rollup writes; a writer waits for the lock instead of failing at once.
    DATABASES["default"]["OPTIONS"] = {"init_command": "PRAGMA journal_mode=WAL;", "timeout": 20}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "common.User"
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
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Request limits: a body larger than REQUEST_MAX_BYTES is refused with 413 before any view reads it; endpoints that
# stream large bodies get their own prefix here.
REQUEST_MAX_BYTES = env_int("TALLY_REQUEST_MAX_BYTES", 2 * 1024 * 1024)
REQUEST_MAX_BYTES_BY_PATH: dict[str, int] = {"/api/v0/ingest/": env_int("TALLY_INGEST_MAX_BYTES", 50 * 1024 * 1024)}
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
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
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
    },
}

# Celery. Without a broker URL tasks run in-process, so the embedded default needs no Redis.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL is None
CELERY_TASK_EAGER_PROPAGATES = True
if CELERY_BROKER_URL is None:
    CELERY_BROKER_URL = "memory://"
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "tally")
# Every task's delivery options (retries are per task, in apps.common.tasks): a task is acknowledged when done, so
# that a worker that dies hands it to another; results live in JobRun, not in a result backend.
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 6 * 3600}
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 50 * 60)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 60 * 60)
CELERY_BEAT_SCHEDULE = {
    "course_analytics.rollup_day": {
        "task": "course_analytics.rollup_day",
        "schedule": crontab(hour=0, minute=30),
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
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    if CACHE_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

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
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
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

# Sunbird user tokens (x-authenticated-user-token): JWTs signed with this HS256 secret or one of these RS256 public
# keys (PEM, concatenated). A user's own Tally API key is accepted as well.
SUNBIRD_JWT_HS256_SECRET = env_str("TALLY_SUNBIRD_JWT_HS256_SECRET")
SUNBIRD_JWT_RS256_PUBLIC_KEYS = env_str("TALLY_SUNBIRD_JWT_RS256_PUBLIC_KEYS", "")
SUNBIRD_JWT_AUDIENCE = env_str("TALLY_SUNBIRD_JWT_AUDIENCE")
