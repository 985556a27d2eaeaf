"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import settings

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
