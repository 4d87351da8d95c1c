"""Groups written through Sunbird and the native API appear in getGroups, with the same member counts."""

from apps.common.testing.factories import UserFactory, api_key_for
from apps.groups.models import Group, Membership, MemberStatus


def test_groups_made_through_sunbird_and_native_appear_with_the_same_member_counts(api_client, newspark, settings):
    app_key = api_key_for(UserFactory(username="portal-app"))
    teacher = UserFactory(username="teacher")
    teacher_key = api_key_for(teacher)
    learners = [UserFactory() for _ in range(3)]
    sunbird_headers = {"HTTP_AUTHORIZATION": f"Bearer {app_key}", "HTTP_X_AUTHENTICATED_USER_TOKEN": teacher_key}
    members = [{"userId": str(user.public_id), "role": "member"} for user in learners]
    sunbird_id = api_client.post(
        "/api/group/v1/create", {"request": {"name": "Sunbird made", "members": members}}, format="json",
        **sunbird_headers,
    ).json()["result"]["groupId"]  # fmt: skip
    native = api_client.post(
        "/api/v1/groups/", {"name": "Native made"}, format="json", HTTP_AUTHORIZATION=f"Token {teacher_key}"
    ).json()
    # when a member leaves the Sunbird group (a soft removal)
    api_client.patch(
        "/api/group/v1/update",
        {"request": {"groupId": sunbird_id, "members": {"remove": [str(learners[0].public_id)]}}},
        format="json",
        **sunbird_headers,
    )

    listed = newspark.result(vhost=settings.TALLY_DEFAULT_VHOST, sort="name ASC", includeTotalCount="true")
    sunbird_read = api_client.get(f"/api/group/v1/read/{sunbird_id}?fields=members", **sunbird_headers).json()
    native_read = api_client.get(f"/api/v1/groups/{native['id']}/", HTTP_AUTHORIZATION=f"Token {teacher_key}").json()
    sunbird_group = Group.objects.get(public_id=sunbird_id)

    assert [(item["id"], item["name"], item["memberCount"]) for key, item in listed.items() if key.isdigit()] == [
        (str(native["number"]), "Native made", str(native_read["member_count"])),
        (str(sunbird_group.pk), "Sunbird made", str(len(sunbird_read["result"]["members"]))),
    ]
    assert listed["totalCount"] == "2"
    assert len(sunbird_read["result"]["members"]) == 3  # the teacher and two learners
    assert Membership.objects.filter(group=sunbird_group, status=MemberStatus.ACTIVE).count() == 3


def test_demo_groups_carry_tree_numbers(db):
    from tqdm import tqdm

    from apps.common.demo import demo_users_seed
    from apps.groups.demo import demo_groups_seed
    from tests.newspark.test_tree_numbers import expected_numbers, stored_numbers

    demo_users_seed(progress=tqdm(disable=True))
    demo_groups_seed(progress=tqdm(disable=True))
    vhost = Group.objects.values_list("vhost", flat=True).first()
    assert stored_numbers(vhost) == expected_numbers(vhost)
