"""Fixtures for the dashboard: a real gunicorn, headless Debian Chromium driven by Selenium, signed-in clients."""
from __future__ import annotations

import os
import re

import pytest

from tests.e2e.conftest import gunicorn_server

CHROMIUM = os.environ.get("CHROMIUM_BINARY", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
NO_CHROMIUM = "no Chromium: install chromium and chromium-driver (Debian: apt-get install chromium chromium-driver)"


@pytest.fixture
def live_server(app):
    with gunicorn_server(app, redis_url=app.config["REDIS_URL"]) as base:
        yield base


@pytest.fixture
def chromium(tmp_path):
    """Headless Debian Chromium that asks for Vietnamese first, as a browser in the province would."""
    if not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)):
        pytest.skip(NO_CHROMIUM)
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("no selenium: pip install -r requirements-dev.txt")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1400,1000", "--lang=vi", f"--user-data-dir={tmp_path / 'chromium-profile'}",
                     "--no-first-run", "--disable-background-networking", "--disable-component-update"):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"intl.accept_languages": "vi-VN,vi"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def csrf_from(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "no CSRF token in the form"
    return match.group(1)


@pytest.fixture
def dashboard_login(client):
    """Sign a user in through the dashboard's form (CSRF token included); returns the redirect response."""

    def sign_in(username: str, password: str):
        page = client.get("/dashboard/login").get_data(as_text=True)
        return client.post("/dashboard/login", data={"username": username, "password": password,
                                                      "csrf_token": csrf_from(page)})

    return sign_in
