"""Load a scenario from YAML or JSON, reporting every problem with the file's name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from wachtplanner.calendar import holiday_dates
from wachtplanner.domain.events import apply_roster_events
from wachtplanner.domain.scenario import Scenario
from wachtplanner.exceptions import Issue, ScenarioError
from wachtplanner.expand import ShiftInstance, expand_shifts
from wachtplanner.io.text_files import read_text_file

MAX_FILE_BYTES = 4 * 1024 * 1024
"""Largest scenario file read: a 500-GP year with every wish is about 0.2 MB (and PyYAML reads
about 1 MB a second)."""
MAX_DEPTH = 32
"""Deepest nesting of mappings and lists; a scenario needs 5."""
MAX_VALUES = 1_000_000
"""Most values a document may stand for once YAML aliases are expanded (billion laughs)."""


class _Refused(yaml.YAMLError):
    """A well-formed YAML document refused for its shape (too deep, alias bomb)."""

    def __init__(self, problem: str, mark: yaml.Mark | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.problem_mark = mark


class _Loader(yaml.SafeLoader):
    """Safe YAML that keeps dates as text, with bounded nesting and alias expansion.

    Dates stay text so a bad date is reported with its location; nesting stops at
    :data:`MAX_DEPTH` levels and documents whose aliases expand to more than
    :data:`MAX_VALUES` values are refused.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise _Refused(f"nested deeper than {MAX_DEPTH} levels; a scenario needs 5", mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_document(self) -> yaml.Node | None:
        node = super().compose_document()
        if node is not None and _expanded_size(node) > MAX_VALUES:
            raise _Refused(
                f"its aliases (*name) expand to more than {MAX_VALUES:,} values; a scenario "
                "has far fewer (alias bomb?)"
            )
        return node


def _expanded_size(root: yaml.Node) -> int:
    """Count the values a node graph stands for with every alias expanded, without expanding."""
    sizes: dict[int, int] = {}

    def children(node: yaml.Node) -> list[yaml.Node]:
        if isinstance(node, yaml.MappingNode):
            return [n for pair in node.value for n in pair]
        if isinstance(node, yaml.SequenceNode):
            return list(node.value)
        return []

    # Post-order without recursion: the depth is bounded already, the fan-out is not.
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if id(node) in sizes:
            continue
        if done:
            sizes[id(node)] = min(MAX_VALUES + 1, 1 + sum(sizes[id(c)] for c in children(node)))
            continue
        stack.append((node, True))
        stack.extend((c, False) for c in children(node) if id(c) not in sizes)
    return sizes[id(root)]


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _depth(document: Any) -> int:
    deepest = 0
    stack = [(document, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
    return deepest - 1


def _parse(path: Path, text: str) -> Any:
    if path.suffix.lower() == ".json":
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ScenarioError(
                [Issue(f"{path}:{exc.lineno}:{exc.colno}", f"not valid JSON: {exc.msg}.")]
            ) from None
        except RecursionError:
            document = None
        if document is None or _depth(document) > MAX_DEPTH:
            raise ScenarioError(
                [
                    Issue(
                        str(path),
                        f"refused: nested deeper than {MAX_DEPTH} levels; a scenario needs 5.",
                    )
                ]
            )
        return document
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        prefix = "refused" if isinstance(exc, _Refused) else "not valid YAML"
        raise ScenarioError([Issue(where, f"{prefix}: {problem}.")]) from None


def read_document(path: Path, what: str = "a scenario") -> Any:
    """Read a YAML or JSON file with the scenario files' limits (size, nesting, aliases).

    Raises
    ------
    ScenarioError
        With the file, the line and column where it could not be read.
    """
    text = read_text_file(path, MAX_FILE_BYTES, ScenarioError, what=what)
    return _parse(path, text)


def load_scenario(path: Path) -> Scenario:
    """Read and validate a scenario file (``.yaml``, ``.yml`` or ``.json``).

    Raises
    ------
    ScenarioError
        With every problem found, each located as ``FILE: path.inside[id].key``.
    """
    text = read_text_file(path, MAX_FILE_BYTES, ScenarioError, what="a scenario")
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


def load_scenario_shifts(path: Path) -> tuple[Scenario, tuple[ShiftInstance, ...]]:
    """Read a scenario for rostering and expand its shifts.

    The scenario's doctor_loss and doctor_join events are applied to its doctors
    (:func:`~wachtplanner.domain.events.apply_roster_events`); a horizon without a single duty
    is an error.

    Raises
    ------
    ScenarioError
        As :func:`load_scenario`, and when no shift type runs on any date of the horizon.
    """
    scenario = apply_roster_events(load_scenario(path))
    shifts = tuple(expand_shifts(scenario))
    if not shifts:
        horizon = scenario.horizon
        raise ScenarioError(
            [
                Issue(
                    f"{path}: horizon",
                    f"no shift type runs from {horizon.start.isoformat()} to "
                    f"{horizon.end.isoformat()}; expected at least one duty to roster (check "
                    "the horizon and shift_types[].days).",
                )
            ]
        )
    return scenario, shifts
