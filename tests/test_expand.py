"""Calendar expansion: holidays, DST, merged holiday weekends, hours."""

from datetime import date

import pytest

from tests.helpers import WEEKEND, WEEKNIGHT, scenario_of, tiny_doc
from wachtplanner.calendar import holiday_dates
from wachtplanner.domain.scenario import HolidaySpec
from wachtplanner.expand import expand_shifts

HOLIDAY = {
    "id": "holiday",
    "scope": "post",
    "days": ["holiday_eve"],
    "start": "19:00",
    "end": "08:00",
    "span_days": 2,
    "points_per_hour": 1.5,
    "tags": ["holiday"],
    "merge_with_weekend": True,
}


def _year(year, **rules):
    doc = tiny_doc(
        horizon={"start": f"{year}-01-01", "end": f"{year}-12-31"},
        shift_types=[dict(WEEKNIGHT), dict(WEEKEND), dict(HOLIDAY)],
    )
    doc.update(rules)
    return {s.shift_id: s for s in expand_shifts(scenario_of(doc))}


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        (
            2026,
            [
                "01-01",
                "04-06",
                "05-01",
                "05-14",
                "05-25",
                "07-21",
                "08-15",
                "11-01",
                "11-11",
                "12-25",
            ],
        ),
        (
            2027,
            [
                "01-01",
                "03-29",
                "05-01",
                "05-06",
                "05-17",
                "07-21",
                "08-15",
                "11-01",
                "11-11",
                "12-25",
            ],
        ),
    ],
)
def test_belgian_holidays(year, expected):
    """The ten Belgian legal holidays (Easter and Whit Sunday are Sundays, not holidays of
    their own), by date."""
    days = holiday_dates(HolidaySpec(), year, year)
    assert sorted(d.strftime("%m-%d") for d in days) == expected


def test_extra_and_exclude():
    """`extra` adds a day (11 July), `exclude` removes one."""
    spec = HolidaySpec(extra=(date(2027, 7, 11),), exclude=(date(2027, 11, 11),))
    days = holiday_dates(spec, 2027, 2027)
    assert date(2027, 7, 11) in days
    assert date(2027, 11, 11) not in days


def test_weeknight_hours_and_offsets_across_dst():
    """Weeknights are 13 real hours; offsets switch from +01:00 to +02:00 after 28 March 2027."""
    shifts = _year(2027)
    before, after = shifts["weeknight/noord/2027-03-25"], shifts["weeknight/noord/2027-03-30"]
    assert before.hours == after.hours == 13
    assert before.start.isoformat() == "2027-03-25T19:00:00+01:00"
    assert after.start.isoformat() == "2027-03-30T19:00:00+02:00"


def test_easter_2027_merges_into_the_dst_weekend():
    """Easter Sunday and Monday chain into one block merged with the weekend: Fri 26 Mar 19:00
    to Tue 30 Mar 08:00 is 85 wall-clock hours but 84 real hours (clocks go forward on Easter
    Sunday). Hours inside the holiday window (the eve of Easter Monday, Sun 19:00, to Tue 08:00:
    37 h, after the clock change) earn holiday points, the other 84 - 37 = 47 weekend points."""
    shifts = _year(2027)
    easter = shifts["weekend/wp/2027-03-26"]
    assert easter.end.isoformat() == "2027-03-30T08:00:00+02:00"
    assert easter.hours == 84
    assert easter.points_by_tag == {"weekend": 47 * 130, "holiday": 37 * 150}
    assert not any(s.startswith("holiday/wp/2027-03") for s in shifts)
    assert "weeknight/noord/2027-03-29" not in shifts  # Easter Monday is skipped


def test_autumn_dst_weekend_is_an_hour_longer():
    """All Saints (Mon 1 Nov 2027) extends the weekend of the autumn change: 86 real hours."""
    shifts = _year(2027)
    assert shifts["weekend/wp/2027-10-29"].hours == 86
    assert shifts["weekend/wp/2027-10-22"].hours == 61


def test_midweek_holiday_is_a_separate_block():
    """Ascension (Thu 6 May 2027): eve Wed 19:00 to Fri 08:00, 37 h, not merged."""
    shifts = _year(2027)
    ascension = shifts["holiday/wp/2027-05-05"]
    assert ascension.hours == 37
    assert ascension.holidays == (date(2027, 5, 6),)
    assert "weeknight/noord/2027-05-05" not in shifts  # the eve's night runs into the holiday
    assert "weeknight/noord/2027-05-06" not in shifts


def test_new_year_block_belongs_to_the_year_it_starts():
    """2027 starts on a Friday: its first weekend merges with the New Year block that starts
    on 31 Dec 2026, so it belongs to the 2026 roster and is not in 2027's."""
    shifts_2027 = _year(2027)
    assert "weekend/wp/2027-01-01" not in shifts_2027
    block = _year(2026)["weekend/wp/2026-12-31"]
    assert block.end.isoformat() == "2027-01-04T08:00:00+01:00"
    assert block.hours == 85
    assert block.points_by_tag == {"weekend": 48 * 130, "holiday": 37 * 150}


def test_without_merge_holiday_blocks_stay_separate():
    """Without merge_with_weekend the Easter block and the weekend overlap as two instances."""
    doc = tiny_doc(
        horizon={"start": "2027-03-22", "end": "2027-04-04"},
        shift_types=[dict(WEEKEND), dict(HOLIDAY, merge_with_weekend=False)],
    )
    ids = {s.shift_id: s for s in expand_shifts(scenario_of(doc))}
    assert ids["weekend/wp/2027-03-26"].hours == 60
    assert ids["holiday/wp/2027-03-28"].hours == 37  # Sun 19:00 to Tue 08:00 (Easter Monday)


def test_unquoted_yaml_times_are_understood():
    """YAML 1.1 reads an unquoted 19:00 as 1140 (base 60); it is taken back as 19:00."""
    doc = tiny_doc()
    doc["shift_types"][0].update(start=1140, end=480)
    first = expand_shifts(scenario_of(doc))[0]
    assert (first.start.hour, first.end.hour) == (19, 8)
