"""Property: any roster the solver returns for a random small scenario is valid."""

from hypothesis import given
from hypothesis import strategies as st

from tests.helpers import FAST, WEEKEND, scenario_of, tiny_doc
from wachtplanner.evaluation.objective import evaluate_roster
from wachtplanner.exceptions import ScenarioInfeasibleError
from wachtplanner.expand import expand_shifts
from wachtplanner.solver import solve


@st.composite
def small_scenarios(draw):
    num = draw(st.integers(min_value=2, max_value=7))
    doc = tiny_doc(num, horizon={"start": "2027-03-22", "end": "2027-04-04"})
    weekend = dict(WEEKEND, need=draw(st.integers(1, 2)))
    doc["shift_types"].append(weekend)
    for doctor in doc["doctors"]:
        doctor["fte"] = draw(st.sampled_from([0.5, 0.8, 1.0]))
        if draw(st.booleans()):
            day = draw(st.integers(22, 31))
            doctor["unavailable"] = [{"from": f"2027-03-{day}", "to": f"2027-03-{day}"}]
        if draw(st.integers(0, 4)) == 0:
            doctor["exemptions"] = [{"reason": "health", "shift_types": ["weekend"]}]
    doc["rules"] = {
        "min_rest_hours": draw(st.sampled_from([0, 11, 24])),
        "min_days_between_weekends": {"days": 14, "hard": draw(st.booleans())},
    }
    return scenario_of(doc)


@given(small_scenarios())
def test_returned_rosters_pass_the_checker(scenario):
    """Feasible or not, the solver never returns a roster that breaks a hard rule."""
    try:
        result = solve(scenario, FAST)
    except ScenarioInfeasibleError as exc:
        reasons = exc.reasons
        assert reasons, "an infeasible scenario must say why"
        return
    evaluation = evaluate_roster(scenario, expand_shifts(scenario), result.roster)
    assert evaluation.hard_violations == ()
    assert evaluation.terms.as_dict() == result.terms
