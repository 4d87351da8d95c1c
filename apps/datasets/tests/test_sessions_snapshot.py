"""The sessions' columnar copy that builds scan: always the table's sessions, whatever happened to them since."""

from datetime import UTC, datetime

import polars as pl
import pytest

from apps.common.testing.factories import SysadminFactory
from apps.datasets import services
from apps.datasets.models import Session, SessionSnapshotPart
from apps.datasets.selectors import SNAPSHOT_SCHEMA, sessions_after_frame
from apps.datasets.services import sessions_ingest, sessions_snapshot_refresh
from apps.datasets.tests.factories import SessionFactory

pytestmark = pytest.mark.django_db


def _copy() -> pl.DataFrame:
    return sessions_snapshot_refresh().sort("id")


def test_the_copy_holds_the_table_with_its_completion_times_to_the_microsecond():
    SessionFactory(dt_completed=datetime(2026, 11, 3, 12, 30, 5, 123456, tzinfo=UTC))
    SessionFactory(dt_completed=None)

    copy = _copy()

    assert copy.equals(sessions_after_frame(last_id=0))
    assert copy["dt_completed"].to_list() == [datetime(2026, 11, 3, 12, 30, 5, 123456, tzinfo=UTC), None]
    assert copy.schema == pl.Schema(SNAPSHOT_SCHEMA)


def test_new_sessions_extend_the_copy_by_a_part_and_an_ingest_extends_it_itself(django_capture_on_commit_callbacks):
    SessionFactory.create_batch(3)
    assert _copy().height == 3

    with django_capture_on_commit_callbacks(execute=True):
        sessions_ingest(lines=['{"session_id": "late", "user_id": "u", "activity_id": "a", "score": 1, '
                               '"max_score": 2, "attempted_max_score": 2}'])  # fmt: skip

    assert SessionSnapshotPart.objects.count() == 2
    assert _copy()["session_id"].to_list()[-1] == "late"


def test_a_deleted_session_rebuilds_the_copy_without_it():
    second = SessionFactory.create_batch(3)[1]
    _copy()
    SessionFactory()  # a part of its own, after the three

    second.delete()

    copy = _copy()
    assert copy["session_id"].to_list() == list(Session.objects.order_by("id").values_list("session_id", flat=True))
    assert SessionSnapshotPart.objects.count() == 1


def test_a_copy_whose_files_are_gone_is_rebuilt_from_the_table(dataset_storage):
    SessionFactory.create_batch(2)
    _copy()

    for part in SessionSnapshotPart.objects.all():  # a storage emptied under a database that still names its files
        (dataset_storage / part.name).unlink()

    assert _copy().height == 2


def test_a_session_edited_in_the_admin_is_read_with_its_new_score(client):
    session = SessionFactory(score=5.0)
    _copy()
    client.force_login(SysadminFactory())
    form = {
        field: getattr(session, field)
        for field in ("session_id", "user_id", "activity_id", "max_score", "attempted_max_score", "unscored_max_score")
    }

    response = client.post(
        f"/admin/datasets/session/{session.pk}/change/",
        {**form, "score": "7.5", "status": "Completed", "dt_completed_0": "2026-11-03", "dt_completed_1": "12:00:00"},
    )

    assert response.status_code == 302
    assert _copy()["score"].to_list() == [7.5]


def test_past_the_most_parts_the_copy_is_compacted_into_one(monkeypatch):
    monkeypatch.setattr(services, "SNAPSHOT_MAX_PARTS", 2)
    for _ in range(3):
        SessionFactory()
        _copy()

    assert SessionSnapshotPart.objects.count() == 1
    assert _copy()["id"].to_list() == list(Session.objects.order_by("id").values_list("id", flat=True))
