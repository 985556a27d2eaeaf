"""Rule role: only the shift type's roles may take it."""

from tests.helpers import broken, scenario_of, solver_allows, tiny_doc

NIGHT = "weeknight/noord/2027-02-08"


def _with_emergency_doctor():
    doc = tiny_doc()
    doc["doctors"].append({"id": "nood", "name": "Dr. Nood", "area": "noord", "role": "emergency"})
    return scenario_of(doc)


def test_emergency_doctor_on_weeknight_is_forbidden():
    """Weeknights allow gp and trainee; an emergency doctor breaks the role rule."""
    scenario = _with_emergency_doctor()
    assert "role" in broken(scenario, [(NIGHT, "nood")])
    assert not solver_allows(scenario, [(NIGHT, "nood")])


def test_gp_on_weeknight_is_allowed():
    """A GP has an allowed role."""
    scenario = _with_emergency_doctor()
    assert "role" not in broken(scenario, [(NIGHT, "d0")])
    assert solver_allows(scenario, [(NIGHT, "d0")])
