import hashlib
import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone


class User(AbstractUser):
    """A person: staff, a group member or a learner. `public_id` is the UUID the APIs show; `id` is the integer one.

    A sysadmin is a superuser: the one flag that CKAN-style "sysadmin only" actions check.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    lms_user_id = models.BigIntegerField(
        null=True, blank=True, unique=True, help_text="The Open edX user id (`context.user_id` of tracking logs)."
    )
    managed_by = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_users",
        help_text="The user who acts for this one (a parent for a child account): Sunbird's managed user.",
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"

    @property
    def is_sysadmin(self) -> bool:
        return self.is_active and self.is_superuser


API_KEY_PREFIX = "tly_"


def api_key_digest(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


class ApiKey(models.Model):
    """A secret that authenticates API calls as its owner.

    Only a SHA-256 digest of the key is stored: keys are 256-bit random values, so a fast digest is as safe as a
    slow password hash and lets the lookup be a single indexed equality. `prefix` is the visible start of the key,
    to tell keys apart in the admin and in logs.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, db_index=True, editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(default=False)
    last_used = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "API key"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"

    @property
    def is_sysadmin(self) -> bool:
        return self.user.is_sysadmin

    def is_usable(self, *, now) -> bool:
        return not self.revoked and self.user.is_active and (self.expires_at is None or self.expires_at > now)


class JobRun(models.Model):
    """One run of a background job, keyed by (kind, key), e.g. ("course_analytics.rollup", "2026-11-22").

    A job reruns freely: every attempt is a row, and the newest row of a key tells its state.
    """

    class Status(models.TextChoices):
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    kind = models.CharField(max_length=100)
    key = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    started = models.DateTimeField(default=timezone.now)
    finished = models.DateTimeField(null=True, blank=True)
    rows = models.BigIntegerField(null=True, blank=True)
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-started"]
        indexes = [models.Index(fields=["kind", "key", "-started"], name="jobrun_kind_key_started")]

    def __str__(self) -> str:
        return f"{self.kind}[{self.key}] {self.status}"
