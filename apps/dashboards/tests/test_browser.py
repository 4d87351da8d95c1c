"""The staff pages in a real browser: Playwright driving Debian's Chromium against a live server on the demo data."""

import os
import shutil
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.db import connections
from django.urls import reverse
from playwright.sync_api import sync_playwright
from pytest_django.live_server_helper import LiveServer

from apps.dashboards.figures import COURSE_FIGURES
from apps.dashboards.tests.conftest import COURSE_ID, STAFF_PASSWORD

# django_db: the module's committed demo data (the live server's own connection reads it) is set up for the test
# database that the mark asks for.
# On PostgreSQL only: under SQLite the live server shares the test's one in-memory connection across threads, where a
# write's IMMEDIATE transaction finds the table locked; SQLite's concurrency is tested on a real file
# (tests/test_sqlite_concurrency.py) and the pages themselves on both databases (test_pages.py).
pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db]
PHONE = {"width": 390, "height": 844}
# Each page as the test saw it, for people to look at after a run (var/ is not committed).
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
# Pages whose charts the test counts: every course figure has data in the demo, a job page draws two charts and a
# dataset's node one.
CHARTS = {"course": len(COURSE_FIGURES), "job": 2, "dataset": 1}

EVERY_CHART_HAS_DATA = """() => Array.from(document.querySelectorAll("canvas[data-chart]")).map((canvas) => {
    const chart = Chart.getChart(canvas);
    const values = chart ? chart.data.datasets.flatMap((dataset) => dataset.data) : [];
    return canvas.width > 0 && canvas.height > 0 && values.some((value) => value > 0);
})"""


@pytest.fixture(scope="module")
def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        if os.environ.get("TALLY_REQUIRE_SERVICES") == "1":
            pytest.fail("Debian's chromium is not installed (make test installs it)")
        pytest.skip("needs Debian's chromium (make test installs it)")
    return path


@pytest.fixture(scope="module")
def site(demo):
    server = LiveServer("127.0.0.1:0")
    yield server.url
    server.stop()


@pytest.fixture(scope="module")
def browser(chromium, site):
    # Playwright's sync API keeps an event loop on this thread, which Django takes for an async context; the ORM
    # calls the tests make here are synchronous all the same.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        # Root in a container has no user namespace for Chromium's sandbox.
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        yield browser
        browser.close()
        # Django keeps connections per context, and the loop made one of its own: closed here, it does not hold the
        # test database open when that is dropped.
        connections.close_all()


@pytest.fixture
def console_errors():
    return []


def _page(browser, console_errors, **context_options):
    context = browser.new_context(accept_downloads=True, **context_options)
    page = context.new_page()
    page.on("console", lambda message: message.type == "error" and console_errors.append(message.text))
    page.on("pageerror", lambda error: console_errors.append(str(error)))
    return page


def _log_in(page, site, demo):
    page.goto(f"{site}{reverse('admin:login')}")
    page.fill("#id_username", demo.staff.username)
    page.fill("#id_password", STAFF_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{site}{reverse('admin:index')}")


@pytest.fixture
def staff_page(browser, site, demo, console_errors):
    page = _page(browser, console_errors)
    _log_in(page, site, demo)
    yield page
    page.context.close()
    assert console_errors == []


def test_every_page_renders_and_every_chart_is_drawn_with_data(staff_page, site, demo):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name, path in demo.urls().items():
        if name == "course-csv":
            continue
        response = staff_page.goto(f"{site}{path}")
        staff_page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)

        assert response.status == 200, name
        drawn = staff_page.evaluate(EVERY_CHART_HAS_DATA)
        assert len(drawn) == CHARTS.get(name, 0), name
        assert all(drawn), name


def test_drill_down_from_a_group_to_a_member_of_a_group_under_it(staff_page, site, demo):
    staff_page.goto(f"{site}{demo.urls()['group']}")
    child = staff_page.locator("#children tbody a").first
    child_name = child.inner_text()

    child.click()
    assert staff_page.locator("h1").inner_text() == child_name
    assert demo.group.name in staff_page.locator(".breadcrumbs").inner_text()
    member = staff_page.locator("#members tbody a").first
    member_name = member.inner_text()
    member.click()

    assert staff_page.locator("h1").inner_text() == member_name
    assert child_name in staff_page.locator("#groups tbody").inner_text()


def test_drill_down_from_a_dataset_s_root_to_a_class_and_one_of_its_learners(staff_page, site, demo):
    staff_page.goto(f"{site}{demo.urls()['dataset']}")
    assert "completed" in staff_page.locator("#job").inner_text()

    department = staff_page.locator("#rows tbody a").first
    department_name = department.inner_text()
    department.click()
    assert staff_page.locator("#own h2").inner_text() == department_name
    a_class = staff_page.locator("#rows tbody a").first
    class_name = a_class.inner_text()
    a_class.click()
    assert staff_page.locator("#node-path a").all_inner_texts() == ["All", department_name]
    assert staff_page.locator("#node-path strong").inner_text() == class_name
    assert staff_page.evaluate(EVERY_CHART_HAS_DATA) == [True]
    learner = staff_page.locator("#rows tbody a").first
    learner_name = learner.inner_text()
    learner.click()

    assert staff_page.locator("h1").inner_text() == learner_name
    assert class_name in staff_page.locator("#groups tbody").inner_text()


def test_group_page_lists_each_activity_s_enrolled_members_with_their_progress(staff_page, site, demo):
    staff_page.goto(f"{site}{demo.urls()['class']}")

    progress = staff_page.locator("#activities table.progress", has=staff_page.locator("td a")).first
    first_row = progress.locator("tbody tr").first.locator("td").all_inner_texts()
    assert first_row[0]
    assert float(first_row[3]) >= 0  # progress in percent: the demo courses have their leaf contents set
    progress.locator("th", has_text="score").click()  # sortable by any column
    scores = [float(cell) for cell in progress.locator("tbody tr td:nth-child(5)").all_inner_texts()]
    assert scores == sorted(scores) or scores == sorted(scores, reverse=True)


def test_a_downloaded_csv_has_the_figures_the_api_serves(staff_page, site, demo):
    window = demo.window(days=31)
    staff_page.goto(f"{site}{demo.urls()['course']}?start={window['start']}&end={window['end']}")
    staff_page.locator("#enrollment_mode summary").click()

    with staff_page.expect_download() as download:
        staff_page.locator("#enrollment_mode a", has_text="CSV").click()
    downloaded = Path(download.value.path()).read_bytes()
    api = requests.get(
        f"{site}/api/v0/courses/{COURSE_ID}/enrollment/mode.csv",
        params={"start_date": window["start"], "end_date": window["end"]},
        headers={"Authorization": f"Token {demo.staff_key}"},
        timeout=30,
    )

    assert api.status_code == 200
    assert downloaded == api.content
    assert downloaded.count(b"\r\n") == 32  # the header and the window's 31 days


def test_the_pages_fit_a_phone_screen(browser, site, demo, console_errors):
    page = _page(browser, console_errors, viewport=PHONE)
    _log_in(page, site, demo)

    for name in ("index", "course", "group", "class", "member", "dataset", "job"):
        page.goto(f"{site}{demo.urls()[name]}")

        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], name
    assert console_errors == []


def test_an_anonymous_visitor_gets_the_admin_login(browser, site, demo, console_errors):
    page = _page(browser, console_errors)

    page.goto(f"{site}{demo.urls()['course']}")

    assert page.url.startswith(f"{site}{reverse('admin:login')}")
    assert page.locator("#id_username").is_visible()
