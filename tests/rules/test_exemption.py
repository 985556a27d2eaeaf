"""Rule exemption: no duty of an exempted shift type within the exemption's dates."""

from tests.helpers import WEEKEND, broken, scenario_of, solver_allows, tiny_doc


def _exempt_from_weeknights():
    doc = tiny_doc(horizon={"start": "2027-02-08", "end": "2027-02-12"})
    doc["shift_types"].append(dict(WEEKEND))
    doc["doctors"][0]["exemptions"] = [{"reason": "age", "shift_types": ["weeknight"]}]
    return scenario_of(doc)


def test_exempt_shift_type_is_forbidden():
    """An age exemption from weeknights forbids a weeknight."""
    scenario = _exempt_from_weeknights()
    pair = ("weeknight/noord/2027-02-08", "d0")
    assert "exemption" in broken(scenario, [pair])
    assert not solver_allows(scenario, [pair])


def test_other_shift_type_is_allowed():
    """The same doctor may still do the weekend."""
    scenario = _exempt_from_weeknights()
    pair = ("weekend/wp/2027-02-12", "d0")
    assert "exemption" not in broken(scenario, [pair])
    assert solver_allows(scenario, [pair])
