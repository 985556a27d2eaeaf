"""Shared fixtures."""

from __future__ import annotations

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
def browser() -> Iterator[webdriver.Chrome]:
    """A headless Chromium driven through chromedriver (Debian's: scripts/install-browser)."""
    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    assert chromium, "install Debian's chromium: scripts/install-browser"
    assert driver_path, "install Debian's chromium-driver: scripts/install-browser"
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1100,1400"):
        options.add_argument(flag)
    # A Flemish GP's browser: the app answers in Dutch unless asked otherwise.
    options.add_experimental_option("prefs", {"intl.accept_languages": "nl-BE,nl"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    yield driver
    driver.quit()
