"""Writes of datasets: consumers, session ingest, dataset creation, uploads, jobs and the build itself."""

import io
import logging
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import polars as pl
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.common.exceptions import ConflictError, NotFoundError, ServiceError
from apps.common.frames import frame_insert, moment_unreadable, text_refused
from apps.common.services import job_run_execute, job_transaction_lock
from apps.common.tasks import enqueue_on_commit
from apps.datasets import selectors
from apps.datasets.aggregation import (
    SESSION_SCHEMA,
    dataset_documents,
    memberships_combine,
    memberships_parse,
    node_statistics,
    sessions_within,
    user_scores,
)
from apps.datasets.models import (
    Consumer,
    Dataset,
    DatasetInputFile,
    DatasetJob,
    DatasetOutputFile,
    JobStatus,
    Session,
    SessionSnapshotPart,
)
from apps.datasets.spec import MAX_LINE_BYTES, DatasetSpec
from apps.datasets.storage import datasets_storage, file_write_chunks, file_write_complete, folder_delete
from apps.groups.selectors import group_get

logger = logging.getLogger(__name__)

BUILD_KIND = "datasets.build"
PACK_CHUNK_PAGES = 2_000
SNAPSHOT_KIND = "datasets.sessions_snapshot"
SNAPSHOT_FOLDER = "sessions-snapshot"
SNAPSHOT_MAX_PARTS = 16
SNAPSHOT_ORPHAN_AGE = timedelta(hours=1)
BUILD_UNQUEUED = "The build could not be queued (the service was briefly unavailable); commence the job again."
INGEST_BATCH_LINES = 100_000


def consumer_create(*, name: str) -> Consumer:
    """A new Data API consumer with a random key and secret. Not idempotent: a name is used once."""
    if Consumer.objects.filter(name=name).exists():
        raise ConflictError(f"A consumer called {name} exists.", field="name")
    return Consumer.objects.create(
        name=name, consumer_key=secrets.token_urlsafe(12), consumer_secret=secrets.token_hex(32)
    )


@dataclass(frozen=True)
class IngestReport:
    lines: int
    added: int


SESSION_LINE = pl.Struct({**SESSION_SCHEMA, "status": pl.String, "dt_completed": pl.String})
# The widths of the session's text columns: PostgreSQL refuses a longer value (SQLite would store it).
SESSION_TEXT_WIDTHS = {
    name: Session._meta.get_field(name).max_length for name in ("session_id", "user_id", "activity_id", "status")
}


def _sessions_frame(lines: list[str], first_line: int) -> pl.DataFrame:
    """Parsed and checked session lines; a ServiceError naming the bad lines."""
    frame = pl.DataFrame({"text": lines}).with_row_index("line", offset=first_line)
    frame = frame.filter(pl.col("text").str.strip_chars() != "")
    too_long = frame.filter(pl.col("text").str.len_bytes() > MAX_LINE_BYTES)["line"]
    if too_long.len():
        listed = ", ".join(str(line) for line in too_long.head(20).to_list())
        raise ServiceError(f"Bad session lines {listed}: longer than {MAX_LINE_BYTES} bytes", code="invalid")
    try:
        parsed = frame.with_columns(pl.col("text").str.json_decode(SESSION_LINE).alias("s")).unnest("s")
    except pl.exceptions.PolarsError:
        raise ServiceError(f"Bad lines from line {first_line}: each must be a session object", code="invalid") from None
    parsed = parsed.with_columns(
        pl.col("dt_completed").str.to_datetime(time_zone="UTC", strict=False).alias("completed")
    )
    required = ["session_id", "user_id", "activity_id", "score", "max_score", "attempted_max_score"]
    bad = parsed.filter(
        pl.any_horizontal(pl.col(required).is_null())
        | (pl.col("dt_completed").is_not_null() & pl.col("completed").is_null())
        | moment_unreadable("completed")
        | text_refused("session_id", "user_id", "activity_id", "status")
        | pl.any_horizontal(pl.col(name).str.len_chars() > width for name, width in SESSION_TEXT_WIDTHS.items())
        | pl.col("session_id").is_duplicated()
    )["line"]
    if bad.len():
        listed = ", ".join(str(line) for line in bad.head(20).to_list())
        widths = ", ".join(f"{name} {width}" for name, width in SESSION_TEXT_WIDTHS.items())
        raise ServiceError(
            f"Bad session lines {listed}: session_id, user_id, activity_id, score, max_score and "
            "attempted_max_score are required, dt_completed is RFC 3339 within the years 1 to 9999, text holds no "
            f"NUL or lone surrogate and at most so many characters ({widths}), a session id appears once",
            code="invalid",
        )
    return parsed.with_columns(
        pl.col("unscored_max_score").fill_null(0.0),
        pl.col("status").fill_null(""),
        pl.col("completed").alias("dt_completed"),
    ).select(*SESSION_SCHEMA, "status", "dt_completed")


def sessions_ingest(*, lines, progress: Callable[[int], object] | None = None) -> IngestReport:
    """Store the sessions of an NDJSON stream (one session object a line), all or none, then extend the sessions'
    columnar copy by them (so that the next build does not have to).

    Idempotent on session_id: a session already stored is kept as it is. Returns the lines read and sessions added.
    """
    report = _sessions_insert(lines=lines, progress=progress)
    if report.added:
        transaction.on_commit(_snapshot_extend_after_ingest)
    return report


def _snapshot_extend_after_ingest() -> None:
    """The copy extended once the ingest's sessions are committed; a failure here loses nothing (the next build
    extends it), so it is logged, not raised to the client whose sessions are stored."""
    try:
        with transaction.atomic():
            job_transaction_lock(kind=SNAPSHOT_KIND, key="*")
            _snapshot_parts_extend()
    except Exception:
        logger.exception("sessions' columnar copy not extended after an ingest")


@transaction.atomic
def _sessions_insert(*, lines, progress: Callable[[int], object] | None) -> IngestReport:
    # Under the copy's lock: a refresh never runs while sessions with ids below its last id are still uncommitted.
    job_transaction_lock(kind=SNAPSHOT_KIND, key="*")
    total = added = 0
    batch: list[str] = []

    def flush() -> int:
        frame = _sessions_frame(batch, total - len(batch) + 1)
        inserted = frame_insert(table=Session._meta.db_table, frame=frame, ignore_conflicts=True)
        if progress:
            progress(len(batch))
        batch.clear()
        return inserted

    for line in lines:
        try:
            batch.append(line.decode() if isinstance(line, bytes) else line)
        except UnicodeDecodeError:
            raise ServiceError(f"Bad session line {total + 1}: not UTF-8", code="invalid") from None
        total += 1
        if len(batch) == INGEST_BATCH_LINES:
            added += flush()
    if batch:
        added += flush()
    return IngestReport(lines=total, added=added)


def _snapshot_part_write(sessions: pl.DataFrame) -> SessionSnapshotPart:
    buffer = io.BytesIO()
    sessions.write_parquet(buffer, compression="lz4", statistics=True)
    name = f"{SNAPSHOT_FOLDER}/{uuid.uuid4().hex}.parquet"
    file_write_complete(name=name, content=buffer.getvalue())
    return SessionSnapshotPart.objects.create(name=name, last_id=sessions["id"].max(), rows=sessions.height)


def _snapshot_parts_forget(parts: list[SessionSnapshotPart]) -> None:
    """Delete the rows of these parts now, their files once that commits (a rollback leaves them in use)."""
    names = [part.name for part in parts]
    SessionSnapshotPart.objects.filter(pk__in=[part.pk for part in parts]).delete()
    transaction.on_commit(lambda: _snapshot_files_delete(names))


def _snapshot_files_delete(names: list[str]) -> None:
    """Delete these files, and any file of the copy that no part names and that is older than SNAPSHOT_ORPHAN_AGE
    (written by a transaction that rolled back; a younger one may belong to a transaction still open)."""
    storage = datasets_storage()
    for name in names:
        storage.delete(name)
    if not storage.exists(SNAPSHOT_FOLDER):
        return
    named = set(SessionSnapshotPart.objects.values_list("name", flat=True))
    cutoff = timezone.now() - SNAPSHOT_ORPHAN_AGE
    for file_name in storage.listdir(SNAPSHOT_FOLDER)[1]:
        name = f"{SNAPSHOT_FOLDER}/{file_name}"
        if name not in named and storage.get_modified_time(name) < cutoff:
            storage.delete(name)


def sessions_snapshot_drop() -> None:
    """Forget the sessions' columnar copy, so that the next build rebuilds it from the table (after sessions were
    changed in place, which the copy cannot notice by itself)."""
    with transaction.atomic():
        job_transaction_lock(kind=SNAPSHOT_KIND, key="*")
        _snapshot_parts_forget(list(SessionSnapshotPart.objects.all()))


def sessions_snapshot_refresh() -> pl.DataFrame:
    """Bring the sessions' columnar copy up to date with the table, and return its sessions (SNAPSHOT_SCHEMA).

    Sessions are only inserted, so the copy is extended by the sessions past its last id (one COPY of those).
    It is rebuilt when the table no longer holds as many sessions up to that id as the copy (sessions were
    deleted), and compacted into one part past SNAPSHOT_MAX_PARTS. Serialised under the copy's lock until the
    transaction ends, the read included (so no other refresh deletes a part being read); the work commits whole
    or not at all.
    """
    with transaction.atomic():
        job_transaction_lock(kind=SNAPSHOT_KIND, key="*")
        parts = _snapshot_parts_extend()
        sessions = selectors.snapshot_parts_read(names=[part.name for part in parts])
        if len(parts) > SNAPSHOT_MAX_PARTS:
            _snapshot_parts_forget(parts)
            _snapshot_part_write(sessions)
        return sessions


def _snapshot_parts_extend() -> list[SessionSnapshotPart]:
    """The copy's parts once checked against the table (and the storage) and extended by the sessions past its last
    id (under the copy's lock)."""
    parts = list(SessionSnapshotPart.objects.all())
    last_id = parts[-1].last_id if parts else 0
    storage = datasets_storage()
    if parts and (
        Session.objects.filter(id__lte=last_id).count() != sum(part.rows for part in parts)
        or not all(storage.exists(part.name) for part in parts)  # the storage emptied, or the database restored
    ):
        _snapshot_parts_forget(parts)
        parts, last_id = [], 0
    added = selectors.sessions_after_frame(last_id=last_id)
    if added.height:
        parts.append(_snapshot_part_write(added))
    return parts


def _folder(dataset: Dataset) -> str:
    return f"{dataset.consumer_id}/{dataset.dataset_id}"


@transaction.atomic
def dataset_create(*, consumer: Consumer, spec: DatasetSpec) -> Dataset:
    """A dataset awaiting its `file_count` uploads; one built from `group_source` (or with no files) starts at once.

    A dataset id is used once, by any consumer (ConflictError).
    """
    if Dataset.objects.filter(dataset_id=spec.dataset_id).exists():
        raise ConflictError("Invalid parameter value: dataset_id is already used", field="dataset_id")
    root = group_get(group_id=spec.group_source) if spec.group_source else None
    dataset = Dataset.objects.create(
        dataset_id=spec.dataset_id,
        consumer=consumer,
        file_count=spec.file_count,
        spec=spec.stored(),
        group_source=root,
        upload_expires_at=timezone.now() + timedelta(seconds=settings.DATASETS_URL_MAX_AGE_SECONDS),
    )
    DatasetInputFile.objects.bulk_create(
        DatasetInputFile(dataset=dataset, index=index, name=f"{_folder(dataset)}/infiles/{index}.ndjson")
        for index in range(spec.file_count)
    )
    if spec.file_count == 0:
        _job_start(dataset)
    return dataset


def _job_start(dataset: Dataset) -> DatasetJob:
    """The dataset's job, created and enqueued (after commit) unless it exists and has not failed."""
    from apps.datasets.tasks import build_dataset

    job, created = DatasetJob.objects.select_for_update().get_or_create(dataset=dataset)
    if not created and job.status != JobStatus.FAILED:
        return job
    if not created:
        job.status, job.error, job.dt_completed = JobStatus.PENDING, "", None
        job.save(update_fields=["status", "error", "dt_completed"])

    def unqueued() -> None:
        # A failed job is one the client's next commence starts again.
        DatasetJob.objects.filter(pk=job.pk).update(status=JobStatus.FAILED, error=BUILD_UNQUEUED)

    enqueue_on_commit(build_dataset, args=[str(dataset.dataset_id)], queue=settings.DATASETS_QUEUE, unqueued=unqueued)
    return job


@transaction.atomic
def dataset_file_upload(*, dataset_id: str, index: int, content: bytes, now: datetime | None = None) -> Dataset:
    """Store input file `index` of a dataset (complete or not at all); the last missing file starts the job.

    A file may be uploaded again until the job starts (ConflictError after). Returns the dataset.
    """
    dataset = Dataset.objects.select_for_update().filter(dataset_id=dataset_id).first()
    if dataset is None:
        raise NotFoundError("The dataset no longer exists")
    if DatasetJob.objects.filter(dataset=dataset).exclude(status=JobStatus.FAILED).exists():
        raise ConflictError("The dataset's job has started: its files can no longer change.")
    input_file = DatasetInputFile.objects.get(dataset=dataset, index=index)
    file_write_complete(name=input_file.name, content=content)
    input_file.size, input_file.uploaded_at = len(content), now or timezone.now()
    input_file.save(update_fields=["size", "uploaded_at"])
    if not dataset.input_files.filter(uploaded_at__isnull=True).exists():
        _job_start(dataset)
    return dataset


@transaction.atomic
def dataset_job_commence(*, consumer: Consumer, dataset_id: str) -> DatasetJob:
    """Start building a dataset with the files uploaded so far (`set /jobs/reports/datasets`). Idempotent: a job
    that exists and has not failed is returned as it is."""
    dataset = selectors.dataset_get(consumer=consumer, dataset_id=dataset_id)
    if dataset.file_count and not dataset.input_files.filter(uploaded_at__isnull=False).exists():
        raise ServiceError("Invalid parameter value: no input file of the dataset is uploaded yet", field="dataset_id")
    return _job_start(dataset)


def _rows_check(rows: int) -> None:
    if rows > settings.DATASETS_MAX_ROWS:
        raise ServiceError(
            f"Too many rows: the dataset places more than {settings.DATASETS_MAX_ROWS} users in groups",
            code="too_many",
        )


def _memberships(dataset: Dataset) -> pl.DataFrame:
    """The dataset's users placed in groups; a ServiceError past settings.DATASETS_MAX_ROWS of them (checked after
    each file, so that a build stops before it reads the rest)."""
    depth = len(dataset.spec["groups"])
    if dataset.group_source is not None:
        memberships = selectors.group_tree_memberships(root=dataset.group_source, depth=depth)
        _rows_check(memberships.height)
        return memberships
    storage = datasets_storage()
    frames: list[pl.DataFrame] = []
    for input_file in dataset.input_files.filter(uploaded_at__isnull=False):
        with storage.open(input_file.name, "rb") as handle:
            frames.append(memberships_parse(handle.read(), depth=depth, file_index=input_file.index))
        _rows_check(sum(frame.height for frame in frames))
    return memberships_combine(frames)


def dataset_documents_compute(*, dataset: Dataset, sessions: pl.DataFrame) -> pl.DataFrame:
    """Every output file of the dataset (key, group_id, page, document), from its memberships and those of the
    `sessions` (every stored one) inside its time filter."""
    spec = dataset.spec
    memberships = _memberships(dataset)
    within = sessions_within(
        sessions,
        mintime=datetime.fromisoformat(spec["mintime"]) if spec["mintime"] else None,
        maxtime=datetime.fromisoformat(spec["maxtime"]) if spec["maxtime"] else None,
    )
    users = user_scores(memberships, within, by_user=dataset.group_source is not None)
    nodes = node_statistics(users, depth=len(spec["groups"]), fields=spec["fields"])
    return dataset_documents(users, nodes, spec=spec)


def dataset_build(*, dataset_id: str) -> DatasetJob:
    """Build every output file of a dataset and publish them together.

    Idempotent on the dataset: a rerun (after a failure, or a worker killed halfway) builds everything again. Files
    are written under a folder of their own attempt, each complete or not at all; the output rows that make them
    reachable are inserted in the transaction that completes the job, so a build that dies leaves no file
    reachable. Once it succeeds, the files of earlier attempts are deleted. A bad input fails the job with its
    message.
    """
    job = DatasetJob.objects.select_related("dataset", "dataset__group_source").get(dataset__dataset_id=dataset_id)
    dataset = job.dataset
    DatasetJob.objects.filter(pk=job.pk).update(status=JobStatus.PROCESSING)
    attempt = uuid.uuid4().hex
    outfiles = f"{_folder(dataset)}/outfiles"

    def build() -> int:
        documents = dataset_documents_compute(dataset=dataset, sessions=sessions)
        pack = f"{outfiles}/{attempt}/pages"
        documents = documents.with_columns(pl.col("document").cast(pl.Binary))
        lengths = documents["document"].bin.size().cast(pl.Int64)  # UInt32 would wrap past 4 GiB of pages
        documents = documents.with_columns(
            pl.lit(pack).alias("name"), (lengths.cum_sum() - lengths).alias("offset"), lengths.alias("length")
        )
        file_write_chunks(
            name=pack,
            chunks=(b"".join(chunk["document"].to_list()) for chunk in documents.iter_slices(PACK_CHUNK_PAGES)),
        )
        DatasetOutputFile.objects.filter(dataset=dataset).delete()
        frame_insert(
            table=DatasetOutputFile._meta.db_table,
            frame=documents.select(
                pl.lit(dataset.pk).alias("dataset_id"), "key", "group_id", "page", "name", "offset", "length"
            ),
        )
        DatasetJob.objects.filter(pk=job.pk).update(status=JobStatus.COMPLETED, dt_completed=timezone.now())
        return documents.height

    try:
        # Committed before the build, whose transaction would hold the copy's lock (and every other build) to its end.
        sessions = sessions_snapshot_refresh()
        job_run_execute(kind=BUILD_KIND, key=str(dataset.dataset_id), work=build)
    except ServiceError as exc:
        DatasetJob.objects.filter(pk=job.pk).update(status=JobStatus.FAILED, error=exc.message)
    except Exception:
        DatasetJob.objects.filter(pk=job.pk).update(status=JobStatus.FAILED, error="An error has occurred")
        raise
    else:
        folder_delete(folder=outfiles, keep=attempt)
    job.refresh_from_db()
    return job
