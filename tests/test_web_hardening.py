"""What every response and the admin login carry: no-store on authenticated answers, a Content-Security-Policy on
pages, a login rate limit; and plain log lines that user text cannot forge."""

import logging
import sys

import pytest
from django.conf import settings

from apps.common.logs import EscapingFormatter
from apps.common.testing.factories import SysadminFactory, api_key_for

pytestmark = pytest.mark.django_db

AUTHENTICATED_CALLS = [
    ("get", "/api/v1/groups/", {}),
    ("get", "/api/v1/auth/whoami/", {}),
    ("post", "/api/group/v1/list", {"request": {"filters": {"userId": "x"}}}),
    ("get", "/api/3/action/help_show?name=help_show", {}),
    ("get", "/api/v0/courses/course-v1:A+B+C/enrollment/", {}),
    ("post", "/api/v1/groups/", {"name": 1}),
]


@pytest.mark.parametrize(("method", "path", "body"), AUTHENTICATED_CALLS)
def test_authenticated_api_answers_are_not_stored_by_any_cache(api_client, method, path, body):
    key = api_key_for(SysadminFactory())
    headers = {"HTTP_AUTHORIZATION": f"Token {key}", "HTTP_X_AUTHENTICATED_USER_TOKEN": key}
    if path.startswith("/api/group/"):
        headers["HTTP_AUTHORIZATION"] = f"Bearer {key}"

    response = getattr(api_client, method)(path, body, format="json", **headers)

    assert set(response["Cache-Control"].replace(" ", "").split(",")) >= {"no-store", "private"}


@pytest.mark.parametrize("path", ["/admin/login/", "/api/docs/", "/api/redoc/", "/healthz"])
def test_pages_carry_a_content_security_policy(client, path):
    policy = client.get(path)["Content-Security-Policy"]

    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy


def test_only_the_docs_pages_allow_their_inline_loader_script(client):
    assert "'unsafe-inline'" in client.get("/api/docs/")["Content-Security-Policy"].split("script-src")[1]
    assert "script-src 'self';" in client.get("/admin/login/")["Content-Security-Policy"] + ";"


@pytest.mark.parametrize("wrong_attempts", [settings.AXES_FAILURE_LIMIT, settings.AXES_FAILURE_LIMIT + 3])
def test_the_admin_login_is_locked_after_repeated_failures(client, wrong_attempts):
    staff = SysadminFactory(username="staffer")
    answers = [
        client.post("/admin/login/", {"username": "staffer", "password": f"wrong-{n}"}).status_code
        for n in range(wrong_attempts)
    ]

    locked = client.post("/admin/login/", {"username": staff.username, "password": "secret-pass-123"})

    assert answers[: settings.AXES_FAILURE_LIMIT - 1] == [200] * (settings.AXES_FAILURE_LIMIT - 1)
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_admin_login_works_below_the_limit(client):
    SysadminFactory(username="staffer")
    client.post("/admin/login/", {"username": "staffer", "password": "wrong"})

    response = client.post("/admin/login/", {"username": "staffer", "password": "secret-pass-123"})

    assert response.status_code == 302


@pytest.mark.parametrize(
    "user_text",
    ["evil\n2026-01-01 00:00:00 INFO tally forged", "cr\rreturn", "tab\tand\x1b[31mescape", "nul\x00", "del\x7f"],
)
def test_a_plain_log_record_is_one_line_whatever_the_user_wrote(user_text):
    record = logging.LogRecord("tally", logging.INFO, __file__, 1, "group %s created by %s", (user_text, "u"), None)

    line = EscapingFormatter("%(levelname)s %(name)s %(message)s").format(record)

    assert line.count("\n") == 0
    assert all(ord(char) >= 0x20 and char != "\x7f" for char in line)
    assert line.startswith("INFO tally group ")


def test_a_traceback_still_follows_its_line():
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("tally", logging.ERROR, __file__, 1, "failed:\n%s", ("x",), sys.exc_info())

    text = EscapingFormatter("%(message)s").format(record)

    assert text.splitlines()[0] == "failed:\\nx"
    assert "ValueError: boom" in text
