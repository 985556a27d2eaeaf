"""A sweep's grid: dotted scenario keys and the values each takes, expanded into runs.

``GRID.yaml`` maps keys to lists of values; every combination is a run. Keys name a place in
the scenario file: mapping keys by name, list items by id (``emergency_points[noodpunt]``) or
by position (``events[2]``), e.g. ``continuity.intake_per_week_per_fte`` or
``emergency_points[noodpunt].sessions_per_week``. A ``zip:`` entry holds groups of keys whose
lists vary together (the first values together, then the second, ...)::

    continuity.intake_per_week_per_fte: [15, 20, 25]
    zip:
      - emergency_points[noodpunt].sessions_per_week: [0, 4, 8]
        emergency_points[noodpunt].consults_per_session: [0, 16, 16]

Every run's scenario is validated before anything starts; all problems are reported at once,
each with the grid file, the key and the value.
"""

from __future__ import annotations

import copy
import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wachtplanner.domain.scenario import Scenario
from wachtplanner.exceptions import Issue, ScenarioError
from wachtplanner.io.scenario_files import read_document

MAX_RUNS = 10_000
"""A grid that expands to more runs than this is refused (a typo, not a question)."""
_SEGMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:\[([^\[\]]+)\])?$")


@dataclass(frozen=True)
class Axis:
    """Keys that vary together (one key, or a zip group) and their tuples of values."""

    keys: tuple[str, ...]
    values: tuple[tuple[Any, ...], ...]


@dataclass(frozen=True)
class Run:
    """One combination: the values of every varied key, and the run's scenario."""

    index: int
    values: dict[str, Any]
    scenario: Scenario


def parse_grid(document: Any, source: str) -> list[Axis]:
    """Return the grid's axes in file order, or raise with every problem located."""
    issues: list[Issue] = []
    if not isinstance(document, Mapping) or not document:
        raise ScenarioError([Issue(source, "expected a mapping of dotted keys to lists.")])
    axes: list[Axis] = []
    for key, values in document.items():
        if key == "zip":
            groups = [values] if isinstance(values, Mapping) else values
            if not isinstance(groups, list) or not all(isinstance(g, Mapping) for g in groups):
                issues.append(Issue(f"{source}: zip", "expected a list of mappings of keys."))
                continue
            for number, group in enumerate(groups):
                where = f"{source}: zip[{number}]"
                lists = [(str(k), v) for k, v in group.items()]
                bad = [k for k, v in lists if not isinstance(v, list) or not v]
                for k in bad:
                    issues.append(Issue(f"{where}.{k}", "expected a non-empty list of values."))
                lengths = {len(v) for k, v in lists if k not in bad}
                if len(lengths) > 1:
                    issues.append(
                        Issue(where, f"lists of different lengths {sorted(lengths)} cannot zip.")
                    )
                if not bad and len(lengths) == 1 and lists:
                    keys = tuple(k for k, _ in lists)
                    axes.append(Axis(keys, tuple(zip(*(v for _, v in lists), strict=True))))
            continue
        if not isinstance(values, list) or not values:
            issues.append(Issue(f"{source}: {key}", "expected a non-empty list of values."))
            continue
        axes.append(Axis((str(key),), tuple((v,) for v in values)))
    varied = [k for axis in axes for k in axis.keys]
    for key in sorted({k for k in varied if varied.count(k) > 1}):
        issues.append(Issue(f"{source}: {key}", "varied twice; name each key once."))
    total = 1
    for axis in axes:
        total *= len(axis.values)
    if total > MAX_RUNS:
        issues.append(Issue(source, f"{total} runs; at most {MAX_RUNS} in one sweep."))
    if issues:
        raise ScenarioError(issues)
    return axes


def _parent_and_leaf(document: dict[str, Any], key: str) -> tuple[Any, str | int]:
    """Return the container holding ``key``'s last segment and that segment; raise ValueError."""
    segments = key.split(".")
    node: Any = document
    path = ""
    for position, segment in enumerate(segments):
        match = _SEGMENT.match(segment)
        if match is None:
            raise ValueError(f"'{segment}' is not a key; expected name or name[id or index].")
        name, selector = match.group(1), match.group(2)
        last = position == len(segments) - 1
        if not isinstance(node, dict):
            raise ValueError(f"{path or 'the scenario'} is not a mapping.")
        if selector is None:
            if last:
                return node, name
            node = node.setdefault(name, {})
            path = f"{path}.{name}" if path else name
            continue
        items = node.get(name)
        if not isinstance(items, list):
            raise ValueError(f"{path + '.' if path else ''}{name} is not a list in the scenario.")
        index = _find(items, selector, f"{path + '.' if path else ''}{name}")
        if last:
            return items, index
        node = items[index]
        path = f"{path + '.' if path else ''}{name}[{selector}]"
    raise ValueError("an empty key.")  # pragma: no cover - split always yields a segment


def _find(items: list[Any], selector: str, where: str) -> int:
    if selector.isdigit():
        index = int(selector)
        if index >= len(items):
            raise ValueError(f"{where} has {len(items)} items; there is no [{index}].")
        return index
    for index, item in enumerate(items):
        if isinstance(item, dict) and item.get("id") == selector:
            return index
    ids = ", ".join(str(i.get("id")) for i in items if isinstance(i, dict) and "id" in i)
    raise ValueError(f"{where} has no item '{selector}' (ids: {ids or 'none'}).")


def set_value(document: dict[str, Any], key: str, value: Any) -> None:
    """Set a dotted key of a scenario document (raises ValueError naming what is missing)."""
    container, leaf = _parent_and_leaf(document, key)
    container[leaf] = copy.deepcopy(value)


def expand(base: dict[str, Any], axes: Sequence[Axis], source: str) -> list[Run]:
    """Return every run of the grid with its validated scenario, or raise with all problems."""
    issues: list[Issue] = []
    runs: list[Run] = []
    misplaced: set[str] = set()
    for axis in axes:  # a key that cannot be placed is reported once, not per run
        for key in axis.keys:
            try:
                set_value(copy.deepcopy(base), key, axis.values[0][axis.keys.index(key)])
            except ValueError as bad:
                issues.append(Issue(f"{source}: {key}", str(bad)))
                misplaced.add(key)
    seen: set[tuple[str, str]] = set()
    for index, combination in enumerate(itertools.product(*(a.values for a in axes))):
        document = copy.deepcopy(base)
        values: dict[str, Any] = {}
        for axis, chosen in zip(axes, combination, strict=True):
            for key, value in zip(axis.keys, chosen, strict=True):
                if key not in misplaced:  # reported above; the other keys are still checked
                    set_value(document, key, value)
                values[key] = value
        try:
            scenario = Scenario.model_validate(document)
        except ScenarioError as refused:
            label = ", ".join(f"{k}={v!r}" for k, v in values.items())
            for issue in refused.issues:
                problem = (issue.location, issue.message)
                if problem not in seen:  # the same bad value fails every run it is in
                    seen.add(problem)
                    issues.append(
                        Issue(f"{source}: run {index} ({label}): {issue.location}", issue.message)
                    )
            continue
        runs.append(Run(index, values, scenario))
    if issues:
        raise ScenarioError(issues[:50])
    return runs


def load_grid(path: Path, base: dict[str, Any]) -> tuple[list[Axis], list[Run]]:
    """Read GRID.yaml and expand it against the base scenario document."""
    axes = parse_grid(read_document(path, what="a sweep grid"), str(path))
    return axes, expand(base, axes, str(path))
