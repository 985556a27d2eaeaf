"""Malformed scenario files: one problem each, the message pinned; several reported together."""

import re

import pytest

from wachtplanner.exceptions import ScenarioError
from wachtplanner.io.scenario_files import load_scenario

EXPECTED = {
    "unknown_top_key": r"rulez: unknown key 'rulez'; did you mean 'rules'\?",
    "unknown_doctor_key": r"doctors\[an-peeters\]\.gsm: unknown key 'gsm'; did you mean 'gmd'\?",
    "fte_too_large": r"doctors\[an-peeters\]\.fte: 1\.8 is out of range; expected a number at "
    r"most 1",
    "bad_role": r"doctors\[haio-els\]\.role: 'haio' is not allowed; expected one of 'gp'",
    "bad_date": r"doctors\[an-peeters\]\.birth_date: '1962-04-31' is not a date; expected "
    r"YYYY-MM-DD",
    "exemption_reversed": r"doctors\[an-peeters\]\.exemptions\[0\]: to 2027-01-01 is before from "
    r"2027-06-01\.",
    "bad_exemption_reason": r"exemptions\[0\]\.reason: 'tired' is not allowed",
    "unknown_practice": r"doctors\[bart-maes\]\.practice: practice 'p-dewitt' is not defined in "
    r"this scenario; did you mean 'p-dewit'\?",
    "unknown_post_area": r"posts\[wp\]\.areas\[1\]: area 'zuid' is not defined",
    "unknown_supervisor": r"doctors\[haio-els\]\.supervisor: doctor 'bart' is not defined",
    "trainee_without_supervisor": r"doctors\[haio-els\]\.supervisor: a trainee needs a supervisor",
    "unknown_exempt_shift_type": r"exemptions\[0\]\.shift_types\[0\]: shift type 'weekwacht' is "
    r"not defined in this scenario; did you mean 'weeknight'\?",
    "bad_day": r"shift_types\[weeknight\]\.days\[3\]: 'don' is not allowed",
    "bad_time": r"shift_types\[weeknight\]\.start: '19h' is not a clock time; expected HH:MM\.",
    "horizon_reversed": r"horizon: end 2027-01-28 is before start 2027-02-01\.",
    "duplicate_doctor": r"doctors\[an-peeters\]: id 'an-peeters' is used twice",
    "bad_id": r"doctors\[bart maes\]\.id: 'bart maes' is not a valid id",
    "unknown_timezone": r"timezone: 'Europe/Brussel' is not a time zone",
    "bad_yaml": r"bad_yaml\.yaml:6:6: not valid YAML: expected ',' or '\}'",
    "negative_need": r"shift_types\[weeknight\]\.need: 0 is out of range; expected a number at "
    r"least 1\.",
    # Hostile input: each used to crash (exit 1) or eat memory.
    "nan_fte": r"doctors\[an-peeters\]\.fte: nan is not a finite number; expected an ordinary "
    r"number such as 0\.8\.",
    "inf_points": r"shift_types\[weeknight\]\.points_per_hour: inf is not a finite number",
    "nan_carry_over": r"doctors\[bart-maes\]\.carry_over\.points: nan is not a finite number",
    "horizon_year_9999": r"horizon\.start: 9999-12-01 is out of range; expected a date from "
    r"1900-01-01 to 2199-12-31\.",
    "exemption_to_9999": r"doctors\[an-peeters\]\.exemptions\[0\]\.to: 9999-12-31 is out of range; "
    r"expected a date from 1900-01-01 to 2199-12-31\.",
    "name_newline": r"doctors\[bart-maes\]\.name: 'Dr\. Bart\\nMaes' contains a line break "
    r"\('\\n'\); expected one line of text\.",
    "name_cr": r"doctors\[bart-maes\]\.name: 'Dr\. Bart\\rMaes' contains a line break "
    r"\('\\r'\); expected one line of text\.",
    "alias_bomb": r"alias_bomb\.yaml: refused: its aliases \(\*name\) expand to more than "
    r"1,000,000 values",
    "deep_nesting": r"deep_nesting\.yaml:2:\d+: refused: nested deeper than 32 levels",
    "deep_nesting.json": r"deep_nesting\.json: refused: nested deeper than 32 levels",
}
NOT_HERE = {"several_problems", "no_shifts"}
"""Tested below: several problems at once; a horizon without duties (found after expansion)."""


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_message_is_pinned(data_dir, name):
    """Each malformed file reports its problem with file, location, value and expectation."""
    path = data_dir / "invalid" / (name if "." in name else f"{name}.yaml")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    first = str(caught.value.issues[0])
    assert first.startswith(str(path))
    assert re.search(EXPECTED[name], first), first


def test_every_invalid_file_has_a_pinned_message(data_dir):
    """No file in tests/data/invalid goes untested."""
    files = {p.stem for p in (data_dir / "invalid").glob("*.yaml")}
    files |= {p.name for p in (data_dir / "invalid").glob("*.json")}
    assert files == set(EXPECTED) | NOT_HERE


def test_several_problems_are_reported_together(data_dir):
    """Field problems and cross-reference problems come in one report."""
    with pytest.raises(ScenarioError) as caught:
        load_scenario(data_dir / "invalid" / "several_problems.yaml")
    text = "\n".join(str(i) for i in caught.value.issues)
    for expected in (
        r"doctors\[an-peeters\]\.fte: 1\.8",
        r"doctors\[haio-els\]\.role: 'haio'",
        r"shift type 'weekwacht'",
        r"doctors\[bart-maes\]\.practice: practice 'p-nowhere'",
    ):
        assert re.search(expected, text), expected


def test_json_is_accepted(tmp_path, data_dir):
    """The same scenario as JSON loads to the same model."""
    import json

    import yaml

    doc = yaml.safe_load((data_dir / "valid_small.yaml").read_text())
    path = tmp_path / "small.json"
    path.write_text(json.dumps(doc, default=str))
    assert load_scenario(path) == load_scenario(data_dir / "valid_small.yaml")
