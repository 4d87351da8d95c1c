"""Test runs: fast password hashing, plain logs, and no secret from the environment needed."""

from config.settings.base import *  # noqa: F403
from config.settings.base import DATASETS_STORAGE, LOGGING

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGGING["handlers"]["console"]["formatter"] = "plain"
LOGGING["root"]["level"] = "WARNING"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "datasets": DATASETS_STORAGE,
}

# Suites make many requests as one user; the throttle has its own test.
API_THROTTLE_RATE = "100000/minute"
