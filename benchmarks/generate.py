"""Seeded generator of realistic circles: GPs in areas around one post, a quarter or a year.

Realism, after reference/domain.md: 3-6 weeks of leave each, ~30 % part-timers, ages 30-70 with
duty halved from 60 and an age exemption from 67, ~4 % trainees (HAIO) with a supervising GP,
a few health exemptions, carry-over balances from last year, some avoid wishes, Belgian holidays.

    python -m benchmarks.generate --gps 250 --areas 5 --year 2027 -o scenarios/circle-250-2027.yaml
"""

from __future__ import annotations

import argparse
import math
import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

AREA_NAMES = ["Noord", "Zuid", "Oost", "West", "Centrum", "Kust", "Kempen", "Heuvelland"]
FIRST = [
    "An",
    "Bart",
    "Charlotte",
    "Dirk",
    "Els",
    "Filip",
    "Griet",
    "Hans",
    "Ilse",
    "Jan",
    "Katrien",
    "Lieven",
    "Marie",
    "Nico",
    "Olivia",
    "Pieter",
    "Quinten",
    "Ruth",
    "Sofie",
    "Tom",
    "Ulla",
    "Veerle",
    "Wim",
    "Xavier",
    "Yana",
    "Zeno",
]
LAST = [
    "Peeters",
    "Janssens",
    "Maes",
    "Jacobs",
    "Mertens",
    "Willems",
    "Claes",
    "Goossens",
    "Wouters",
    "De Smet",
    "Dubois",
    "Lambert",
    "Dupont",
    "Martens",
    "Hermans",
    "Aerts",
    "Vermeulen",
    "Van den Broeck",
    "De Wit",
    "Verstraete",
]


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")


def _horizon(year: int, quarter: int | None) -> tuple[date, date]:
    if quarter is None:
        return date(year, 1, 1), date(year, 12, 31)
    start = date(year, 3 * quarter - 2, 1)
    end = date(year + (quarter == 4), (3 * quarter) % 12 + 1, 1) - timedelta(days=1)
    return start, end


def _leave(rng: random.Random, start: date, end: date, weeks: int) -> list[dict[str, Any]]:
    blocks, days = [], (end - start).days
    for length in _split(rng, weeks):
        first = start + timedelta(days=rng.randrange(max(1, days - 7 * length)))
        blocks.append(
            {"from": first, "to": first + timedelta(days=7 * length - 1), "reason": "verlof"}
        )
    return blocks


def _split(rng: random.Random, weeks: int) -> list[int]:
    parts = []
    while weeks > 0:
        part = min(weeks, rng.choice([1, 2, 3]))
        parts.append(part)
        weeks -= part
    return parts


SHAPES = ("post", "subdivision", "split-post")
"""``post``: weeknights and day duty per area, whole weekend and holiday blocks at one post.
``subdivision``: one on-call area without a post carrying every weeknight, weekend and holiday
at home. ``split-post``: a post whose weekends and holidays are split into day blocks (08-19,
2 seated + 1 mobile GP) and night blocks (19-08, 1 seated + 1 mobile GP), domain.md §1.5/§7.1."""


def generate(
    num_gps: int,
    num_areas: int,
    year: int,
    quarter: int | None = None,
    seed: int = 1,
    shape: str = "post",
    population: int | None = None,
) -> dict[str, Any]:
    """Return a scenario document (plain data, ready for YAML).

    ``population`` is the circle's total (default 1 200 inhabitants per GP), shared unevenly
    over the areas.
    """
    rng = random.Random(seed)
    start, end = _horizon(year, quarter)
    total = population or 300_000 * num_gps // 250
    parts = [rng.uniform(0.85, 1.15) for _ in range(num_areas)]
    areas = [
        {
            "id": _slug(AREA_NAMES[i]),
            "name": f"WDO {AREA_NAMES[i]}",
            "population": int(total * parts[i] / sum(parts)),
            "area_km2": round(rng.uniform(60, 220), 1),
        }
        for i in range(num_areas)
    ]
    practices: list[dict[str, Any]] = []
    doctors: list[dict[str, Any]] = []
    used: set[str] = set()
    while len(doctors) < num_gps:
        area = areas[len(practices) % num_areas]["id"]
        size = rng.choices([1, 2, 3, 4, 5], weights=[35, 20, 20, 15, 10])[0]
        surname = rng.choice(LAST)
        practice_id = f"p-{_slug(surname)}-{len(practices) + 1}"
        practices.append(
            {
                "id": practice_id,
                "name": f"Praktijk {surname}",
                "area": area,
                "accepting": rng.choices(["open", "conditional", "closed"], [4, 4, 2])[0],
            }
        )
        for _ in range(min(size, num_gps - len(doctors))):
            doctors.append(_doctor(rng, practice_id, start, end, used))
    _add_trainees(rng, doctors, max(1, num_gps // 25), start, end, used)
    need = max(1, math.ceil(num_gps / 90))
    if shape == "subdivision":
        shift_types = _subdivision_types()
        posts: list[dict[str, Any]] = []
    else:
        shift_types = _split_post_types() if shape == "split-post" else _shift_types(need)
        posts = [
            {
                "id": "wachtpost",
                "name": "Huisartsenwachtpost Voorbeeld",
                "areas": [a["id"] for a in areas],
            }
        ]
    if shape != "post":
        for doctor in doctors:
            for exemption in doctor.get("exemptions", []):
                if "shift_types" in exemption:
                    exemption["shift_types"] = [
                        t["id"] for t in shift_types if t["id"] != "dagwacht"
                    ]
    return {
        "name": f"Kring Voorbeeld {num_gps} GPs {year}{f' Q{quarter}' if quarter else ''}",
        "timezone": "Europe/Brussels",
        "horizon": {"start": start, "end": end},
        "holidays": {"country": "BE", "extra": [], "exclude": []},
        "areas": areas,
        "posts": posts,
        "practices": practices,
        "doctors": doctors,
        "shift_types": shift_types,
        "rules": {
            "min_rest_hours": 11,
            "min_days_between_weekends": 21,
            "max_hours_per_month": 80,
            "halve_from_age": 60,
            "fairness": {"basis": "fte", "per_tag": True},
        },
    }


def _doctor(
    rng: random.Random, practice: str, start: date, end: date, used: set[str]
) -> dict[str, Any]:
    while True:
        first, last = rng.choice(FIRST), rng.choice(LAST)
        ident = _slug(f"{first}-{last}")
        ident = ident if ident not in used else f"{ident}-{len(used)}"
        if ident not in used:
            used.add(ident)
            break
    born = date(rng.randint(1956, 1995), rng.randint(1, 12), rng.randint(1, 28))
    fte = rng.choices([1.0, 0.8, 0.6, 0.5], weights=[70, 15, 10, 5])[0]
    doctor: dict[str, Any] = {
        "id": ident,
        "name": f"Dr. {first} {last}",
        "practice": practice,
        "fte": fte,
        "gmd": int(fte * rng.uniform(900, 2300)),
        "birth_date": born,
    }
    if start.year - born.year >= 67:
        doctor["exemptions"] = [
            {
                "reason": "age",
                "shift_types": ["weeknight", "weekend", "holiday"],
                "from": start,
                "to": end,
            }
        ]
    elif rng.random() < 0.02:
        first_day = start + timedelta(days=rng.randrange(max(1, (end - start).days - 60)))
        doctor["exemptions"] = [
            {
                "reason": "health",
                "from": first_day,
                "to": first_day + timedelta(days=rng.randint(30, 90)),
            }
        ]
    weeks = max(1, round(rng.randint(3, 6) * (end - start).days / 365))
    doctor["unavailable"] = _leave(rng, start, end, weeks)
    if rng.random() < 0.2:
        doctor["avoid"] = [
            start + timedelta(days=rng.randrange((end - start).days)) for _ in range(2)
        ]
    if rng.random() < 0.3:
        doctor["carry_over"] = {"points": round(rng.gauss(0, 12), 1)}
    return doctor


def _add_trainees(
    rng: random.Random,
    doctors: list[dict[str, Any]],
    count: int,
    start: date,
    end: date,
    used: set[str],
) -> None:
    supervisors = [
        d for d in doctors if 1960 <= d["birth_date"].year <= 1985 and "exemptions" not in d
    ]
    for supervisor in rng.sample(supervisors, min(count, len(supervisors))):
        trainee = _doctor(rng, supervisor["practice"], start, end, used)
        trainee.update(
            {
                "role": "trainee",
                "supervisor": supervisor["id"],
                "fte": 1.0,
                "gmd": 0,
                "birth_date": date(rng.randint(1996, 2000), 6, 1),
            }
        )
        trainee.pop("exemptions", None)
        doctors.append(trainee)


def _shift_types(need: int) -> list[dict[str, Any]]:
    return [
        {
            "id": "weeknight",
            "label": "Weekwacht",
            "scope": "area",
            "days": ["mon", "tue", "wed", "thu"],
            "start": "19:00",
            "end": "08:00",
            "skip_holidays": True,
            "need": 1,
            "roles": ["gp", "trainee"],
            "points_per_hour": 1.0,
            "tags": ["night"],
        },
        {
            "id": "weekend",
            "label": "Weekendwacht",
            "scope": "post",
            "days": ["fri"],
            "start": "19:00",
            "end": "08:00",
            "span_days": 3,
            "need": need,
            "roles": ["gp", "trainee"],
            "points_per_hour": 1.3,
            "tags": ["weekend"],
        },
        {
            "id": "holiday",
            "label": "Feestdagwacht",
            "scope": "post",
            "days": ["holiday_eve"],
            "start": "19:00",
            "end": "08:00",
            "span_days": 2,
            "need": need,
            "roles": ["gp", "trainee"],
            "points_per_hour": 1.5,
            "tags": ["holiday"],
            "merge_with_weekend": True,
        },
        {
            "id": "dagwacht",
            "label": "Dagwacht",
            "scope": "area",
            "days": ["mon", "tue", "wed", "thu", "fri"],
            "start": "08:00",
            "end": "18:00",
            "skip_holidays": True,
            "need": 1,
            "roles": ["gp"],
            "points_per_hour": 0.8,
            "tags": ["day"],
        },
    ]


def _subdivision_types() -> list[dict[str, Any]]:
    """Weeknights, weekends and holidays of one area, all at home (no post)."""
    types = [t for t in _shift_types(1) if t["id"] != "dagwacht"]
    for shift_type in types:
        shift_type["scope"] = "area"
        shift_type["need"] = 1
    return types


def _block(
    ident: str,
    label: str,
    days: list[str],
    start: str,
    end: str,
    need: int,
    points: float,
    tag: str,
    skip: bool,
) -> dict[str, Any]:
    block: dict[str, Any] = {
        "id": ident,
        "label": label,
        "scope": "post",
        "days": days,
        "start": start,
        "end": end,
        "need": need,
        "roles": ["gp", "trainee"],
        "points_per_hour": points,
        "tags": [tag],
    }
    if skip:
        block["skip_holidays"] = True
    return block


def _split_post_types() -> list[dict[str, Any]]:
    """Weeknights and day duty per area; weekend and holiday day and night blocks at the post.

    Day blocks 08:00-19:00 take 3 GPs (2 seated at the post, 1 mobile for home visits), night
    blocks 19:00-08:00 take 2 (1 seated, 1 mobile). Weekend blocks skip holidays and their eves,
    where the holiday blocks of the same shape run instead.
    """
    weeknight, _, _, dagwacht = _shift_types(1)
    dagwacht["end"] = "19:00"  # meets the weeknight, so no hour is left without a GP on call
    blocks = []
    for seat, day_need, night_need in (("zittend", 2, 1), ("rijdend", 1, 1)):
        blocks += [
            _block(
                f"weekend-dag-{seat}",
                f"Weekend dag ({seat})",
                ["sat", "sun"],
                "08:00",
                "19:00",
                day_need,
                1.2,
                "weekend",
                True,
            ),
            _block(
                f"weekend-nacht-{seat}",
                f"Weekend nacht ({seat})",
                ["fri", "sat", "sun"],
                "19:00",
                "08:00",
                night_need,
                1.5,
                "weekend",
                True,
            ),
            _block(
                f"feestdag-dag-{seat}",
                f"Feestdag dag ({seat})",
                ["holiday"],
                "08:00",
                "19:00",
                day_need,
                1.5,
                "holiday",
                False,
            ),
            _block(
                f"feestdag-nacht-{seat}",
                f"Feestdag nacht ({seat})",
                ["holiday_eve", "holiday"],
                "19:00",
                "08:00",
                night_need,
                1.5,
                "holiday",
                False,
            ),
        ]
    return [weeknight, *blocks, dagwacht]


class _PlainDumper(yaml.SafeDumper):
    """Writes repeated values again instead of YAML anchors and aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def to_yaml(document: dict[str, Any], header: str) -> str:
    """Return the document as YAML with a comment header."""
    comment = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    body = yaml.dump(
        document,
        Dumper=_PlainDumper,
        sort_keys=False,
        allow_unicode=True,
        width=120,
        default_flow_style=None,
    )
    return comment + body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gps", type=int, default=250)
    parser.add_argument("--areas", type=int, default=5)
    parser.add_argument("--year", type=int, default=2027)
    parser.add_argument("--quarter", type=int, choices=[1, 2, 3, 4])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--shape", choices=SHAPES, default="post")
    parser.add_argument("--population", type=int, default=None)
    parser.add_argument("--header", default="")
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args()
    document = generate(
        args.gps, args.areas, args.year, args.quarter, args.seed, args.shape, args.population
    )
    header = args.header or (
        f"Generated by: python -m benchmarks.generate --gps {args.gps} --areas {args.areas} "
        f"--year {args.year}{f' --quarter {args.quarter}' if args.quarter else ''} "
        f"--seed {args.seed}{f' --shape {args.shape}' if args.shape != 'post' else ''}"
    )
    args.output.write_text(to_yaml(document, header), encoding="utf-8")


if __name__ == "__main__":
    main()
