"""The benchmark command runs end to end on a tiny instance (no timing is asserted)."""

import json
from pathlib import Path

from benchmarks.run import main

SMALL = Path(__file__).parent / "data" / "valid_small.yaml"


def test_bench_command_scores_ours_and_greedy(tmp_path):
    """One command runs both solvers in child processes, validates and scores each roster, and
    the proven deviation floor and the bound on the largest total are never above what a valid
    roster reaches."""
    main(
        [
            "--scenario",
            str(SMALL),
            "--solvers",
            "ours,greedy",
            "--time-limit",
            "5",
            "--workers",
            "1",
            "--out",
            str(tmp_path),
        ]
    )
    data = json.loads((tmp_path / "results.json").read_text())
    outcomes = {o["solver"]: o for o in data["outcomes"]}
    assert set(outcomes) == {"ours", "greedy"}
    for outcome in outcomes.values():
        assert outcome["valid"], outcome["error"]
        assert outcome["peak_mib"] > 0
        for tag, floor in outcome["floor"].items():
            assert floor <= outcome["max_dev"][tag] + 1e-9
        assert outcome["total_bound"] <= outcome["quality"]["largest_total_deviation"] + 1e-9
    assert "| valid_small | ours | yes |" in (tmp_path / "results.md").read_text()
