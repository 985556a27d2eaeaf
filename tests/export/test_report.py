"""report.html renders in headless Chromium with every chart present and drawn.

Needs Debian's chromium and chromium-driver (installed by .ci/run). The screenshot is kept in
``test-artifacts/report.png``.
"""

from datetime import UTC, datetime
from pathlib import Path

from selenium.webdriver.common.by import By

from wachtplanner.export.report import report_html
from wachtplanner.stats import compute_statistics

ROOT = Path(__file__).parents[2]
ARTIFACTS = ROOT / "test-artifacts"
# The first area's section is open; the others' charts are the same code, folded away.
CHARTS = ["deviation-0", "heat-map-0", "days-between-duties", "coverage"]


def test_report_renders_with_charts(browser, tmp_path, demo_solved):
    """Each chart is a visible, non-empty SVG with drawn marks; nothing is fetched."""
    scenario, result = demo_solved
    assert result.evaluation is not None
    stats = compute_statistics(scenario, result.shifts, result.roster, result.evaluation)
    page = tmp_path / "report.html"
    content = report_html(scenario, stats, generated_at=datetime(2026, 11, 20, tzinfo=UTC))
    for loads_something in (b'src="', b'href="http', b"url(http", b"<link", b"<script", b"@import"):
        assert loads_something not in content
    page.write_bytes(content)
    browser.get(page.as_uri())
    for chart_id in CHARTS:
        figure = browser.find_element(By.ID, chart_id)
        svg = figure.find_element(By.TAG_NAME, "svg")
        assert svg.size["width"] > 200, chart_id
        assert svg.size["height"] > 100, chart_id
        marks = svg.find_elements(By.CSS_SELECTOR, "path, image, rect, use")
        assert len(marks) > 10, chart_id
    ARTIFACTS.mkdir(exist_ok=True)
    assert browser.save_screenshot(str(ARTIFACTS / "report.png"))
