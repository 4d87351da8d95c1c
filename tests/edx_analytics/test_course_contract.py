"""Contract cases 1-27 of the Analytics Data API v0 course endpoints (reference notes), on the whole response."""

import csv
import io

import pytest

from apps.common.testing.matchers import Matches
from tests.edx_analytics.conftest import COURSE

CREATED = Matches(r"\d{4}-\d{2}-\d{2}T\d{6}", "YYYY-mm-ddTHHMMSS")
BASE = f"/api/v0/courses/{COURSE}"


@pytest.fixture
def get(client, token, reference_rows):
    def call(path: str, params: dict | None = None, **headers):
        headers.setdefault("HTTP_AUTHORIZATION", f"Token {token}")
        return client.get(f"{BASE}/{path}", params or {}, **headers)

    return call


def test_01_enrollment_latest_day(get):
    response = get("enrollment/")

    assert response.status_code == 200
    assert response.json() == [{"course_id": COURSE, "date": "2014-01-01", "count": 100, "created": CREATED}]
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    ("params", "dates"),
    [
        ({"start_date": "2013-12-31"}, ["2013-12-31", "2014-01-01"]),
        ({"start_date": "2013-12-31", "end_date": "2014-01-01"}, ["2013-12-31"]),
        ({"start_date": "2013-12-31T000000", "end_date": "2014-01-02T000000"}, ["2013-12-31", "2014-01-01"]),
        ({"end_date": "2014-01-01"}, ["2013-12-31"]),
    ],
    ids=["02 start only", "03 end exclusive", "04 datetime format", "end only"],
)
def test_02_to_04_date_windows(get, params, dates):
    assert [row["date"] for row in get("enrollment/", params).json()] == dates


def test_05_a_window_without_data_is_404(get):
    response = get("enrollment/", {"start_date": "2015-01-01"})

    assert (response.status_code, response.json()) == (404, {"detail": "Not found."})


@pytest.mark.parametrize("value", ["garbage", "2014-01-01T00:00:00", "2014-13-01"])
def test_06_a_malformed_date_is_400_naming_the_parameter(get, value):
    response = get("enrollment/", {"start_date": value})

    assert response.status_code == 400
    assert response.json() == {
        "detail": f"start_date: {value!r} is not a date; use YYYY-mm-dd or YYYY-mm-ddTHHMMSS (UTC)."
    }


def test_07_unknown_course_is_404(client, token, reference_rows):
    response = client.get("/api/v0/courses/edX/Nope/Nope/enrollment/", HTTP_AUTHORIZATION=f"Token {token}")

    assert (response.status_code, response.json()) == (404, {"detail": "Not found."})


def test_08_an_id_that_is_no_course_id_is_404(client, token):
    assert client.get("/api/v0/courses/foo/enrollment/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 404


def test_09_authentication(get):
    missing = get("enrollment/", HTTP_AUTHORIZATION="")
    invalid = get("enrollment/", HTTP_AUTHORIZATION="Token bad")

    assert (missing.status_code, missing.json()) == (401, {"detail": "Authentication credentials were not provided."})
    assert missing["WWW-Authenticate"] == "Token"
    assert (invalid.status_code, invalid.json()) == (401, {"detail": "Invalid token."})


def test_10_a_missing_slash_redirects(get):
    response = get("enrollment")

    assert (response.status_code, response["Location"]) == (301, f"{BASE}/enrollment/")


def test_11_modes_folded_and_zero_filled(get):
    assert get("enrollment/mode/").json() == [
        {
            "course_id": COURSE,
            "date": "2014-01-01",
            "count": 38,
            "cumulative_count": 47,
            "created": CREATED,
            "audit": 10,
            "credit": 0,
            "honor": 20,
            "professional": 3,
            "verified": 5,
            "masters": 0,
        }
    ]


def test_12_modes_over_a_range_sorted_by_date(get):
    rows = get("enrollment/mode/", {"start_date": "2013-12-01", "end_date": "2014-02-01"}).json()

    assert [row["date"] for row in rows] == ["2013-12-31", "2014-01-01"]
    assert all({"audit", "credit", "honor", "professional", "verified", "masters"} <= set(row) for row in rows)


def test_13_gender_zero_filled_with_unknown_summed(get):
    assert get("enrollment/gender/").json() == [
        {
            "course_id": COURSE,
            "date": "2014-01-01",
            "female": 30,
            "male": 40,
            "other": 0,
            "unknown": 7,
            "created": CREATED,
        }
    ]


def test_14_birth_year(get):
    assert get("enrollment/birth_year/").json() == [
        {"course_id": COURSE, "date": "2014-01-01", "birth_year": 1990, "count": 7, "created": CREATED}
    ]


def test_15_education(get):
    rows = get("enrollment/education/").json()

    assert sorted((row["education_level"] or "", row["count"]) for row in rows) == [("", 3), ("bachelors", 9)]


def test_16_location_unknown_first_then_by_alpha2(get):
    assert get("enrollment/location/").json() == [
        {
            "date": "2014-01-01",
            "course_id": COURSE,
            "country": {"alpha2": None, "alpha3": None, "name": "UNKNOWN"},
            "count": 7,
            "created": CREATED,
        },
        {
            "date": "2014-01-01",
            "course_id": COURSE,
            "country": {"alpha2": "CA", "alpha3": "CAN", "name": "Canada"},
            "count": 4,
            "created": CREATED,
        },
        {
            "date": "2014-01-01",
            "course_id": COURSE,
            "country": {"alpha2": "US", "alpha3": "USA", "name": "United States of America"},
            "count": 10,
            "created": CREATED,
        },
    ]


def test_17_location_csv_with_filename(get):
    response = get("enrollment/location/", HTTP_ACCEPT="text/csv")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == "attachment; filename=edX-DemoX-Demo_2014--enrollment-location.csv"
    lines = response.content.decode().splitlines()
    assert lines[0] == "count,country.alpha2,country.alpha3,country.name,course_id,created,date"
    assert lines[1].startswith("7,,,UNKNOWN,")


def test_18_mode_csv(get):
    response = get("enrollment/mode/", HTTP_ACCEPT="text/csv")

    assert response.content.decode().splitlines()[0] == (
        "audit,count,course_id,created,credit,cumulative_count,date,honor,masters,professional,verified"
    )
    assert response["Content-Disposition"].endswith("--enrollment_mode.csv")


def test_19_activity_latest_week_without_missing_types(get):
    assert get("activity/").json() == [
        {
            "interval_start": "2014-01-13T000000",
            "interval_end": "2014-01-20T000000",
            "course_id": COURSE,
            "any": 51,
            "attempted_problem": 20,
            "played_video": 30,
            "created": CREATED,
        }
    ]


def test_20_activity_over_a_range(get):
    both = get("activity/", {"start_date": "2014-01-01T000000", "end_date": "2014-02-01T000000"}).json()
    second = get("activity/", {"start_date": "2014-01-13"}).json()

    assert [row["any"] for row in both] == [50, 51]
    assert [row["interval_start"] for row in second] == ["2014-01-13T000000"]


def test_21_activity_csv_fields(get):
    response = get("activity/", {"fields": "interval_end,any"}, HTTP_ACCEPT="text/csv")

    assert list(csv.reader(io.StringIO(response.content.decode()))) == [
        ["interval_end", "any"],
        ["2014-01-20T000000", "51"],
    ]
    assert response["Content-Disposition"].endswith("--engagement-activity.csv")


def test_22_recent_activity_is_one_object_with_iso_times(get):
    assert get("recent_activity/").json() == {
        "interval_start": "2014-01-13T00:00:00Z",
        "interval_end": "2014-01-20T00:00:00Z",
        "activity_type": "any",
        "count": 51,
        "course_id": COURSE,
    }


@pytest.mark.parametrize("params", [{"activity_type": "PLAYED_VIDEO"}, {"label": "played_video"}])
def test_23_recent_activity_by_type(get, params):
    body = get("recent_activity/", params).json()

    assert (body["activity_type"], body["count"]) == ("played_video", 30)


def test_24_recent_activity_of_a_type_without_rows_is_404_and_an_unknown_type_400(get):
    none = get("recent_activity/", {"activity_type": "posted_forum"})
    unknown = get("recent_activity/", {"activity_type": "foo"})

    assert (none.status_code, none.json()) == (404, {"detail": "Not found."})
    types = "any, attempted_problem, played_video, posted_forum"
    assert (unknown.status_code, unknown.json()) == (
        400,
        {"detail": f"activity_type: 'foo' is not an activity type ({types})."},
    )


def test_25_videos(get, client, token):
    assert get("videos/").json() == [
        {
            "pipeline_video_id": f"{COURSE}|block-v1-video",
            "encoded_module_id": "block-v1-video",
            "duration": 120,
            "segment_length": 5,
            "users_at_start": 9,
            "users_at_end": 4,
            "created": CREATED,
        }
    ]
    assert client.get("/api/v0/courses/edX/Nope/Nope/videos/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 404


def test_26_other_methods_are_405(client, token, reference_rows):
    response = client.post(f"{BASE}/enrollment/", HTTP_AUTHORIZATION=f"Token {token}")

    assert (response.status_code, response.json()) == (405, {"detail": 'Method "POST" not allowed.'})


@pytest.mark.parametrize("path", ["enrollment.csv", "enrollment/?format=csv"])
def test_27_csv_by_suffix_or_format_has_no_filename(client, token, reference_rows, path):
    response = client.get(f"{BASE}/{path}", HTTP_AUTHORIZATION=f"Token {token}")

    assert response.status_code == 200
    assert response.content.decode().splitlines()[0] == "count,course_id,created,date"
    assert not response.has_header("Content-Disposition")


def test_the_old_course_id_form_works(client, token, db):
    from apps.course_analytics.models import EnrollmentDaily

    EnrollmentDaily.objects.create(
        course_id="edX/DemoX/Demo_Course",
        date="2014-01-01",
        count=3,
        cumulative_count=3,
        created="2014-01-02T00:00:00Z",
    )

    response = client.get("/api/v0/courses/edX/DemoX/Demo_Course/enrollment/", HTTP_AUTHORIZATION=f"Token {token}")

    assert response.json()[0]["count"] == 3


@pytest.mark.parametrize("path", ["enrollment/", "enrollment/mode/", "enrollment/location/", "activity/"])
def test_list_endpoints_pin_their_queries(get, path, django_assert_num_queries):
    get(path)  # the key's first use is recorded once

    # key + latest day + rows
    with django_assert_num_queries(3):
        assert get(path).status_code == 200
