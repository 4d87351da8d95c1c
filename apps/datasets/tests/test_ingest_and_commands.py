"""Sessions enter through the ingest command and endpoint; consumers through create_consumer; a dataset can be
built from Tally's own group tree."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.common.testing.factories import SysadminFactory, UserFactory, api_key_for
from apps.datasets.models import Consumer, Session
from apps.datasets.selectors import output_document_read
from apps.datasets.services import dataset_build, dataset_create
from apps.datasets.spec import dataset_spec_parse
from apps.datasets.tests.conftest import dataset_request
from apps.datasets.tests.factories import SessionFactory
from apps.groups.models import GroupStatus
from apps.groups.tests.factories import GroupFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def session_line(n: int, **overrides) -> str:
    return json.dumps(
        {
            "session_id": f"s{n}",
            "user_id": f"u{n}",
            "activity_id": f"a{n % 2}",
            "score": n,
            "max_score": 10,
            "attempted_max_score": 10,
            "unscored_max_score": 0,
            "status": "Completed",
            "dt_completed": "2026-11-01T10:00:00Z",
            **overrides,
        }
    )


def test_ingest_sessions_is_idempotent_on_session_id(tmp_path):
    path = tmp_path / "sessions.ndjson"
    path.write_text("\n".join(session_line(n) for n in range(5)) + "\n")
    first, second = StringIO(), StringIO()

    call_command("ingest_sessions", str(path), stdout=first, verbosity=0)
    call_command("ingest_sessions", str(path), stdout=second, verbosity=0)

    assert (first.getvalue(), second.getvalue()) == ("lines=5 added=5\n", "lines=5 added=0\n")
    session = Session.objects.get(session_id="s3")
    assert (session.user_id, session.score, session.dt_completed.isoformat()) == (
        "u3",
        3.0,
        "2026-11-01T10:00:00+00:00",
    )


def test_ingest_sessions_names_bad_lines_and_stores_nothing(tmp_path):
    path = tmp_path / "sessions.ndjson"
    path.write_text("\n".join([session_line(1), session_line(2, score=None), session_line(3, dt_completed="soon")]))

    with pytest.raises(CommandError) as failure:
        call_command("ingest_sessions", str(path), verbosity=0)

    assert str(failure.value).startswith("Bad session lines 2, 3:")
    assert not Session.objects.exists()


def test_the_ingest_endpoint_takes_ndjson_from_a_sysadmin(api_client):
    body = "\n".join(session_line(n) for n in range(3)).encode()
    key = api_key_for(SysadminFactory())

    response = api_client.post(
        "/api/v1/datasets/sessions/", body, content_type="application/x-ndjson", HTTP_AUTHORIZATION=f"Token {key}"
    )
    refused = api_client.post(
        "/api/v1/datasets/sessions/",
        body,
        content_type="application/x-ndjson",
        HTTP_AUTHORIZATION=f"Token {api_key_for(UserFactory())}",
    )
    bad = api_client.post(
        "/api/v1/datasets/sessions/", b"{x", content_type="application/x-ndjson", HTTP_AUTHORIZATION=f"Token {key}"
    )

    assert (response.status_code, response.json()) == (200, {"lines": 3, "added": 3})
    assert refused.status_code == 403
    assert (bad.status_code, bad.json()) == (
        400,
        {"detail": "Bad lines from line 1: each must be a session object", "code": "invalid"},
    )


def test_create_consumer_prints_its_key_and_secret_last():
    out = StringIO()

    call_command("create_consumer", "district-reports", stdout=out)

    *_, key_line, secret_line = out.getvalue().splitlines()
    consumer = Consumer.objects.get(name="district-reports")
    assert (key_line, secret_line) == (
        f"consumer_key={consumer.consumer_key}",
        f"consumer_secret={consumer.consumer_secret}",
    )
    with pytest.raises(CommandError):
        call_command("create_consumer", "district-reports", stdout=StringIO())


@pytest.mark.parametrize("lookup_size", [1, 5_000], ids=["one group a lookup", "every group in one lookup"])
def test_a_dataset_over_tallys_group_tree_uses_its_members_sessions(consumer, monkeypatch, lookup_size):
    # given a root with two departments, classes under them (one gone), and members with sessions
    from apps.common import lookups

    monkeypatch.setattr(lookups, "ID_LOOKUP_SIZE", lookup_size)
    root = GroupFactory(name="Org")
    maths, physics = GroupFactory(name="Maths", parent=root), GroupFactory(name="Physics", parent=root)
    algebra, optics = GroupFactory(name="Algebra", parent=maths), GroupFactory(name="Optics", parent=physics)
    gone = GroupFactory(name="Gone", parent=physics, status=GroupStatus.INACTIVE)
    people = {}
    for group, score in ((algebra, 2), (algebra, 4), (optics, 9), (gone, 1), (maths, 7)):
        member = MembershipFactory(group=group).user
        people[member.pk] = score
        SessionFactory(user_id=str(member.public_id), score=score)
    spec = dataset_spec_parse(
        dataset_request(
            group_source=str(root.public_id),
            file_count=0,
            groups=[{"key": "department", "label": "Department"}, {"key": "class", "label": "Class"}],
        )
    )

    # when it is created (which starts the job) and built
    dataset = dataset_create(consumer=consumer, spec=spec)
    job = dataset_build(dataset_id=spec.dataset_id)

    # then the root counts the members of live classes only, with their sessions
    root_file = dataset.output_files.get(key="", page=1)
    document = output_document_read(output_file=root_file)
    assert job.status == "completed"
    assert (document["self"][3:], [row[2:] for row in document["rows"]]) == (
        [3, 5.0],
        [["Maths", 2, 3.0], ["Physics", 1, 9.0]],
    )
