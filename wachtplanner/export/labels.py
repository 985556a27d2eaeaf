"""Column and sheet labels of the readable outputs (workbook, report, grid): Dutch or English.

One language per output, Dutch by default (the circles' language), English with ``--lang en``.
The CSV files under ``stats/`` keep their snake_case names: they are for programs.
"""

from __future__ import annotations

from typing import Literal

Language = Literal["nl", "en"]
LANGUAGES: tuple[Language, ...] = ("nl", "en")

_COLUMNS: dict[str, tuple[str, str]] = {
    "doctor_id": ("Arts id", "Doctor id"),
    "name": ("Naam", "Name"),
    "area": ("Wachtgebied", "Area"),
    "fte": ("VTE", "FTE"),
    "share": ("Aandeel", "Share"),
    "target_points": ("Doel (punten)", "Target (points)"),
    "points": ("Punten", "Points"),
    "deviation": ("Afwijking", "Deviation"),
    "hours": ("Uren", "Hours"),
    "nights": ("Weekwachten", "Weeknights"),
    "weekends": ("Weekends", "Weekends"),
    "holidays": ("Feestdagen", "Holidays"),
    "min_days_between_duties": ("Kortste rust (dagen)", "Shortest rest (days)"),
    "fee_eur": ("Honorarium (EUR)", "Fee (EUR)"),
    "tag": ("Soort", "Kind"),
    "doctors": ("Artsen", "Doctors"),
    "largest_abs_deviation": ("Grootste afwijking", "Largest deviation"),
    "deviation_range": ("Spreiding", "Range"),
    "deviation_std": ("Standaardafwijking", "Standard deviation"),
    "gini_points_per_share": ("Gini (punten per aandeel)", "Gini (points per share)"),
    "outside_band": ("Buiten de band", "Outside the band"),
    "band": ("Band (punten)", "Band (points)"),
    "weekend_pairs_closer_than_rule": ("Weekends te dicht op elkaar", "Weekends too close"),
    "scope": ("Soort eenheid", "Unit kind"),
    "scope_id": ("Eenheid", "Unit"),
    "month": ("Maand", "Month"),
    "seats": ("Plaatsen", "Seats"),
    "filled": ("Bezet", "Filled"),
    "duties": ("Diensten", "Duties"),
    "coverage": ("Bezetting", "Coverage"),
    "date": ("Datum", "Date"),
    "weekday": ("Dag", "Day"),
}
_TEXTS: dict[str, tuple[str, str]] = {
    "sheet_roster": ("Rooster", "Roster"),
    "sheet_grid": ("Rooster per datum", "Roster by date"),
    "sheet_doctors": ("Artsen", "Doctors"),
    "sheet_fairness": ("Billijkheid", "Fairness"),
    "sheet_units": ("Per eenheid en maand", "Per unit and month"),
    "sheet_info": ("Info", "Info"),
    "scenario": ("Scenario", "Scenario"),
    "timezone": ("Tijdzone", "Time zone"),
    "made": ("Gemaakt (UTC)", "Made (UTC)"),
    "title": ("Wachtrooster", "On-call roster"),
    "grid_title": ("Rooster per datum", "Roster by date"),
    "summary": ("Samenvatting", "Summary"),
    "fairness": ("Billijkheid per soort dienst", "Fairness per kind of duty"),
    "per_area": ("Per wachtgebied", "Per area"),
    "workload": ("Werklast", "Workload"),
    "coverage": ("Bezetting", "Coverage"),
    "doctors_word": ("artsen", "doctors"),
    "to": ("tot", "to"),
    "made_at": ("gemaakt", "made"),
    "fees_total": ("Beschikbaarheidshonoraria samen", "Availability fees in total"),
    "deviation_chart": ("Punten min doel per arts", "Points minus target per doctor"),
    "heat_map": ("Diensten per arts per maand", "Duties per doctor per month"),
    "gaps": ("Verdeling van de dagen tussen diensten", "Days between duties"),
    "gaps_axis": (
        "dagen tussen twee diensten (einde → begin)",
        "days between duties (end → start)",
    ),
    "count": ("aantal", "count"),
    "points_axis": ("punten", "points"),
    "duties_axis": ("diensten", "duties"),
    "coverage_chart": (
        "Bezetting per wachtgebied/post en maand",
        "Coverage per area/post and month",
    ),
    "coverage_axis": ("bezette plaatsen / nodig", "seats filled / needed"),
    "no_duties": ("Geen diensten in dit rooster.", "No duties in this roster."),
    "figure": ("Maat", "Figure"),
    "value": ("Waarde", "Value"),
    "most_duties_in_7_days": ("Meeste diensten in 7 dagen", "Most duties in 7 days"),
    "longest_streak_days": ("Langste reeks dagen met dienst", "Longest streak of duty days"),
    "most_hours_in_a_month": ("Meeste uren in een maand", "Most hours in a month"),
    "share_close_pairs": ("Diensten ≤ 2 dagen na de vorige", "Duties ≤ 2 days after the last"),
    "largest_total_deviation": ("Grootste afwijking in totaal", "Largest total deviation"),
    "summed_total_deviation": ("Som van de afwijkingen in totaal", "Sum of total deviations"),
    "summed_deviation": ("Som van de afwijkingen per soort", "Sum of deviations per kind"),
    "holiday_blocks": ("Feestdagblokken per arts (min–max)", "Holiday blocks per doctor (min–max)"),
    "print_hint": (
        "Afdrukken: één maand per pagina.",
        "Printing: one month per page.",
    ),
}
WEEKDAYS: dict[Language, tuple[str, ...]] = {
    "nl": ("ma", "di", "wo", "do", "vr", "za", "zo"),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}


def column(name: str, language: Language) -> str:
    """Return a column's label (the name itself when none is known)."""
    labels = _COLUMNS.get(name)
    return name if labels is None else labels[LANGUAGES.index(language)]


def text(key: str, language: Language) -> str:
    """Return a fixed text of the outputs."""
    return _TEXTS[key][LANGUAGES.index(language)]


def columns(names: list[str], language: Language) -> dict[str, str]:
    """Return a rename mapping for a table's columns."""
    return {name: column(name, language) for name in names}
