import hashlib
import uuid

from auditlog.models import AbstractLogEntry
from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from multiselectfield import MultiSelectField


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

    @property
    def is_platform_staff(self) -> bool:
        """Staff or sysadmin: reads every group's members and every course's analytics."""
        return self.is_active and (self.is_staff or self.is_superuser)


API_KEY_PREFIX = "tly_"


def api_key_digest(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


class ApiDialect(models.TextChoices):
    """The API dialects a key may be limited to; each `Dialect` subclass names its own."""

    NATIVE = "native", "Native REST (/api/v1/)"
    SUNBIRD = "sunbird", "Sunbird groups"
    SUNBIRD_PLATFORM = "sunbird-platform", "Sunbird platform (forms)"
    NEWSPARK = "newspark", "Newspark groups.getGroups"
    SUNBIRD_AGG = "sunbird_agg", "Sunbird activity aggregator"
    CKAN = "ckan", "CKAN actions"
    EDX_ANALYTICS = "edx_analytics", "Open edX Analytics Data API"
    LEARNOSITY = "learnosity", "Learnosity Data API"


def every_dialect() -> list[str]:
    return list(ApiDialect.values)


class ApiKey(models.Model):
    """A secret that authenticates API calls as its owner, within the key's scopes.

    Only a SHA-256 digest of the key is stored: keys are 256-bit random values, so a fast digest is as safe as a
    slow password hash and lets the lookup be a single indexed equality. `prefix` is the visible start of the key,
    to tell keys apart in the admin and in logs.

    Scopes narrow what the owner may do through this key, never widen what the owner's role allows (a group's
    members stay visible to its members only, CKAN stats to sysadmins only): `dialects` it may call, `read_only`,
    and two grants a non-staff owner needs, `analytics` (course analytics reads) and `ingest` (posting events).
    A new key keeps what an ordinary user does today: every dialect, reads and writes, no analytics, no ingest.
    `service` marks a trusted service (a dashboard), throttled at the service rate instead of the user rate.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, db_index=True, editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(default=False)
    last_used = models.DateTimeField(null=True, blank=True, editable=False)
    dialects = MultiSelectField(
        choices=ApiDialect.choices, default=every_dialect, help_text="The API dialects this key may call."
    )
    read_only = models.BooleanField(default=False, help_text="Refuse every write through this key.")
    analytics = models.BooleanField(
        default=False, help_text="May read course analytics without being staff (a trusted dashboard service)."
    )
    ingest = models.BooleanField(default=False, help_text="May post tracking events without being staff.")
    service = models.BooleanField(
        default=False, help_text="A trusted service: throttled at the service rate instead of the user rate."
    )

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


class AuditLogEntry(AbstractLogEntry):
    """One write to an audited model, kept by django-auditlog (settings.AUDITLOG_LOGENTRY_MODEL): who, what, when,
    from which address, and through which API key (none for the admin, commands and jobs)."""

    api_key = models.ForeignKey(
        ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="API key"
    )

    class Meta(AbstractLogEntry.Meta):
        verbose_name = "audit log entry"
        verbose_name_plural = "audit log"


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
