"""Shared fixtures."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from tests.helpers import solve_checked
from wachtplanner.domain.scenario import Scenario
from wachtplanner.io.scenario_files import load_scenario
from wachtplanner.result import Result

ROOT = Path(__file__).resolve().parent.parent
settings.register_profile("ci", derandomize=True, deadline=None, max_examples=25)
settings.load_profile("ci")

# Fixtures that take seconds to make, each made once per test process that asks for it. Under
# `pytest -n 2 --dist loadgroup` (scripts/test) the tests that share one go to the same process,
# so it is made once in all rather than once on each: the session-wide ones by name, the
# module-wide ones per test file.
SESSION_FIXTURES = {"demo_solved"}
MODULE_FIXTURES = {
    "browser",
    "circle",
    "free_soft",
    "one_worker",
    "postgres_url",
    "quarter",
    "runs",
    "server",
}


def pytest_itemcollected(item: pytest.Item) -> None:
    """Mark a test that uses an expensive shared fixture with its ``xdist_group`` (as it is
    collected: xdist reads the groups when the collection is modified)."""
    names = set(getattr(item, "fixturenames", ()))
    if shared := sorted(names & SESSION_FIXTURES):
        item.add_marker(pytest.mark.xdist_group(shared[0]))
    elif names & MODULE_FIXTURES:
        item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))


@pytest.fixture
def scenarios_dir() -> Path:
    """The shipped example scenarios."""
    return ROOT / "scenarios"


@pytest.fixture
def data_dir() -> Path:
    """Test data: invalid scenario files and golden outputs."""
    return ROOT / "tests" / "data"


@pytest.fixture(scope="session")
def demo_solved() -> tuple[Scenario, Result]:
    """The demo scenario and its checked roster, solved once for the whole test session."""
    scenario = load_scenario(ROOT / "scenarios" / "demo.yaml")
    return scenario, solve_checked(scenario)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    """A headless Chromium driven through chromedriver (Debian's: scripts/install-browser).

    Its temporary folder is pytest's, so the singleton folder Chromium leaves behind on every
    start (`org.chromium.Chromium.*`) goes with pytest's clean-up, not into the machine's /tmp.
    """
    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    assert chromium, "install Debian's chromium: scripts/install-browser"
    assert driver_path, "install Debian's chromium-driver: scripts/install-browser"
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1100,1400"):
        options.add_argument(flag)
    # A Flemish GP's browser: the app answers in Dutch unless asked otherwise.
    options.add_experimental_option("prefs", {"intl.accept_languages": "nl-BE,nl"})
    env = {**os.environ, "TMPDIR": str(tmp_path_factory.mktemp("chromium"))}
    driver = webdriver.Chrome(service=Service(driver_path, env=env), options=options)
    yield driver
    driver.quit()
