"""What every request handler reads (the store, the scenario, its shifts) and page rendering."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from wachtplanner.domain.scenario import Scenario
from wachtplanner.expand import ShiftInstance
from wachtplanner.export.labels import Language, text
from wachtplanner.serve.i18n import pick_language, translator
from wachtplanner.stats.quality import LOWER_IS_BETTER
from wachtplanner.store.db import Store


@dataclass
class AppState:
    """The app's state: one store, one scenario (the circle), its shifts, the templates."""

    store: Store
    scenario: Scenario
    shift_list: tuple[ShiftInstance, ...]
    templates: Environment
    units: dict[str, str]
    secret: str
    scenario_path: Path | None = None
    jobs: dict[int, Any] = field(default_factory=dict)
    shifts: dict[str, ShiftInstance] = field(init=False)
    """The shifts by id."""

    def __post_init__(self) -> None:
        self.shifts = {s.shift_id: s for s in self.shift_list}

    def use(self, scenario: Scenario, shift_list: tuple[ShiftInstance, ...]) -> None:
        """Switch to another period's scenario (after publishing a roster of it)."""
        self.scenario = scenario
        self.shift_list = shift_list
        self.shifts = {s.shift_id: s for s in shift_list}
        self.units = {a.id: a.name for a in scenario.areas} | {p.id: p.name for p in scenario.posts}


def templates() -> Environment:
    """Return the Jinja2 environment of the app's templates (autoescaped)."""
    return Environment(
        loader=PackageLoader("wachtplanner.serve", "templates"),
        autoescape=select_autoescape(["html", "xml"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def state(request: Request) -> AppState:
    """Return the app's state."""
    app_state: AppState = request.app.state.wachtplanner
    return app_state


def figures(quality: dict[str, float], language: str) -> list[tuple[str, str]]:
    """Return the coordinator's roster figures as (label, value) rows in the page's language."""
    lang: Language = "en" if language == "en" else "nl"
    rows = [
        (
            text(key, lang),
            f"{quality[key]:.1%}" if key == "share_close_pairs" else f"{quality[key]:g}",
        )
        for key in LOWER_IS_BETTER
        if key in quality
    ]
    if "holiday_blocks_min" in quality:
        low, high = quality["holiday_blocks_min"], quality["holiday_blocks_max"]
        rows.append((text("holiday_blocks", lang), f"{low:g}–{high:g}"))
    return rows


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render a template in the request's language (``?lang=en`` or the browser's)."""
    language = pick_language(
        request.query_params.get("lang"), request.headers.get("accept-language")
    )
    template = state(request).templates.get_template(name)
    body = template.render(
        lang=language,
        t=translator(language),
        figures=lambda quality: figures(quality, language),
        **context,
    )
    return HTMLResponse(body, status_code=status_code)
