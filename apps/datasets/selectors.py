"""Reads of datasets: consumers, sessions as a frame, datasets, jobs and output files."""

import io
import json
import uuid

import polars as pl
from django.db.models import CharField, QuerySet
from django.db.models.functions import Cast

from apps.common.exceptions import NotFoundError
from apps.common.frames import queryset_copy_frame, queryset_frame
from apps.common.ids import uuid_or_none
from apps.common.lookups import id_lookups
from apps.datasets.aggregation import SESSION_SCHEMA
from apps.datasets.models import Consumer, Dataset, DatasetJob, DatasetOutputFile, JobStatus, Session
from apps.datasets.storage import datasets_storage, file_range_read
from apps.groups.models import Group, Membership


def consumer_get_usable(*, consumer_key: str) -> Consumer | None:
    """The active consumer with this key, or None (the Learnosity dialect's lookup)."""
    return Consumer.objects.filter(consumer_key=consumer_key, is_active=True).first()


# The columnar copy of the sessions (SessionSnapshotPart): each session with its id and completion time.
SNAPSHOT_SCHEMA = {"id": pl.Int64, **SESSION_SCHEMA, "dt_completed": pl.Datetime("us", "UTC")}


def sessions_after_frame(*, last_id: int) -> pl.DataFrame:
    """The sessions with ids past `last_id`, in id order, as a frame of SNAPSHOT_SCHEMA (one COPY on PostgreSQL)."""
    return queryset_copy_frame(Session.objects.filter(id__gt=last_id).order_by("id"), SNAPSHOT_SCHEMA)


def snapshot_parts_read(*, names: list[str], columns: list[str] | None = None) -> pl.DataFrame:
    """The parts of the sessions' columnar copy as one frame (read from a path where the storage has paths)."""
    storage = datasets_storage()
    frames = []
    for name in names:
        try:
            source: str | io.BytesIO = storage.path(name)
        except NotImplementedError:
            with storage.open(name, "rb") as handle:
                source = io.BytesIO(handle.read())
        frames.append(pl.read_parquet(source, columns=columns))
    return (
        pl.concat(frames) if frames else pl.DataFrame(schema=SNAPSHOT_SCHEMA).select(columns or list(SNAPSHOT_SCHEMA))
    )


def dataset_get(*, consumer: Consumer, dataset_id: str) -> Dataset:
    """The consumer's dataset with this id (its job joined); NotFoundError otherwise."""
    dataset = Dataset.objects.select_related("job").filter(consumer=consumer, dataset_id=uuid.UUID(dataset_id)).first()
    if dataset is None:
        raise NotFoundError("Invalid parameter value: dataset_id not found", code="invalid", field="dataset_id")
    return dataset


def dataset_status(*, dataset: Dataset) -> str:
    """`uploading` until its job exists, then the job's status."""
    job = getattr(dataset, "job", None)
    return job.status if job is not None else "uploading"


def jobs_list(*, consumer: Consumer, references: list[str] | None) -> QuerySet[DatasetJob]:
    """The consumer's jobs with these references, or its completed jobs when none are named (as the reference's
    default status filter), newest first."""
    jobs = DatasetJob.objects.filter(dataset__consumer=consumer)
    if references is None:
        return jobs.filter(status=JobStatus.COMPLETED)
    wanted = [reference for reference in references if uuid_or_none(reference) is not None]
    return jobs.filter(reference__in=wanted)


def output_file_get(*, dataset_id: str, key: str, page: int) -> DatasetOutputFile | None:
    return DatasetOutputFile.objects.filter(dataset__dataset_id=dataset_id, key=key, page=page).first()


def output_document_bytes(*, output_file: DatasetOutputFile) -> bytes:
    """The JSON document of an output file as stored, from its build's pack."""
    return file_range_read(name=output_file.name, offset=output_file.offset, length=output_file.length)


def output_document_read(*, output_file: DatasetOutputFile) -> dict:
    """The JSON document an output file holds, as the Data API's clients read it."""
    return json.loads(output_document_bytes(output_file=output_file))


def group_tree_memberships(*, root: Group, depth: int) -> pl.DataFrame:
    """The active members of the existing groups `depth` levels below `root`, each with the names of the groups
    from the root's child down to theirs: (user_id, path), user_id being the user's public id (UUID text).

    A group under a gone group is left out with its members. One join per level, whatever the number of groups.
    """
    groups = queryset_frame(
        Group.objects.descendants(root).existing(),
        {"id": pl.Int64, "parent_id": pl.Int64, "name": pl.String},
    )
    paths = pl.DataFrame({"id": [root.pk], "path": [[]]}, schema={"id": pl.Int64, "path": pl.List(pl.String)})
    for _ in range(depth):
        paths = groups.join(paths.rename({"id": "parent_id"}), on="parent_id").select(
            "id", pl.concat_list("path", "name").alias("path")
        )
    memberships = Membership.objects.active().annotate(user_uuid=Cast("user__public_id", output_field=CharField()))
    members = pl.concat(
        queryset_frame(part, {"group_id": pl.Int64, "user_uuid": pl.String})
        for part in id_lookups(memberships, lookup="group_id__in", ids=paths["id"].to_list())
    )
    # SQLite stores a UUID as 32 hex digits; PostgreSQL casts it with its dashes.
    hex_digits = pl.col("user_uuid").str.replace_all("-", "")
    dashed = pl.concat_str(
        [hex_digits.str.slice(start, length) for start, length in ((0, 8), (8, 4), (12, 4), (16, 4), (20, 12))],
        separator="-",
    )
    return members.join(paths, left_on="group_id", right_on="id").select(dashed.alias("user_id"), "path")
