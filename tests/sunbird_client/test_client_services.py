"""Sunbird's own client library (@project-sunbird/client-services, pinned in package.json) drives Tally's Sunbird
group API unchanged, through a live server: every group call, the form read behind the group page, the activity
aggregation, managed users, and the client's own error on a bad request. `make test` installs Node and the package
(`npm ci`)."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from apps.common.services import user_manager_set
from apps.common.testing.factories import UserFactory, api_key_for
from apps.groups.tests.factories import default_forms_ensure

pytestmark = pytest.mark.live

HERE = Path(__file__).parent


def _person(username: str) -> dict:
    user = UserFactory(username=username, first_name=username.title())
    return {"id": str(user.public_id), "token": api_key_for(user), "user": user}


@pytest.fixture
def scenario(transactional_db):
    default_forms_ensure()
    people = {name: _person(name) for name in ("owner", "member", "other", "managed")}
    user_manager_set(user=people["managed"]["user"], manager=people["owner"]["user"])
    return {
        "clientKey": api_key_for(UserFactory(username="portal-app"), name="portal"),
        **{name: {"id": person["id"], "token": person["token"]} for name, person in people.items()},
        "courseId": "course-v1:TallyX+MATH101+2026_T1",
    }


def test_sunbird_client_services_drives_the_group_api(live_server, scenario):
    node = shutil.which("node")
    assert node, "node is missing: make test installs Debian's nodejs"
    assert (HERE / "node_modules" / "@project-sunbird" / "client-services").is_dir(), "run make test (npm ci)"
    env = {
        **os.environ,
        "TALLY_URL": live_server.url,
        "TALLY_CLIENT_KEY": scenario.pop("clientKey"),
        "TALLY_SCENARIO": json.dumps(scenario),
        "NODE_OPTIONS": "--no-deprecation",
    }

    run = subprocess.run(
        [node, "scenario.js"], cwd=HERE, env=env, capture_output=True, text=True, timeout=120, check=False
    )

    assert run.returncode == 0, f"{run.stdout}\n{run.stderr}"
    assert "ok deleteById" in run.stdout
