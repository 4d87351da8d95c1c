"""Contract cases 25-26 of the group activity aggregator (reference notes, A.7), each on the whole envelope, and
Tally's extensions: every activity in one call, the CSV member table and the native view."""

import json
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache

from apps.activity_agg.services import activity_aggregates_refresh, course_leaf_contents_set
from apps.activity_agg.tests.factories import Learner
from apps.common.testing.factories import SysadminFactory, UserFactory, api_key_for
from apps.common.testing.matchers import SUNBIRD_TS, UUID
from apps.course_analytics.services.ingest import tracking_lines_ingest
from apps.groups.services import ActivitySpec, MemberSpec, group_create

AGG, GROUP_AGG, UPDATE = "/api/data/v1/group/activity/agg", "/api/data/v1/group/agg", "/api/group/v1/update"
COURSE, OTHER = "course-v1:TestX+AGG101+2026_T1", "course-v1:TestX+AGG202+2026_T1"
DAY = date(2026, 10, 5)
T0 = datetime(2026, 10, 5, 9, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def ok(api_id: str, result: dict) -> dict:
    params = {"resmsgid": None, "msgid": UUID, "err": None, "status": "success", "errmsg": None}
    return {"id": api_id, "ver": "v1", "ts": SUNBIRD_TS, "params": params, "responseCode": "OK", "result": result}


def failed(err: str, errmsg: str, response_code: str, api_id: str = "api.group.activity.agg") -> dict:
    params = {"resmsgid": None, "msgid": UUID, "err": err, "status": response_code, "errmsg": errmsg}
    return {"id": api_id, "ver": "v1", "ts": SUNBIRD_TS, "params": params, "responseCode": response_code, "result": {}}


def agg_request(group_id: str, activity_id: str = COURSE, activity_type: str = "Course") -> dict:
    return {"request": {"groupId": group_id, "activityId": activity_id, "activityType": activity_type}}


class Scene:
    """An ingested log of one course: Ann completes two contents, Bob enrols, Cid enrols and leaves, Dan (not in
    the group) completes one; U1's group has Ann, Bob and Cid and the course as its activity."""

    def __init__(self, u1):
        self.ann, self.bob = Learner("ann", 101, COURSE), Learner("bob", 102, COURSE)
        self.cid, self.dan = Learner("cid", 103, COURSE), Learner("dan", 104, COURSE)
        tracking_lines_ingest(
            lines=[
                self.ann.enrol(at(0)),
                self.ann.problem(at(1), "p1", correct=True, grade=2, max_grade=2),
                self.ann.completion(at(7), "h1"),
                self.bob.enrol(at(2)),
                self.cid.enrol(at(0)),
                self.cid.enrol(at(3), active=False),
                self.dan.enrol(at(0)),
                self.dan.completion(at(9), "h1"),
            ],
            source="test",
        )
        activity_aggregates_refresh(first=DAY, last=DAY)
        users = get_user_model().objects
        for name in ("ann", "bob", "cid"):
            users.filter(username=name).update(first_name=name.title(), last_name="Learner")
        self.users = {name: users.get(username=name) for name in ("ann", "bob", "cid", "dan")}
        members = [MemberSpec(str(user.public_id)) for name, user in self.users.items() if name != "dan"]
        self.group = group_create(
            actor=u1.user, name="Maths", members=members, activities=[ActivitySpec(COURSE, "Course")]
        ).group
        self.group_id = str(self.group.public_id)
        self.creator = u1.id

    def member(self, name: str, agg: list[dict]) -> dict:
        user = self.users[name]
        return {
            "userId": str(user.public_id),
            "name": f"{name.title()} Learner",
            "role": "member",
            "status": "active",
            "createdBy": self.creator,
            "agg": agg,
        }

    def result(self, members: list[dict], *, count: int, updated: int) -> dict:
        activity = {
            "id": COURSE,
            "type": "Course",
            "agg": [{"metric": "enrolmentCount", "lastUpdatedOn": updated, "value": count}],
        }
        return {"groupId": self.group_id, "activity": activity, "members": members}


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()


@pytest.fixture
def scene(u1):
    return Scene(u1)


def ann_and_bob(scene: Scene) -> list[dict]:
    return [
        scene.member(
            "ann",
            [
                {"metric": "completedCount", "value": 2.0, "lastUpdatedOn": ms(at(7))},
                {"metric": "score", "value": 2.0, "lastUpdatedOn": ms(at(1))},
            ],
        ),
        scene.member(
            "bob",
            [
                {"metric": "completedCount", "value": 0.0, "lastUpdatedOn": None},
                {"metric": "score", "value": 0.0, "lastUpdatedOn": None},
            ],
        ),
    ]


# 25
def test_agg_lists_the_enrolled_members_and_their_metrics(sunbird, u1, scene):
    status, body = sunbird.call("post", AGG, agg_request(scene.group_id), user_token=u1.token)

    assert (status, body) == (
        200,
        ok("api.group.activity.agg", scene.result(ann_and_bob(scene), count=2, updated=ms(at(7)))),
    )


def test_agg_has_progress_where_the_course_leaf_count_is_set(sunbird, u1, scene):
    course_leaf_contents_set(course_id=COURSE, leaf_contents=8)

    _, body = sunbird.call("post", AGG, agg_request(scene.group_id), user_token=u1.token)

    ann = body["result"]["members"][0]
    assert ann["agg"][1] == {"metric": "progress", "value": 25.0, "lastUpdatedOn": ms(at(7))}


@pytest.mark.parametrize("activity", [(OTHER, "Course"), (COURSE, "TextBook")], ids=["no one enrolled", "other type"])
def test_an_activity_nobody_is_enrolled_in_has_value_0_and_no_members(sunbird, u1, scene, activity):
    before = int(time.time() * 1000)
    status, body = sunbird.call("post", AGG, agg_request(scene.group_id, *activity), user_token=u1.token)

    updated = body["result"]["activity"]["agg"][0]["lastUpdatedOn"]
    assert before <= updated <= int(time.time() * 1000)
    expected = {
        "groupId": scene.group_id,
        "activity": {
            "id": activity[0],
            "type": activity[1],
            "agg": [{"metric": "enrolmentCount", "lastUpdatedOn": updated, "value": 0}],
        },
        "members": [],
    }
    assert (status, body) == (200, ok("api.group.activity.agg", expected))


# 26
@pytest.mark.parametrize(
    ("body", "err", "errmsg"),
    [
        ({}, "INVALID_REQUESTED_DATA", "Requested data for this operation is not valid."),
        ({"request": {}}, "INVALID_REQUESTED_DATA", "Requested data for this operation is not valid."),
        ({"request": "g1"}, "INVALID_REQUESTED_DATA", "Requested data for this operation is not valid."),
        ({"request": {"activityId": "do_1", "activityType": "Course"}}, "GROUP_ID_MISSING", "GroupId is mandatory."),
        ({"request": {"groupId": " ", "activityId": "do_1"}}, "GROUP_ID_MISSING", "GroupId is mandatory."),
        ({"request": {"groupId": "g1", "activityType": "Course"}}, "ACTIVITY_ID_MISSING", "ActivityId is mandatory."),
        ({"request": {"groupId": "g1", "activityId": 7}}, "ACTIVITY_ID_MISSING", "ActivityId is mandatory."),
        ({"request": {"groupId": "g1", "activityId": "do_1"}}, "ACTIVITY_TYPE_MISSING", "ActivityType is mandatory."),
    ],
    ids=["no request", "empty request", "request not an object", "no groupId", "blank groupId", "no activityId",
         "numeric activityId", "no activityType"],
)  # fmt: skip
def test_agg_validation_failures(sunbird, u1, body, err, errmsg):
    status, response = sunbird.call("post", AGG, body, user_token=u1.token)

    assert (status, response) == (400, failed(err, errmsg, "CLIENT_ERROR"))


def test_a_body_that_is_not_json_is_invalid_requested_data(sunbird, u1):
    response = sunbird.http.post(
        AGG,
        data="{not json",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {sunbird.client_key}",
        HTTP_X_AUTHENTICATED_USER_TOKEN=u1.token,
    )

    message = "Requested data for this operation is not valid."
    assert (response.status_code, response.json()) == (400, failed("INVALID_REQUESTED_DATA", message, "CLIENT_ERROR"))


@pytest.mark.parametrize("group_id", ["b0c4a645-807e-41c7-972e-5c48c5b5e5e7", "not-a-uuid"])
def test_an_unknown_group_is_a_404_in_the_envelope(sunbird, u1, group_id):
    status, body = sunbird.call("post", AGG, agg_request(group_id), user_token=u1.token)

    assert (status, body) == (404, failed("GROUP_NOT_FOUND", "Group not found.", "RESOURCE_NOT_FOUND"))


def test_a_deleted_group_is_gone(sunbird, u1, scene):
    sunbird.call("post", "/api/group/v1/delete", {"request": {"groupId": scene.group_id}}, user_token=u1.token)

    status, body = sunbird.call("post", AGG, agg_request(scene.group_id), user_token=u1.token)

    assert (status, body["params"]["err"]) == (404, "GROUP_NOT_FOUND")


@pytest.mark.parametrize("token", [None, "tly_not-a-key"])
def test_no_valid_user_token_is_401(sunbird, scene, token):
    status, body = sunbird.call("post", AGG, agg_request(scene.group_id), user_token=token)

    assert (status, body) == (401, failed("UNAUTHORIZED_USER", "You are not authorized.", "UNAUTHORIZED"))


def test_no_client_key_is_401(api_client, u1, scene):
    response = api_client.post(
        AGG, agg_request(scene.group_id), format="json", HTTP_X_AUTHENTICATED_USER_TOKEN=u1.token
    )

    assert (response.status_code, response.json()["params"]["err"]) == (401, "UNAUTHORIZED_USER")
    assert response["WWW-Authenticate"] == "Bearer"


def test_a_caller_outside_the_group_is_403(sunbird, scene):
    outsider = api_key_for(scene.users["dan"])

    status, body = sunbird.call("post", AGG, agg_request(scene.group_id), user_token=outsider)

    message = "Only the group's members may read its aggregates."
    assert (status, body) == (403, failed("NOT_GROUP_MEMBER", message, "FORBIDDEN"))


def test_a_member_and_staff_may_read_it(sunbird, scene):
    for reader in (scene.users["bob"], SysadminFactory(), UserFactory(is_staff=True)):
        status, body = sunbird.call("post", AGG, agg_request(scene.group_id), user_token=api_key_for(reader))

        assert (status, body["result"]["activity"]["agg"][0]["value"]) == (200, 2)


@pytest.mark.django_db(transaction=True)
def test_removing_a_member_or_the_activity_changes_the_next_response(sunbird, u1, scene):
    sunbird.call("post", AGG, agg_request(scene.group_id), user_token=u1.token)  # cached now
    remove = {"request": {"groupId": scene.group_id, "members": {"remove": [str(scene.users["ann"].public_id)]}}}

    sunbird.call("patch", UPDATE, remove, user_token=u1.token)
    status, body = sunbird.call("post", AGG, agg_request(scene.group_id), user_token=u1.token)

    now = body["result"]["activity"]["agg"][0]["lastUpdatedOn"]  # Bob's metrics have no time yet
    assert (status, body) == (
        200,
        ok("api.group.activity.agg", scene.result(ann_and_bob(scene)[1:], count=1, updated=now)),
    )
    activities = {"request": {"groupId": scene.group_id, "activities": {"remove": [COURSE]}}}
    sunbird.call("patch", UPDATE, activities, user_token=u1.token)
    status, body = sunbird.call("post", AGG, agg_request(scene.group_id), user_token=u1.token)
    assert (status, body["result"]["members"], body["result"]["activity"]["agg"][0]["value"]) == (200, [], 0)


@pytest.mark.django_db(transaction=True)
def test_a_refresh_changes_the_next_response(sunbird, u1, scene):
    sunbird.call("post", AGG, agg_request(scene.group_id), user_token=u1.token)  # cached now
    tracking_lines_ingest(lines=[scene.bob.completion(at(30), "h1")], source="test")

    activity_aggregates_refresh(first=DAY, last=DAY)
    _, body = sunbird.call("post", AGG, agg_request(scene.group_id), user_token=u1.token)

    bob = body["result"]["members"][1]
    assert bob["agg"][0] == {"metric": "completedCount", "value": 1.0, "lastUpdatedOn": ms(at(30))}


def test_the_endpoint_reads_a_group_of_150_in_bounded_queries(sunbird, u1, django_assert_num_queries):
    learners = [Learner(f"learner{n:03d}", 1000 + n, COURSE) for n in range(149)]
    tracking_lines_ingest(lines=[learner.enrol(at(n)) for n, learner in enumerate(learners)], source="test")
    activity_aggregates_refresh(first=DAY, last=DAY)
    users = get_user_model().objects.filter(username__startswith="learner")
    group = group_create(
        actor=u1.user, name="Big", members=[MemberSpec(str(user.public_id)) for user in users],
        activities=[ActivitySpec(COURSE, "Course")],
    ).group  # fmt: skip
    request = agg_request(str(group.public_id))
    sunbird.call("post", AGG, agg_request(str(group.public_id), OTHER), user_token=u1.token)  # keys touched

    # the client and user keys + the group + its activity + its members with their users + their aggregate rows,
    # within the POST's transaction (a savepoint and its release inside the test's own transaction)
    with django_assert_num_queries(7):
        status, body = sunbird.call("post", AGG, request, user_token=u1.token)
    # cached: the keys only, within the POST's transaction
    with django_assert_num_queries(3):
        cached_status, cached = sunbird.call("post", AGG, request, user_token=u1.token)

    assert (cached_status, cached["result"]["members"]) == (status, body["result"]["members"])

    assert (status, len(body["result"]["members"]), body["result"]["activity"]["agg"][0]["value"]) == (200, 149, 149)


def test_the_member_table_as_csv(sunbird, u1, scene):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {sunbird.client_key}", "HTTP_X_AUTHENTICATED_USER_TOKEN": u1.token}
    body = json.dumps(agg_request(scene.group_id))

    by_accept = sunbird.http.post(AGG, data=body, content_type="application/json", HTTP_ACCEPT="text/csv", **headers)
    by_format = sunbird.http.post(f"{AGG}?format=csv", data=body, content_type="application/json", **headers)

    ann, bob = (str(scene.users[name].public_id) for name in ("ann", "bob"))
    expected = (
        "groupId,activityId,activityType,userId,name,role,status,completedCount,score\r\n"
        f"{scene.group_id},{COURSE},Course,{ann},Ann Learner,member,active,2.0,2.0\r\n"
        f"{scene.group_id},{COURSE},Course,{bob},Bob Learner,member,active,0.0,0.0\r\n"
    )
    for response in (by_accept, by_format):
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        assert response["Content-Disposition"] == 'attachment; filename="api.group.activity.agg.csv"'
        assert response.content.decode() == expected


def test_an_error_stays_json_when_csv_is_asked_for(sunbird, u1):
    response = sunbird.http.post(
        f"{AGG}?format=csv", data="{}", content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {sunbird.client_key}", HTTP_X_AUTHENTICATED_USER_TOKEN=u1.token,
    )  # fmt: skip

    message = "Requested data for this operation is not valid."
    assert (response.status_code, response.json()) == (400, failed("INVALID_REQUESTED_DATA", message, "CLIENT_ERROR"))


def test_group_agg_answers_every_activity_of_the_group(sunbird, u1, scene):
    update = {"request": {"groupId": scene.group_id, "activities": {"add": [{"id": OTHER, "type": "Course"}]}}}
    sunbird.call("patch", UPDATE, update, user_token=u1.token)

    status, body = sunbird.call("post", GROUP_AGG, {"request": {"groupId": scene.group_id}}, user_token=u1.token)

    course = scene.result(ann_and_bob(scene), count=2, updated=ms(at(7)))
    other = body["result"]["activities"][1]
    expected = {
        "groupId": scene.group_id,
        "activities": [
            {"activity": course["activity"], "members": course["members"]},
            {"activity": {"id": OTHER, "type": "Course", "agg": other["activity"]["agg"]}, "members": []},
        ],
    }
    assert (status, body) == (200, ok("api.group.agg", expected))
    assert other["activity"]["agg"][0]["value"] == 0


def test_group_agg_validation_and_access(sunbird, scene):
    status, body = sunbird.call(
        "post", GROUP_AGG, {"request": {"name": "x"}}, user_token=api_key_for(scene.users["bob"])
    )
    assert (status, body) == (400, failed("GROUP_ID_MISSING", "GroupId is mandatory.", "CLIENT_ERROR", "api.group.agg"))

    outsider = api_key_for(scene.users["dan"])
    status, body = sunbird.call("post", GROUP_AGG, {"request": {"groupId": scene.group_id}}, user_token=outsider)
    assert (status, body["params"]["err"]) == (403, "NOT_GROUP_MEMBER")


def test_the_native_view_of_a_group_s_aggregates(api_client, u1, scene):
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {u1.token}")

    response = api_client.get(f"/api/v1/groups/{scene.group_id}/activity-aggregates/")

    ann = scene.users["ann"]
    assert response.status_code == 200
    assert response.json() == [
        {
            "group": scene.group_id,
            "activity_id": COURSE,
            "activity_type": "Course",
            "enrolment_count": 2,
            "last_updated": "2026-10-05T09:07:00Z",
            "members": [
                {
                    "user": str(ann.public_id),
                    "name": "Ann Learner",
                    "role": "member",
                    "status": "active",
                    "metrics": [
                        {"metric": "completedCount", "value": 2.0, "last_updated": "2026-10-05T09:07:00Z"},
                        {"metric": "score", "value": 2.0, "last_updated": "2026-10-05T09:01:00Z"},
                    ],
                },
                {
                    "user": str(scene.users["bob"].public_id),
                    "name": "Bob Learner",
                    "role": "member",
                    "status": "active",
                    "metrics": [
                        {"metric": "completedCount", "value": 0.0, "last_updated": None},
                        {"metric": "score", "value": 0.0, "last_updated": None},
                    ],
                },
            ],
        }
    ]


def test_the_native_view_refuses_outsiders_and_unknown_groups(api_client, scene):
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {api_key_for(scene.users['dan'])}")

    outside = api_client.get(f"/api/v1/groups/{scene.group_id}/activity-aggregates/")
    unknown = api_client.get("/api/v1/groups/b0c4a645-807e-41c7-972e-5c48c5b5e5e7/activity-aggregates/")

    assert (outside.status_code, outside.json()["code"]) == (403, "not_group_member")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "group_not_found")
