"""Production only hardens base: it refuses to start with a weak secret or token setting, turns on HTTPS
protections, serves JSON only, and shares the cache (rate limits) through Redis."""

from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int
from config.settings.base import *  # noqa: F403
from config.settings.base import (
    CACHE_URL,
    CELERY_BROKER_URL,
    DEBUG,
    REST_FRAMEWORK,
    SECRET_KEY,
    SUNBIRD_JWT_AUDIENCE,
    SUNBIRD_JWT_HS256_SECRET,
    SUNBIRD_JWT_ISSUER,
    SUNBIRD_JWT_RS256_PUBLIC_KEYS,
)

# Secrets that are public: the development default and the example in .env.example.
KNOWN_SECRET_KEYS = {"insecure-local-only-secret-key-change-me", "change-me-to-a-long-random-string-of-50-characters"}
SECRET_KEY_MIN_LENGTH = 50
JWT_HS256_SECRET_MIN_BYTES = 32

if SECRET_KEY in KNOWN_SECRET_KEYS or SECRET_KEY.startswith("insecure-") or len(SECRET_KEY) < SECRET_KEY_MIN_LENGTH:
    raise ImproperlyConfigured(
        f"DJANGO_SECRET_KEY must be set to a random value of at least {SECRET_KEY_MIN_LENGTH} characters in "
        "production, not a published example"
    )
if DEBUG:
    raise ImproperlyConfigured("DJANGO_DEBUG must be off in production")
if SUNBIRD_JWT_HS256_SECRET and len(SUNBIRD_JWT_HS256_SECRET.encode()) < JWT_HS256_SECRET_MIN_BYTES:
    raise ImproperlyConfigured(f"TALLY_SUNBIRD_JWT_HS256_SECRET must be at least {JWT_HS256_SECRET_MIN_BYTES} bytes")
if (SUNBIRD_JWT_HS256_SECRET or SUNBIRD_JWT_RS256_PUBLIC_KEYS.strip()) and not (
    SUNBIRD_JWT_AUDIENCE and SUNBIRD_JWT_ISSUER
):
    raise ImproperlyConfigured(
        "Sunbird user tokens need TALLY_SUNBIRD_JWT_AUDIENCE and TALLY_SUNBIRD_JWT_ISSUER in production"
    )

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True

# No browsable API: its HTML forms are for developers, and it renders every response a second time.
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]}

# Rate limits count in the cache: one per process would let N workers allow N times the limit. Without
# TALLY_CACHE_URL, the Redis that already serves as the broker is the cache.
if not CACHE_URL and CELERY_BROKER_URL and CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CACHES = {"default": {"BACKEND": "apps.common.cache_backends.RedisCache", "LOCATION": CELERY_BROKER_URL}}
