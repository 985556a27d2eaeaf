"""Load a scenario from YAML or JSON, reporting every problem with the file's name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from wachtplanner.calendar import holiday_dates
from wachtplanner.domain.scenario import Scenario
from wachtplanner.exceptions import Issue, ScenarioError


class _Loader(yaml.SafeLoader):
    """Safe YAML that keeps dates as text, so a bad date is reported with its location."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _parse(path: Path, text: str) -> Any:
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ScenarioError(
                [Issue(f"{path}:{exc.lineno}:{exc.colno}", f"not valid JSON: {exc.msg}.")]
            ) from None
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError([Issue(where, f"not valid YAML: {problem}.")]) from None


def load_scenario(path: Path) -> Scenario:
    """Read and validate a scenario file (``.yaml``, ``.yml`` or ``.json``).

    Raises
    ------
    ScenarioError
        With every problem found, each located as ``FILE: path.inside[id].key``.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError([Issue(str(path), "file not found.")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError([Issue(str(path), f"cannot be read: {exc}.")]) from None
    data = _parse(path, text)
    if not isinstance(data, dict):
        raise ScenarioError(
            [Issue(str(path), "expected a mapping of scenario keys at the top level.")]
        )
    try:
        scenario = Scenario.model_validate(data)
        holiday_dates(scenario.holidays, scenario.horizon.start.year, scenario.horizon.start.year)
    except ScenarioError as exc:
        raise ScenarioError(
            [
                Issue(f"{path}: {i.location}" if i.location else str(path), i.message)
                for i in exc.issues
            ]
        ) from None
    return scenario
