from datetime import UTC, datetime

import pytest

from apps.common.testing.factories import SysadminFactory, UserFactory, api_key_for
from apps.groups.tests.factories import GroupFactory


def moment(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


@pytest.fixture
def known_groups(db):
    """Five groups whose counts are known: created on 2024-01-10, 2024-02-20 (two), 2024-03-05 and 2025-06-01."""
    owner = UserFactory(username="owner")
    rows = [
        ("alpha", "Alpha Lab", "2024-01-10T08:00:00", "active", "workspace", True, False, owner),
        ("beta", "Beta Team", "2024-02-20T00:00:00", "active", "group", False, False, None),
        ("gamma", "Gamma Lab", "2024-02-20T23:59:59", "suspended", "group", True, True, None),
        ("delta", "Delta", "2024-03-05T12:00:00", "inactive", "workspace", False, False, owner),
        ("epsilon", "Epsilon Lab", "2025-06-01T09:30:00", "active", "group", True, False, None),
    ]
    groups = {}
    for slug, title, created, status, kind, open_access, netl_only, group_owner in rows:
        groups[slug] = GroupFactory(
            slug=slug,
            name=title,
            created_at=moment(created),
            updated_at=moment(created),
            status=status,
            type=kind,
            open_access=open_access,
            netl_only=netl_only,
            owner=group_owner,
            project_number=f"PN-{slug[:2].upper()}",
        )
    return groups


@pytest.fixture
def sysadmin_key(db):
    return api_key_for(SysadminFactory(username="netl-admin"))


@pytest.fixture
def plain_key(db):
    return api_key_for(UserFactory(username="researcher"))
