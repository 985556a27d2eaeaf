"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import settings

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
