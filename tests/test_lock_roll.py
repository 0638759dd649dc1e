"""Bar locks on the piano roll (step 19), in a real Chromium on the live explorer (tiny model): ticking a bar's lock
(with the keyboard: Tab to "Lock bar 2", Space) shades that bar on the roll at once and closes its padlock; a
re-render keeps it; a click on bar 3's padlock ticks bar 3's checkbox (and the share link carries the lock), a
second click unticks it."""

from __future__ import annotations

import pytest
from browser_support import ARTIFACTS, WAIT

pytestmark = [pytest.mark.browser,  # the filters: pandas 3 deprecations inside gradio's queue, not ours
              pytest.mark.filterwarnings("ignore:.*no_silent_downcasting"),
              pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")]
# `page` (tests/conftest.py): one Chromium tab on the live server for this module, its tests run on it in order

LOCKED, UNLOCKED = "\U0001f512", "\U0001f513"  # explorer.media.figures.LOCKED / UNLOCKED
ROLL_JS = """() => {
  const gd = document.querySelector('#piano-roll .js-plotly-plot');
  const L = (gd && gd.layout) || {};
  return {shaded: (L.shapes || []).filter((s) => s.name === 'locked bar').map((s) => [s.x0, s.x1]),
          padlocks: (L.annotations || []).filter((a) => a.name === 'lock').map((a) => a.text),
          index: (L.annotations || []).map((a, i) => [a.name, i]).filter(([n]) => n === 'lock').map(([, i]) => i)};
}"""
SHARE = "#share-code textarea, #share-code input"


def roll(page) -> dict:
    return page.evaluate(ROLL_JS)


def wait_shaded(page, bars: list[list[float]]) -> None:
    page.wait_for_function(f"(want) => JSON.stringify(({ROLL_JS})().shaded) === JSON.stringify(want)", arg=bars,
                           timeout=WAIT)


def test_ticking_bar_2_with_the_keyboard_shades_bar_2_and_a_render_keeps_it(page):
    page.get_by_role("tab", name="Sliders").click()
    first = roll(page)
    assert first["shaded"] == [] and first["padlocks"] == [UNLOCKED] * 4
    # the checkboxes are the keyboard's way: labelled "Lock bar N", one Tab apart, ticked with Space
    page.get_by_label("Lock bar 1", exact=True).focus()
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.closest('#lock-bar-2') !== null")
    page.keyboard.press("Space")
    assert page.get_by_label("Lock bar 2", exact=True).is_checked()
    wait_shaded(page, [[1, 2]])
    assert roll(page)["padlocks"] == [UNLOCKED, LOCKED, UNLOCKED, UNLOCKED]
    # a render from the app (Count-in re-renders the melody: its share code changes) draws the lock too
    code = page.input_value(SHARE)
    page.locator("#count-in-cb input").click()
    page.wait_for_function(f"(old) => document.querySelector('{SHARE}').value !== old", arg=code, timeout=WAIT)
    after = roll(page)
    assert after["shaded"] == [[1, 2]] and after["padlocks"][1] == LOCKED
    assert not page.page_errors, page.page_errors


def test_a_click_on_bar_3s_padlock_locks_bar_3_and_a_second_click_unlocks_it(page):
    box = page.get_by_label("Lock bar 3", exact=True)
    assert not box.is_checked()
    code = page.input_value(SHARE)
    padlock = page.locator(f'#piano-roll g.annotation[data-index="{roll(page)["index"][2]}"]')
    padlock.click()
    page.wait_for_function("() => document.querySelector('#lock-bar-3 input').checked", timeout=WAIT)
    wait_shaded(page, [[1, 2], [2, 3]])
    assert roll(page)["padlocks"] == [UNLOCKED, LOCKED, LOCKED, UNLOCKED]
    # the app heard the tick: the share link now carries the lock
    page.wait_for_function(f"(old) => document.querySelector('{SHARE}').value !== old", arg=code, timeout=WAIT)
    page.screenshot(path=str(ARTIFACTS / "lock-roll.png"))
    page.locator(f'#piano-roll g.annotation[data-index="{roll(page)["index"][2]}"]').click()
    page.wait_for_function("() => !document.querySelector('#lock-bar-3 input').checked", timeout=WAIT)
    wait_shaded(page, [[1, 2]])
    assert page.get_by_label("Lock bar 2", exact=True).is_checked()
    assert not page.page_errors, page.page_errors
