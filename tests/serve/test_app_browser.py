"""The circle's web app in headless Chromium: a GP enters leave, trades a duty, the coordinator
approves; every page renders; screenshots go to ``test-artifacts/app-*.png`` (and, copied by
hand, to ``docs/screenshots/``)."""

from __future__ import annotations

import http.client
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from click.testing import CliRunner
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.expected_conditions import staleness_of
from selenium.webdriver.support.wait import WebDriverWait

from tests.serve.site import Site, make_site, night, served
from wachtplanner.cli import main

ARTIFACTS = Path(__file__).parents[2] / "test-artifacts"


@pytest.fixture
def site(tmp_path):
    with served(make_site(tmp_path)) as running:
        yield running


def _feed(site: Site, doctor: str, etag: str | None = None) -> tuple[int, str]:
    """GET a doctor's feed (conditionally); return the status and the ETag."""
    parts = urlsplit(site.base)
    connection = http.client.HTTPConnection(str(parts.hostname), parts.port, timeout=10)
    headers = {"If-None-Match": etag} if etag else {}
    connection.request("GET", f"/feeds/{site.feed[doctor]}.ics", headers=headers)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response.status, response.headers.get("ETag", "")


def _shot(browser, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    assert browser.save_screenshot(str(ARTIFACTS / f"app-{name}.png"))


def _set(browser, element_id: str, value: str) -> None:
    """Fill an input (date inputs too: their typed format depends on the browser's locale)."""
    field = browser.find_element(By.ID, element_id)
    browser.execute_script("arguments[0].value = arguments[1]", field, value)


def _click(browser, element) -> None:
    """Click a submit button and wait until the next page has replaced this one."""
    page = browser.find_element(By.TAG_NAME, "html")
    element.click()
    # Mid-navigation Chromium may answer "node does not belong to the document" instead of a
    # stale reference (seen once in a fresh clone); that is the same news, so wait on.
    WebDriverWait(browser, 10, ignored_exceptions=(WebDriverException,)).until(staleness_of(page))


def _errors(browser) -> str:
    found = browser.find_elements(By.CSS_SELECTOR, "[role=alert]")
    return " ".join(e.text for e in found)


def _login(browser, site: Site) -> None:
    browser.get(f"{site.base}/coordinator/")
    assert browser.current_url.endswith("/coordinator/login")
    _shot(browser, "coordinator-login")
    browser.find_element(By.ID, "token").send_keys(site.coordinator_key)
    _click(browser, browser.find_element(By.ID, "login"))
    assert browser.current_url.endswith("/coordinator/")


def test_leave_trade_approve_publish_in_a_browser(browser, site, tmp_path):
    """The README's walk-through, end to end in Chromium."""
    browser.delete_all_cookies()
    # The coordinator opens the next period (March) for leave and wishes.
    _login(browser, site)
    _set(browser, "next_start", "2027-03-01")
    _set(browser, "next_end", "2027-03-31")
    _click(
        browser, browser.find_element(By.XPATH, "//form[@action='/coordinator/settings']//button")
    )
    assert "01/03/2027" in browser.find_element(By.TAG_NAME, "main").text

    # Dr. Aerts enters leave; a range outside the period and a reversed one are refused, in
    # the page's language (the browser asks for Dutch).
    browser.get(f"{site.base}/gp/{site.gp['d0']}")
    assert "Dr. An Aerts" in browser.find_element(By.TAG_NAME, "h1").text
    for first, last, expected in (
        ("2027-04-10", "2027-04-12", "ligt buiten de volgende periode 2027-03-01..2027-03-31"),
        ("2027-03-09", "2027-03-02", "tot: 2027-03-02 ligt vóór van 2027-03-09."),
    ):
        _set(browser, "from", first)
        _set(browser, "to", last)
        _click(browser, browser.find_element(By.ID, "add-wish"))
        assert expected in _errors(browser)
    browser.get(f"{site.base}/gp/{site.gp['d0']}")
    _set(browser, "from", "2027-03-01")
    _set(browser, "to", "2027-03-05")
    browser.find_element(By.ID, "reason").send_keys("Congres")
    _click(browser, browser.find_element(By.ID, "add-wish"))
    rows = browser.find_elements(By.CSS_SELECTOR, "tr.wish")
    assert len(rows) == 1
    assert "Congres" in rows[0].text

    # It is in the collected scenario of March.
    out = tmp_path / "next.yaml"
    result = CliRunner().invoke(
        main, ["collect", str(site.scenario_path), "--db", str(site.db), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    collected = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert collected["horizon"] == {"start": "2027-03-01", "end": "2027-03-31"}
    d0 = next(d for d in collected["doctors"] if d["id"] == "d0")
    assert d0["unavailable"] == [{"from": "2027-03-01", "to": "2027-03-05", "reason": "Congres"}]

    # Dr. Aerts offers Monday 8 February; Dr. Claes takes it over; the coordinator approves.
    etags = {d: _feed(site, d)[1] for d in site.feed}
    offer = f"//form[input[@name='shift_id' and @value='{night('2027-02-08')}']]/button"
    _click(browser, browser.find_element(By.XPATH, offer))
    _shot(browser, "gp")
    browser.get(f"{site.base}/gp/{site.gp['d2']}")
    offers = browser.find_elements(By.CSS_SELECTOR, "tr.offer")
    assert len(offers) == 1
    assert "Dr. An Aerts" in offers[0].text
    _click(browser, offers[0].find_element(By.TAG_NAME, "button"))
    assert not browser.find_elements(By.CSS_SELECTOR, "tr.offer")  # taken, waiting for approval
    browser.get(f"{site.base}/coordinator/")
    assert "1 ruil(en) wachten op uw goedkeuring" in browser.page_source
    browser.get(f"{site.base}/coordinator/swaps")
    _shot(browser, "coordinator-swaps")
    _click(browser, browser.find_element(By.XPATH, "//button[@value='approve']"))
    assert browser.find_elements(By.CSS_SELECTOR, "tr.swap-approved")

    # Both feeds changed; nobody else's did (304 on their old ETag).
    for doctor in ("d0", "d2"):
        status, etag = _feed(site, doctor, etags[doctor])
        assert status == 200, doctor
        assert etag != etags[doctor], doctor
    for doctor in ("d1", "d3"):
        assert _feed(site, doctor, etags[doctor])[0] == 304, doctor
    browser.get(f"{site.base}/gp/{site.gp['d2']}")
    duties = browser.find_element(By.ID, "duties").find_element(By.XPATH, "following::table[1]")
    assert "08/02/2027" in duties.text

    # A swap that breaks a rule is refused with the rule named: Dr. Bos (nights of the 9th and
    # 11th) asks for the 10th, three nights in a row with 11 h rest where 12 are needed.
    browser.get(f"{site.base}/gp/{site.gp['d1']}")
    select = browser.find_element(By.ID, "other")
    browser.execute_script("arguments[0].value = arguments[1]", select, night("2027-02-10"))
    _click(browser, browser.find_element(By.XPATH, "//button[@name='kind' and @value='request']"))
    refused = _errors(browser)
    assert "rest" in refused
    assert "d1" in refused
    assert "Congres" not in browser.page_source  # a colleague's leave reason is never shown

    # Every coordinator page renders, in Dutch and in English.
    for page, marker in (
        ("grid", "Dr. Cis Claes"),
        ("fairness", "+13.0"),  # Dr. Claes took a night over: 3 x 13 = 39 points for 26
        ("versions", "swap"),
        ("", "Dr. Dirk Dams"),
    ):
        browser.get(f"{site.base}/coordinator/{page}")
        assert marker in browser.page_source, page
        _shot(browser, f"coordinator-{page or 'overview'}")
    browser.get(f"{site.base}/gp/{site.gp['d0']}?lang=en")
    assert "My duties" in browser.page_source
    browser.get(f"{site.base}/areas/noord?date=2027-02-08")
    assert "Dr. Cis Claes" in browser.page_source
    _shot(browser, "area")
