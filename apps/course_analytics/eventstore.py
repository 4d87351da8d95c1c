"""The store of record for tracking events: Parquet files partitioned by UTC day in the Hive layout
(`<root>/day=YYYY-MM-DD/part-<uuid>.parquet`), under `settings.TRACKING_EVENT_STORE`.

The root is a local folder by default and any fsspec URL in production (fsspec is the filesystem layer that polars,
DuckDB, Spark and ClickHouse users share, so the same partitions serve a distributed engine too). A file is written
whole under a temporary name and renamed into place, so that a reader (or a crashed writer) never sees half a file;
writers of a day hold that day's lock. Readers scan lazily, only the partitions and columns they ask for.
"""

import hashlib
import io
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import fsspec
import polars as pl
from django.conf import settings
from django.db import connection
from filelock import FileLock
from fsspec.implementations.local import LocalFileSystem

from apps.common.services import job_lock

# Every column the rollups and the activity aggregator read. `event_key` (SHA-256 of the line) makes ingest
# idempotent; `day` is the partition, kept in the path, not in the files.
EVENT_SCHEMA: dict[str, pl.DataType] = {
    "event_key": pl.String(),
    "time": pl.Datetime("us", "UTC"),
    "course_id": pl.String(),
    "lms_user_id": pl.Int64(),
    "username": pl.String(),
    "event_type": pl.String(),
    "event_source": pl.String(),
    "mode": pl.String(),
    "video_id": pl.String(),
    "video_position": pl.Float64(),
    "video_new_position": pl.Float64(),
    "video_duration": pl.Float64(),
    "block_id": pl.String(),
    "success": pl.String(),
    "grade": pl.Float64(),
    "max_grade": pl.Float64(),
    "completion": pl.Float64(),
}
PARTITION = "day"
LOCK_KIND = "course_analytics.event_day"
# The video viewings the rollups derive from the events, by day, beside the event partitions: the leading "_" is
# the Hive convention for a folder that is not a partition, so engines reading the events' layout pass it by.
VIEWINGS_FOLDER = "_video_viewings"
VIEWING_SCHEMA: dict[str, pl.DataType] = {
    "course_id": pl.String(),
    "video_id": pl.String(),
    "lms_user_id": pl.Int64(),
    "start_position": pl.Float64(),
    "end_position": pl.Float64(),
    "reported_duration": pl.Float64(),
    "furthest": pl.Float64(),
}
# The distinct viewers of each video's first segment and of its end segment, each in the file of the range of days
# whose viewings first held them: the video summaries add a night's new viewers to them instead of counting every
# viewing so far again.
VIEWERS_FOLDER = "_video_viewers"
VIEWER_SCHEMA: dict[str, pl.DataType] = {
    "course_id": pl.String(),
    "video_id": pl.String(),
    "segment": pl.String(),  # "start" or "end"
    "lms_user_id": pl.Int64(),
}
# The learners active in a course on a day, with the kinds of activity they had, from which the weekly activity
# counts its weeks.
ACTIVITY_FOLDER = "_activity_learners"
ACTIVITY_SCHEMA: dict[str, pl.DataType] = {
    "course_id": pl.String(),
    "lms_user_id": pl.Int64(),
    "attempted_problem": pl.Boolean(),
    "played_video": pl.Boolean(),
    "posted_forum": pl.Boolean(),
}


def _store() -> tuple[fsspec.AbstractFileSystem, str]:
    filesystem, root = fsspec.core.url_to_fs(str(settings.TRACKING_EVENT_STORE))
    return filesystem, root.rstrip("/")


def _partition_day(folder: str) -> date:
    """The day of a partition folder, from its name (`day=YYYY-MM-DD`)."""
    return date.fromisoformat(folder.removeprefix(f"{PARTITION}="))


def _day_of(path: str) -> date:
    return _partition_day(path.rsplit("/", 2)[-2])


def _folder_files(filesystem: fsspec.AbstractFileSystem, folder: str, suffix: str = "") -> list[str]:
    """The files of `folder` whose names end in `suffix`, sorted; none when the folder is missing. One listing of
    the folder, where a glob would also compile a pattern for it (a night lists a dozen folders)."""
    try:
        return sorted(path for path in filesystem.ls(folder, detail=False) if path.endswith(suffix))
    except FileNotFoundError:
        return []


def _day_files(filesystem: fsspec.AbstractFileSystem, base: str, days: Iterable[date] | None) -> list[str]:
    """The Parquet files of the day folders under `base`, sorted: of `days` (one listing per day), or of every day
    (one listing)."""
    if days is None:
        return sorted(filesystem.glob(f"{base}/{PARTITION}=*/*.parquet"))
    return [
        path
        for day in sorted(set(days))
        for path in _folder_files(filesystem, f"{base}/{PARTITION}={day.isoformat()}", ".parquet")
    ]


def partition_files(*, days: Iterable[date] | None = None) -> dict[date, list[str]]:
    """The complete files of each stored day: of `days` (one listing per day), or of every day (one listing)."""
    filesystem, root = _store()
    files: dict[date, list[str]] = {}
    for path in _day_files(filesystem, root, days):
        files.setdefault(_day_of(path), []).append(path)
    return files


def partition_days() -> set[date]:
    """The days that have a partition folder, in one listing of the root (no listing per day): a folder made for a
    write that has not completed yet holds no complete file, so that some of these days may have no events."""
    filesystem, root = _store()
    if not filesystem.exists(root):
        return set()
    names = (path.rstrip("/").rsplit("/", 1)[-1] for path in filesystem.ls(root, detail=False))
    return {_partition_day(name) for name in names if name.startswith(f"{PARTITION}=")}


def _readable(filesystem: fsspec.AbstractFileSystem, path: str) -> str:
    return path if isinstance(filesystem, LocalFileSystem) else filesystem.unstrip_protocol(path)


def events_scan(*, days: Iterable[date] | None = None, columns: Iterable[str] | None = None) -> pl.LazyFrame:
    """A lazy scan of the stored events of `days` (every day when None), with `day` and the chosen columns."""
    chosen = list(columns) if columns is not None else list(EVENT_SCHEMA)
    schema = {PARTITION: pl.Date(), **{name: EVENT_SCHEMA[name] for name in chosen if name != PARTITION}}
    filesystem, _ = _store()
    paths = [_readable(filesystem, path) for files in partition_files(days=days).values() for path in files]
    if not paths:
        return pl.LazyFrame(schema=schema)
    scan = pl.scan_parquet(
        paths,
        hive_partitioning=True,
        hive_schema={PARTITION: pl.Date()},
        schema=EVENT_SCHEMA,
    )
    return scan.select(list(schema))


@contextmanager
def day_lock(day: date) -> Iterator[None]:
    """Serialise the writers of one day's partition: a PostgreSQL advisory lock (across machines), or a lock file
    beside the embedded SQLite database (one machine, which is all the embedded default serves)."""
    if connection.vendor == "postgresql":
        with job_lock(kind=LOCK_KIND, key=day.isoformat()):
            yield
        return
    folder = Path(settings.VAR_DIR) / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    with FileLock(folder / f"events-{day.isoformat()}.lock"):
        yield


def _file_write(filesystem: fsspec.AbstractFileSystem, path: str, frame: pl.DataFrame) -> None:
    """Write `frame` as the Parquet file `path`, whole under a temporary name and then renamed into place."""
    buffer = io.BytesIO()
    # LZ4: about half the CPU of zstd to write and to scan, for files about 1.7 times as large.
    frame.write_parquet(buffer, statistics=True, compression="lz4")
    temporary = f"{path.removesuffix('.parquet')}.tmp"
    with filesystem.open(temporary, "wb") as out:
        out.write(buffer.getbuffer())
    filesystem.mv(temporary, path)


def partition_append(*, day: date, frame: pl.DataFrame) -> None:
    """Add `frame` (EVENT_SCHEMA columns) to the day's partition as one new file, written whole and then renamed.

    The caller holds `day_lock(day)`: leftovers of a writer that died mid-file are removed here, since no other
    writer of the day can be running.
    """
    filesystem, root = _store()
    folder = f"{root}/{PARTITION}={day.isoformat()}"
    filesystem.makedirs(folder, exist_ok=True)
    for leftover in _folder_files(filesystem, folder, ".tmp"):
        filesystem.rm(leftover)
    _file_write(filesystem, f"{folder}/part-{uuid.uuid4().hex}.parquet", frame.select(list(EVENT_SCHEMA)))


def day_file_write(*, folder: str, day: date, frame: pl.DataFrame, keep: str | None) -> str:
    """Write a day's frame of data derived from its events (the video viewings, the active learners) as a new file
    of `folder`, whole and then renamed, and return its name (relative to the folder), which the caller records in
    its transaction.

    The caller holds the day's rollup lock, so that no other writer of the day runs: the day's other files but
    `keep` (the one in force until the caller commits) are leftovers of rollups that failed or were since
    replaced, and are removed here.
    """
    filesystem, root = _store()
    partition = f"{PARTITION}={day.isoformat()}"
    target = f"{root}/{folder}/{partition}"
    filesystem.makedirs(target, exist_ok=True)
    for path in _folder_files(filesystem, target):
        if f"{partition}/{path.rsplit('/', 1)[-1]}" != keep:
            filesystem.rm(path)
    name = f"{partition}/{folder.strip('_')}-{uuid.uuid4().hex}.parquet"
    _file_write(filesystem, f"{root}/{folder}/{name}", frame)
    return name


def day_files_present(*, folder: str, days: Iterable[date] | None = None) -> set[str]:
    """The names of the day files of `folder` in the store: of `days` (one listing per day), or of every day (one
    listing)."""
    filesystem, root = _store()
    return {path.removeprefix(f"{root}/{folder}/") for path in _day_files(filesystem, f"{root}/{folder}", days)}


def day_files_remove(*, folder: str, names: Iterable[str]) -> None:
    """Remove the named day files of `folder` (those a committed rollup replaced); a name already gone is no
    error."""
    filesystem, root = _store()
    for name in names:
        path = f"{root}/{folder}/{name}"
        if filesystem.exists(path):
            filesystem.rm(path)


def day_files_scan(*, folder: str, names: Iterable[str], schema: dict[str, pl.DataType]) -> pl.LazyFrame:
    """A lazy scan of the named day files of `folder` (names as `day_file_write` returned them)."""
    filesystem, root = _store()
    paths = [_readable(filesystem, f"{root}/{folder}/{name}") for name in names]
    if not paths:
        return pl.LazyFrame(schema=schema)
    return pl.scan_parquet(paths, schema=schema, hive_partitioning=False)


def names_digest(names: Iterable[str]) -> str:
    """A digest of a set of file names: equal for the same names, whatever their order."""
    return hashlib.sha256("\n".join(sorted(names)).encode()).hexdigest()


def events_digest(*, days: Iterable[date]) -> dict[date, str]:
    """Per day of `days`, a digest of its partition's file names (one listing per day): files are only ever
    added, so that a digest that changed says the day received events since it was taken. A day without events
    has none."""
    return {
        day: names_digest(path.rsplit("/", 1)[-1] for path in files)
        for day, files in partition_files(days=days).items()
    }
