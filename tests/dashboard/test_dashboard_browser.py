"""The dashboard in headless Debian Chromium against a real gunicorn: sign in, read every figure, compare with
the API, filter, switch to English, save a screenshot."""
from __future__ import annotations

import json
import os
import urllib.request
from datetime import date
from pathlib import Path

from tests.conftest import PASSWORD
from tests.dashboard.page_figures import FIGURES_SCRIPT, assert_page_matches_api, expected_reports, one
from tests.dashboard.seeding import seed_province

WAIT_SECONDS = 30  # a bound on waiting for the page, never a measure of speed


def _api(base: str, authorization: str):
    def get_json(path: str) -> dict:
        request = urllib.request.Request(base + path, headers={"Authorization": authorization})
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200, path
            return json.loads(response.read())

    return get_json


def _check_against_api(driver, api, lang: str) -> tuple[list[dict], dict]:
    """Read every figure the browser shows and compare it with the API's answer for the page's own filters."""
    figures = driver.execute_script(FIGURES_SCRIPT)
    period = one(figures, figure="period")
    assert driver.find_element("css selector", "html").get_attribute("lang") == lang
    reports = expected_reports(api, date.fromisoformat(period["from"]), date.fromisoformat(period["to"]),
                               period["area"] or None)
    assert_page_matches_api(figures, reports, lang)
    return figures, reports


def test_dashboard_in_chromium_shows_the_apis_figures_filters_and_speaks_english(
        chromium, app, client, make_staff, live_server, tmp_path, capsys):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as until
    from selenium.webdriver.support.select import Select
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    seeded = seed_province(client, make_staff)
    api = _api(live_server, seeded.headers[seeded.manager]["Authorization"])
    wait = WebDriverWait(chromium, WAIT_SECONDS, ignored_exceptions=(WebDriverException,))

    def navigate(action, ready: str = "[data-figure=period]") -> None:
        """Do something that loads a new page, and wait until it is the new page that is there.

        The old document is marked with a property; the new one has none. While Chromium is between the two
        documents a command may fail (a stale element, or DevTools' "unhandled inspector error"), so the wait
        treats any WebDriver error as "not yet" rather than as an answer."""
        chromium.execute_script("window.__phananhOldPage = true;")
        action()
        wait.until(lambda driver: driver.execute_script(
            "return document.readyState === 'complete' && !window.__phananhOldPage"
            " && document.querySelector(arguments[0]) !== null;", ready))

    def click(selector: str):
        return lambda: chromium.find_element(By.CSS_SELECTOR, selector).click()

    # Not signed in: the dashboard sends the browser to the form, which is in Vietnamese (Accept-Language: vi).
    chromium.get(f"{live_server}/dashboard")
    wait.until(until.presence_of_element_located((By.CSS_SELECTOR, "[data-figure=login-form]")))
    assert "/dashboard/login" in chromium.current_url
    assert chromium.find_element(By.TAG_NAME, "h1").text == "Đăng nhập cán bộ"
    chromium.find_element(By.NAME, "username").send_keys(seeded.manager)
    chromium.find_element(By.NAME, "password").send_keys("not the password")
    navigate(click("[data-action=login]"), ready="[data-figure=login-error]")
    assert chromium.find_element(By.CSS_SELECTOR, "[data-figure=login-error]").text == \
        "Tên đăng nhập hoặc mật khẩu không đúng."
    chromium.find_element(By.NAME, "password").send_keys(PASSWORD)
    navigate(click("[data-action=login]"))
    cookie = chromium.get_cookie("phananh_session")
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Lax"

    # This month, the whole province: every figure equals the API's.
    month, reports = _check_against_api(chromium, api, "vi")
    period = one(month, figure="period")
    assert period["from"] == date.fromisoformat(period["to"]).replace(day=1).isoformat()
    assert reports["agency"]["totals"]["received"] > 0
    assert {f["agency"] for f in month if f["figure"] == "agency"} >= {"UBND-TPBN", "UBND-HYP", "NSBN"}

    # The area filter (huyện Yên Phong): other figures, still the API's for that area.
    Select(chromium.find_element(By.NAME, "area")).select_by_value("258")
    navigate(click("[data-action=apply]"))
    area, _ = _check_against_api(chromium, api, "vi")
    assert one(area, figure="period")["area"] == "258"
    assert one(area, figure="received")["value"] != one(month, figure="received")["value"]
    assert {f["agency"] for f in area if f["figure"] == "agency"} == {"UBND-HYP"}

    # The period preset (last 3 months, the area kept): more items, still the API's.
    navigate(click("[data-preset=last_3_months]"))
    quarter, _ = _check_against_api(chromium, api, "vi")
    assert one(quarter, figure="period")["area"] == "258"
    assert int(one(quarter, figure="received")["value"]) > int(one(area, figure="received")["value"])

    # English: the same figures written the English way, the words in English.
    navigate(click("[data-lang=en]"))
    english, _ = _check_against_api(chromium, api, "en")
    assert chromium.find_element(By.CSS_SELECTOR, "[data-action=apply]").text == "Apply"
    assert one(english, figure="received")["value"] == one(quarter, figure="received")["value"]

    # Back to the whole province (the form), then twelve months (a preset), back in Vietnamese.
    Select(chromium.find_element(By.NAME, "area")).select_by_value("")
    navigate(click("[data-action=apply]"))
    assert one(_check_against_api(chromium, api, "en")[0], figure="period")["area"] == ""
    navigate(click("[data-preset=last_12_months]"))
    navigate(click("[data-lang=vi]"))
    year, _ = _check_against_api(chromium, api, "vi")
    assert int(one(year, figure="received")["value"]) > int(one(month, figure="received")["value"])

    height = chromium.execute_script("return document.documentElement.scrollHeight")
    chromium.set_window_size(1400, height + 120)
    screenshot = Path(os.environ.get("DASHBOARD_SCREENSHOT") or tmp_path / "dashboard.png")
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    assert chromium.save_screenshot(str(screenshot)) and screenshot.stat().st_size > 10_000
    with capsys.disabled():  # shown in every run, not only when the test fails
        print(f"\ndashboard screenshot: {screenshot}")

    # Sign out: the form again, and the dashboard stays closed until the next sign-in.
    navigate(click("[data-action=logout]"), ready="[data-figure=login-form]")
    chromium.get(f"{live_server}/dashboard")
    wait.until(until.presence_of_element_located((By.CSS_SELECTOR, "[data-figure=login-form]")))
