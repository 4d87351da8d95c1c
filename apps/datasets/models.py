"""Learnosity-style datasets: consumers of the Data API, assessment sessions, and "sessions-summary-by-group"
datasets with their input files, jobs and output files."""

import uuid

from django.db import models
from django.utils import timezone

DATASET_TYPE = "sessions-summary-by-group"


class Consumer(models.Model):
    """A Data API client: a consumer key and the secret it signs requests with.

    The secret is stored as issued, not hashed: the HMAC-SHA256 signature can only be verified with the secret
    itself. Deactivating a consumer refuses its requests from then on.
    """

    name = models.CharField(max_length=100, unique=True)
    consumer_key = models.CharField(max_length=64, unique=True, editable=False)
    consumer_secret = models.CharField(max_length=128, editable=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.consumer_key})"


class Session(models.Model):
    """One assessment session of a user (a Learnosity session summary), keyed by its session id."""

    session_id = models.CharField(max_length=64, unique=True)
    user_id = models.CharField(max_length=255, db_index=True)
    activity_id = models.CharField(max_length=255)
    score = models.FloatField()
    max_score = models.FloatField()
    attempted_max_score = models.FloatField()
    unscored_max_score = models.FloatField()
    status = models.CharField(max_length=32)
    dt_completed = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.session_id


class SessionSnapshotPart(models.Model):
    """One Parquet file of the columnar copy of the sessions that dataset builds scan instead of the table.

    Parts cover consecutive id ranges: this one holds the `rows` sessions with ids after the previous part's
    `last_id`, up to its own. Sessions are only ever inserted (an ingest keeps a stored session as it is), so the
    copy is extended by the sessions past the last part; it is checked against the table (the count of sessions up
    to the last id) before each build and rebuilt when a session was deleted, or edited in the admin.
    """

    name = models.CharField(max_length=500, unique=True)
    last_id = models.BigIntegerField(unique=True)
    rows = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["last_id"]

    def __str__(self) -> str:
        return self.name


class JobStatus(models.TextChoices):
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"


class Dataset(models.Model):
    """A "sessions-summary-by-group" dataset: its request as validated (`spec`) and who asked for it. Until its job
    exists it is waiting for uploads.

    Its hierarchy comes either from uploaded NDJSON files (`file_count` of them) or, as Tally's extension, from the
    subtree of `group_source` in Tally's own group tree.
    """

    dataset_id = models.UUIDField(unique=True)
    consumer = models.ForeignKey(Consumer, on_delete=models.PROTECT, related_name="datasets")
    dataset_type = models.CharField(max_length=64, default=DATASET_TYPE)
    file_count = models.PositiveSmallIntegerField(default=0)
    spec = models.JSONField(help_text="The validated request: filters, options and groups.")
    group_source = models.ForeignKey(
        "groups.Group", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="Root of a hierarchy taken from Tally's groups instead of uploaded files.",
    )  # fmt: skip
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    upload_expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return str(self.dataset_id)


class DatasetInputFile(models.Model):
    """One NDJSON file of user lines, uploaded through its signed URL; `name` is its path in the datasets storage."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="input_files")
    index = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=500)
    size = models.BigIntegerField(null=True, blank=True)
    uploaded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["dataset", "index"]
        constraints = [models.UniqueConstraint(fields=["dataset", "index"], name="dataset_input_file_unique")]

    def __str__(self) -> str:
        return self.name


class DatasetJob(models.Model):
    """The build of a dataset, reported by `get /jobs`. One job per dataset; a rerun updates the same job."""

    reference = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    dataset = models.OneToOneField(Dataset, on_delete=models.CASCADE, related_name="job")
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.PENDING)
    error = models.TextField(blank=True, default="")
    dt_created = models.DateTimeField(default=timezone.now, editable=False)
    dt_completed = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-dt_created"]

    def __str__(self) -> str:
        return f"{self.reference} {self.status}"


class DatasetOutputFile(models.Model):
    """One page of one node's JSON file. Rows appear in the transaction that completes the job, so that a file is
    reachable only once every file of the dataset is written.

    The pages of a build are packed into one stored file (`name`), each at its `offset` for `length` bytes: one
    write per build instead of one per page (thousands), and as few objects on an object store.
    """

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="output_files")
    key = models.TextField(help_text="The node's group path, its names joined by the unit separator (\\x1f).")
    group_id = models.CharField(max_length=32)
    page = models.PositiveIntegerField(default=1)
    name = models.CharField(max_length=500)
    offset = models.BigIntegerField(default=0)
    length = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["dataset", "key", "page"]
        constraints = [models.UniqueConstraint(fields=["dataset", "key", "page"], name="dataset_output_file_unique")]

    def __str__(self) -> str:
        return self.name
