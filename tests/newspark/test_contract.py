"""Whole responses of the Newspark groups service against the seed's shapes (XML and JSON)."""

import json
from datetime import UTC, datetime

from apps.groups.models import Comment, Media, ModerationStatus
from apps.groups.tests.factories import GroupFactory, MembershipFactory

CREATED = datetime(2012, 2, 3, 14, 25, 30, tzinfo=UTC)


def seed_tree():
    """The seed's sample: a parent with two unmoderated children, one with an `other` map."""
    parent = GroupFactory(vhost=42, name="Parent", created_at=CREATED)
    first = GroupFactory(
        vhost=42, parent=parent, name="First child", moderation_status=ModerationStatus.UNMODERATED,
        created_at=datetime(2012, 2, 3, 14, 25, 11, tzinfo=UTC), other={"key": "value"},
    )  # fmt: skip
    second = GroupFactory(
        vhost=42, parent=parent, name="Second & <child>", moderation_status=ModerationStatus.UNMODERATED,
        created_at=CREATED, latitude=43.6355, longitude=-79.4245, email="upload@example.org",
    )  # fmt: skip
    return parent, first, second


def item_xml(group, *, indent="  ", **overrides) -> str:
    fields = {
        "id": group.pk, "name": group.name, "description": "", "note": "", "logo": "0", "logo_height": "0",
        "logo_width": "0", "publicUrl": "", "thumbUrl": "", "url": "",
        "created": group.created_at.strftime("%Y-%m-%d %H:%M:%S"), "createdBy": group.created_by_id,
        "memberCount": "0", "mediaCount": "0", "approvedMediaCount": "0", "notDeniedMediaCount": "0",
        "commentCount": "0", "approvedCommentCount": "0", "notDeniedCommentCount": "0", "geo_longitude": "0",
        "geo_latitude": "0", "moderationStatus": group.moderation_status, "parentGroup": group.parent_id or 0,
        "address": "", "city": "", "country": "", "state": "", "postalcode": "", "newMediaEmailTemplateID": "0",
        "host": "", "groupType": "1", "vhost": group.vhost, "other": "", "custom1": "", "treeleft": "",
        "treeright": "", "email": "", "distancefromcenter": "",
    }  # fmt: skip
    group.refresh_from_db()
    fields.update(treeleft=group.tree_left, treeright=group.tree_right, **overrides)
    lines = [f"{indent}<item>"]
    for name, value in fields.items():
        value = str(value)
        if value.lstrip().startswith("<"):
            lines.append(f"{indent}  <{name}>\n{value}\n{indent}  </{name}>")
        else:
            lines.append(f"{indent}  <{name}>{value}</{name}>" if value else f"{indent}  <{name}/>")
    lines.append(f"{indent}</item>")
    return "\n".join(lines)


def test_get_groups_xml_is_the_seed_shape(newspark):
    parent, first, second = seed_tree()
    MembershipFactory(group=first)
    response = newspark.call(
        transport="rest", vhost=42, includeTotalCount="true", moderationStatus="all", childGroupCount="true",
        **{"filters[includeChildren]": "true", "filters[parentGroupID]": parent.pk},
    )  # fmt: skip
    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml; charset=utf-8"
    expected = "\n".join(
        [
            '<?xml version="1.0" encoding="UTF-8"?>',
            "<result>",
            "  <childGroupCount>2</childGroupCount>",
            item_xml(
                second,
                name="Second &amp; &lt;child&gt;",
                geo_longitude="-79.4245",
                geo_latitude="43.6355",
                email="upload@example.org",
            ),
            item_xml(first, memberCount="1", other="      <key>value</key>"),
            "  <totalCount>2</totalCount>",
            "</result>",
            "",
        ]
    )
    assert response.content.decode() == expected


def test_get_groups_json_is_the_seed_shape(newspark):
    parent, first, second = seed_tree()
    Media.objects.create(group=first, moderation_status="accepted")
    Media.objects.create(group=first, moderation_status="denied")
    Comment.objects.create(group=first, body="hi", moderation_status="unmoderated")
    logo = Media.objects.create(
        group=first, width=640, height=480, url="https://cdn.example.org/l.jpg",
        thumbnail_url="https://cdn.example.org/l-t.jpg",
    )  # fmt: skip
    first.logo = logo.pk
    first.save()
    result = newspark.result(
        vhost=42, includeTotalCount="1", moderationStatus="unmoderated", childGroupCount="1", sort="created ASC",
        **{"filters[parentGroupID]": parent.pk},
    )  # fmt: skip
    first.refresh_from_db()
    assert result == {
        "0": {
            "id": str(first.pk), "name": "First child", "description": "", "note": "", "logo": str(logo.pk),
            "logo_height": "480", "logo_width": "640", "publicUrl": "https://cdn.example.org/l.jpg",
            "thumbUrl": "https://cdn.example.org/l-t.jpg", "url": "", "created": "2012-02-03 14:25:11",
            "createdBy": str(first.created_by_id), "memberCount": "0", "mediaCount": "3",
            "approvedMediaCount": "1", "notDeniedMediaCount": "2", "commentCount": "1", "approvedCommentCount": "0",
            "notDeniedCommentCount": "1", "geo_longitude": "0", "geo_latitude": "0", "moderationStatus": "unmoderated",
            "parentGroup": str(parent.pk), "address": "", "city": "", "country": "", "state": "", "postalcode": "",
            "newMediaEmailTemplateID": "0", "host": "", "groupType": "1", "vhost": "42", "other": {"key": "value"},
            "custom1": "", "treeleft": str(first.tree_left), "treeright": str(first.tree_right), "email": "",
            "distancefromcenter": "",
        },
        "1": {
            "id": str(second.pk), "name": "Second & <child>", "description": "", "note": "", "logo": "0",
            "logo_height": "0", "logo_width": "0", "publicUrl": "", "thumbUrl": "", "url": "",
            "created": "2012-02-03 14:25:30", "createdBy": str(second.created_by_id), "memberCount": "0",
            "mediaCount": "0", "approvedMediaCount": "0", "notDeniedMediaCount": "0", "commentCount": "0",
            "approvedCommentCount": "0", "notDeniedCommentCount": "0", "geo_longitude": "-79.4245",
            "geo_latitude": "43.6355", "moderationStatus": "unmoderated", "parentGroup": str(parent.pk),
            "address": "", "city": "", "country": "", "state": "", "postalcode": "", "newMediaEmailTemplateID": "0",
            "host": "", "groupType": "1", "vhost": "42", "other": [], "custom1": "", "treeleft": "4",
            "treeright": "5", "email": "upload@example.org", "distancefromcenter": "",
        },
        "childGroupCount": "2",
        "totalCount": "2",
    }  # fmt: skip


def test_empty_result_is_an_empty_php_array(newspark):
    assert newspark.result(vhost=404) == []
    response = newspark.call(transport="rest", vhost=404, includeTotalCount="true")
    assert response.content.decode() == (
        '<?xml version="1.0" encoding="UTF-8"?>\n<result>\n  <totalCount>0</totalCount>\n</result>\n'
    )


def test_errors_have_one_shape_per_format(newspark):
    response = newspark.call(transport="rest", vhost=1, pageSize=5001)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/xml; charset=utf-8"
    assert response.content.decode() == (
        '<?xml version="1.0" encoding="UTF-8"?>\n<error>\n  <code>invalid_argument</code>\n'
        "  <message>Invalid argument pageSize: Ensure this value is less than or equal to 5000.</message>\n"
        "</error>\n"
    )
    response = newspark.call(vhost=1, noLimit="true")
    assert (response.status_code, json.loads(response.content)) == (
        403,
        {
            "status": False,
            "error": {
                "code": "permission_denied",
                "message": "noLimit needs the groups.getGroupsNoLimit permission.",
            },
        },
    )
    assert newspark.error("getGroup", status=404, groupId=99999) == {
        "code": "group_not_found",
        "message": "Group not found.",
    }
    assert newspark.error(status=400) == {
        "code": "invalid_argument",
        "message": "Invalid argument vhost: This field is required.",
    }


def test_get_group_answers_one_item(newspark):
    _, first, _ = seed_tree()
    result = newspark.result("getGroup", groupId=first.pk)
    assert result["id"] == str(first.pk)
    assert result["other"] == {"key": "value"}
    assert (
        newspark.call("getGroup", transport="rest", groupId=first.pk)
        .content.decode()
        .startswith(
            f'<?xml version="1.0" encoding="UTF-8"?>\n<result>\n  <id>{first.pk}</id>\n  <name>First child</name>\n'
        )
    )


def test_get_group_tree_nests_children_and_drops_subtrees_that_fail_the_filter(newspark):
    root = GroupFactory(vhost=9, name="root")
    kept = GroupFactory(vhost=9, parent=root, name="kept")
    GroupFactory(vhost=9, parent=kept, name="grandchild")
    denied = GroupFactory(vhost=9, parent=root, name="denied", moderation_status=ModerationStatus.DENIED)
    GroupFactory(vhost=9, parent=denied, name="below denied")
    GroupFactory(vhost=9, name="second root", group_type=2)

    def names(result):
        return [
            (item["name"], names(item["children"]) if item["children"] else [])
            for key, item in result.items()
            if key.isdigit()
        ]

    assert names(newspark.result("getGroupTree", vhost=9)) == [
        ("root", [("kept", [("grandchild", [])])]),
        ("second root", []),
    ]
    assert names(newspark.result("getGroupTree", vhost=9, groupType=1, moderationStatus="all")) == [
        ("root", [("kept", [("grandchild", [])]), ("denied", [("below denied", [])])]),
    ]
    assert names(newspark.result("getGroupTree", vhost=9, parentGroup=kept.pk)) == [("grandchild", [])]
    xml = newspark.call("getGroupTree", transport="rest", vhost=9, parentGroup=kept.pk).content.decode()
    assert "<children/>" in xml
    assert "<name>grandchild</name>" in xml
