"""The edx-analytics-data-api-client package, unchanged, against a live server."""

import pytest
from analyticsclient.client import Client
from analyticsclient.constants import data_formats, demographics
from analyticsclient.exceptions import ClientError, InvalidRequestError, NotFoundError

from tests.edx_analytics.conftest import COURSE

pytestmark = [pytest.mark.live, pytest.mark.filterwarnings("ignore:.*recent_activity.*:DeprecationWarning")]


@pytest.fixture
def course(live_server, token, reference_rows):
    return Client(base_url=f"{live_server.url}/api/v0", auth_token=token, timeout=10).courses(COURSE)


@pytest.mark.parametrize(
    ("demographic", "expected"),
    [
        (None, [100]),
        ("mode", [38]),
        (demographics.BIRTH_YEAR, [7]),
        (demographics.EDUCATION, [3, 9]),
        (demographics.GENDER, None),
        (demographics.LOCATION, [7, 4, 10]),
    ],
)
def test_enrollment_by_each_demographic(course, demographic, expected):
    rows = course.enrollment(demographic)

    if expected is None:
        assert (rows[0]["female"], rows[0]["male"], rows[0]["unknown"]) == (30, 40, 7)
    else:
        assert sorted(row["count"] for row in rows) == sorted(expected)


def test_enrollment_with_dates(course):
    rows = course.enrollment(start_date="2013-12-31", end_date="2014-01-02")

    assert [row["date"] for row in rows] == ["2013-12-31", "2014-01-01"]


def test_activity_and_recent_activity(course):
    weeks = course.activity(start_date="2014-01-01", end_date="2014-02-01")
    recent = course.recent_activity("played_video")

    assert [week["any"] for week in weeks] == [50, 51]
    assert (recent["activity_type"], recent["count"]) == ("played_video", 30)


def test_videos(course):
    [video] = course.videos()

    assert (video["users_at_start"], video["users_at_end"]) == (9, 4)


@pytest.mark.parametrize("call", ["enrollment", "activity", "videos", "location", "recent"])
def test_every_read_as_csv(course, call):
    text = {
        "enrollment": lambda: course.enrollment(data_format=data_formats.CSV),
        "activity": lambda: course.activity(data_format=data_formats.CSV),
        "videos": lambda: course.videos(data_format=data_formats.CSV),
        "location": lambda: course.enrollment(demographics.LOCATION, data_format=data_formats.CSV),
        "recent": lambda: course.recent_activity(data_format=data_formats.CSV),
    }[call]()

    header, *rows = text.strip().splitlines()
    assert header.split(",") == sorted(header.split(","))
    assert rows


def test_the_clients_errors(live_server, token, reference_rows):
    client = Client(base_url=f"{live_server.url}/api/v0", auth_token=token, timeout=10)

    with pytest.raises(NotFoundError):
        client.courses("edX/Nope/Nope").enrollment()
    with pytest.raises(InvalidRequestError):
        client.courses(COURSE).enrollment(start_date="garbage")
    with pytest.raises(ClientError):
        Client(base_url=f"{live_server.url}/api/v0", auth_token="tly_wrong", timeout=10).courses(COURSE).enrollment()
