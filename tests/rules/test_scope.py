"""Rule scope: area duty only for the area's doctors."""

from tests.helpers import broken, scenario_of, solver_allows, tiny_doc

NIGHT = "weeknight/noord/2027-02-08"


def _two_areas():
    doc = tiny_doc()
    doc["areas"].append({"id": "zuid", "name": "WDO Zuid"})
    doc["doctors"].append({"id": "z0", "name": "Dr. Zuid", "area": "zuid"})
    doc["shift_types"][0]["scope_ids"] = ["noord"]
    return scenario_of(doc)


def test_doctor_of_another_area_is_forbidden():
    """A doctor of zuid on a noord weeknight breaks scope, for checker and solver."""
    scenario = _two_areas()
    assert "scope" in broken(scenario, [(NIGHT, "z0")])
    assert not solver_allows(scenario, [(NIGHT, "z0")])


def test_doctor_of_the_area_is_allowed():
    """A doctor of noord may take a noord weeknight."""
    scenario = _two_areas()
    assert "scope" not in broken(scenario, [(NIGHT, "d1")])
    assert solver_allows(scenario, [(NIGHT, "d1")])
