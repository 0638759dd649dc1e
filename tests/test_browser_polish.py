"""The page's finish in a real Chromium (as tests/test_browser.py): a shared link restores everything the page
showed, a slider's number box refuses a value out of range with a sentence and puts the slider back, and Compose
says which waypoints a form left out. Every wait is on an event (a URL, a text, a value), never on time."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlparse

import pytest
from browser_support import ARTIFACTS, WAIT
from test_browser import (
    ERROR_BADGES_JS,
    expect,
    random_melody,
    title,
)

from explorer.session.sharecode import decode_z

pytestmark = [pytest.mark.browser,  # the filters: pandas 3 deprecations inside gradio's queue, not ours
              pytest.mark.filterwarnings("ignore:.*no_silent_downcasting"),
              pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")]

SLIDERS_JS = """() => JSON.stringify(Array.from(document.querySelectorAll('.slider-grid input[type=number]'))
  .map((b) => b.value))"""


def code_of(url: str) -> str:
    return parse_qs(urlparse(url).query)["m"][0]


def wait_for_code(page, check) -> dict:
    """Wait until the page's URL carries a code for which check(decoded) holds (each wait is for the URL to
    change: the page writes every new share code into it); returns the decoded code."""
    url = page.url
    while True:
        d = decode_z(code_of(url))
        if check(d):
            return d
        page.wait_for_function("(old) => location.href !== old", arg=url, timeout=WAIT)
        url = page.url


def slider_values(page) -> list[str]:
    return json.loads(page.evaluate(SLIDERS_JS))


def test_a_shared_link_restores_the_name_loop_sliders_chords_and_count_in(page, explorer_server):
    page.get_by_role("tab", name="Sliders").click()
    # a typed slider value: the move is steered, so the melody's own slider values differ from those set
    box = page.locator("#pc-3 input[type=number]")
    value = "2.5" if float(box.input_value()) < 1 else "-2.5"
    old = page.url
    box.fill(value)
    box.blur()
    page.wait_for_function("(old) => location.href !== old", arg=old, timeout=WAIT)
    wait_for_code(page, lambda d: d["sliders"] is not None and abs(d["sliders"][2] - float(value)) < 1e-6)
    # a name, Loop, count-in and typed chords: each goes into the link
    page.locator("#name-box textarea, #name-box input").first.fill("My tune")
    page.locator("#name-box textarea, #name-box input").first.press("Enter")
    expect()(page.locator("#title-md strong")).to_have_text("My tune", timeout=WAIT)
    wait_for_code(page, lambda d: d["title"] == "My tune")
    page.locator("#loop-cb input").check()
    wait_for_code(page, lambda d: d["loop"])
    page.locator("#count-in-cb input").check()
    wait_for_code(page, lambda d: d["count_in"])
    chords = page.locator("#your-chords textarea, #your-chords input").first
    chords.fill("Am F C G")
    chords.press("Enter")
    shared = wait_for_code(page, lambda d: d["chords"] == "Am F C G")
    assert shared["title"] == "My tune" and shared["loop"] and shared["count_in"]
    sliders, code = slider_values(page), code_of(page.url)

    other = page.context.new_page()
    try:
        other.goto(f"{explorer_server.url}?m={code}")
        expect()(other.locator("#title-md strong")).to_have_text("My tune", timeout=WAIT)
        other.wait_for_function(f"() => ({SLIDERS_JS})() === {json.dumps(json.dumps(sliders, separators=(',', ':')))}",
                                timeout=WAIT)
        expect()(other.locator("#loop-cb input")).to_be_checked(timeout=WAIT)
        expect()(other.locator("#count-in-cb input")).to_be_checked(timeout=WAIT)
        expect()(other.locator("#your-chords textarea, #your-chords input").first).to_have_value("Am F C G")
        other.wait_for_function("() => document.querySelector('#melody-audio audio')?.loop === true", timeout=WAIT)
        # the restored page shares the very same link
        other.wait_for_function("(c) => new URL(location.href).searchParams.get('m') === c", arg=code, timeout=WAIT)
        other.screenshot(path=str(ARTIFACTS / "polish-1-shared-everything.png"))
        assert slider_values(other) == sliders
    finally:
        other.close()
    # back to what the next tests expect: no loop, no count-in, no chords (each a render of its own)
    for box_id in ("#loop-cb", "#count-in-cb"):
        page.locator(f"{box_id} input").uncheck()
    chords.fill("")
    chords.press("Enter")
    wait_for_code(page, lambda d: not d["loop"] and not d["count_in"] and not d["chords"])
    assert not page.page_errors, page.page_errors


@pytest.mark.parametrize("typed", ["99", "-7"])
def test_a_slider_value_out_of_range_is_refused_with_a_sentence_and_put_back(page, typed):
    page.get_by_role("tab", name="Sliders").click()
    box = page.locator("#pc-2 input[type=number]")
    before, melody = box.input_value(), title(page)
    box.fill(typed)
    box.blur()
    notice = page.get_by_text(re.compile(rf"goes from -3 to 3, not {re.escape(typed)}: it is back at"))
    expect()(notice.first).to_be_visible(timeout=WAIT)
    expect()(box).to_have_value(before, timeout=WAIT)  # the box shows the slider's value again
    page.screenshot(path=str(ARTIFACTS / f"polish-2-slider-{typed}.png"))
    assert page.evaluate(ERROR_BADGES_JS) == 0 and title(page) == melody
    # and the slider still works: a value in range moves the melody
    old = page.url
    box.fill("1.5" if abs(float(before) - 1.5) > 0.2 else "-1.5")
    box.blur()
    page.wait_for_function("(old) => location.href !== old", arg=old, timeout=WAIT)
    assert not page.page_errors, page.page_errors


def test_compose_says_which_waypoints_the_form_left_out(page):
    page.get_by_role("tab", name="Compose").click()
    page.get_by_role("button", name="Clear waypoints").click()
    waypoints = page.locator("#compose-waypoints")
    expect()(waypoints).to_contain_text("No waypoints yet.", timeout=WAIT)
    for n in (1, 2, 3):
        if n > 1:  # a new melody for each waypoint
            random_melody(page)
            page.get_by_role("tab", name="Compose").click()
        page.locator("#add-wp").click()
        expect()(waypoints.locator("li")).to_have_count(n, timeout=WAIT)  # "1. …": a numbered list
    page.locator("#form-radio").get_by_text("AABA", exact=False).click()
    page.locator("#compose-btn").click()
    notice = page.get_by_text(re.compile(r"AABA uses waypoints 1 \(A: .*\) and 2 \(B: .*\); it left out waypoint 3"))
    expect()(notice.first).to_be_visible(timeout=WAIT)
    page.screenshot(path=str(ARTIFACTS / "polish-3-compose-left-out.png"))
    assert not page.page_errors, page.page_errors
