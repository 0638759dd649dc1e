"""Click a chord symbol to edit it (step 18), in a real Chromium on the live explorer (tiny model): a click on a chord
over the piano roll fills the empty "Your chords" box with the chords shown and selects the clicked one; typing over
it and pressing Enter plays the melody over the new line; with a shorter typed line (repeated over the melody) a
click selects the chord of the typed line that sounds there."""

from __future__ import annotations

import pytest
from browser_support import ARTIFACTS, WAIT

from explorer.session.sharecode import encode_z
from explorer.session.slider_move import quantise

pytestmark = [pytest.mark.browser,  # the filters: pandas 3 deprecations inside gradio's queue, not ours
              pytest.mark.filterwarnings("ignore:.*no_silent_downcasting"),
              pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")]
# `page` (tests/conftest.py): one Chromium tab on the live server for this module, its tests run on it in order

TEMPERATURE, SEED = 1.0, 3  # the tiny model's greedy melodies are mostly silent; sampled ones have notes
BOX = "#your-chords textarea, #your-chords input"
SYMBOLS_JS = """() => {
  const gd = document.querySelector('#piano-roll .js-plotly-plot');
  return ((gd && gd.layout && gd.layout.annotations) || []).filter((a) => a.name === 'chord').map((a) => a.text);
}"""
META_JS = "() => { const gd = document.querySelector('#piano-roll .js-plotly-plot'); return gd.layout.meta; }"
BOX_JS = f"""() => {{
  const b = document.querySelector('{BOX}');
  return {{value: b.value, start: b.selectionStart, end: b.selectionEnd, focused: document.activeElement === b}};
}}"""
TITLE_LINE_JS = "() => document.querySelector('#title-md').innerText"


@pytest.fixture(scope="module")
def long_melody(tiny_services) -> str:
    """A share code of a corpus melody whose tiny-model notes reach the fourth bar (four chords over the roll)."""
    s = tiny_services
    bar = s.format.steps_per_bar
    for row in range(0, len(s.index.mu), 3):
        z = quantise(s.index.mu[row])
        notes = s.notes(s.decode(z, TEMPERATURE, SEED))
        if notes and max(n.end for n in notes) > 3 * bar:
            return encode_z(z, TEMPERATURE, SEED, backing="Chords: bass and chord", title="Chords to edit")
    pytest.fail("no tiny-model melody reaches its fourth bar")


def click_chord(page, i: int) -> None:
    page.locator(f'#piano-roll g.annotation[data-index="{i}"]').click()


def chord_line(page) -> list[list[str]]:
    """The title line's chords, bar by bar."""
    line = page.evaluate(TITLE_LINE_JS).split("chords: ", 1)[1].split(" · ")[0]
    return [bar.split() for bar in line.split("|")]


def test_a_click_fills_the_empty_box_selects_the_chord_and_enter_plays_the_new_line(page, explorer_server,
                                                                                   long_melody):
    page.goto(f"{explorer_server.url}?m={long_melody}")
    page.wait_for_function(f"() => ({SYMBOLS_JS})().length >= 3", timeout=WAIT)
    symbols, meta = page.evaluate(SYMBOLS_JS), page.evaluate(META_JS)
    assert page.evaluate(BOX_JS)["value"] == ""
    click_chord(page, 1)
    page.wait_for_function(f"() => ({BOX_JS})().value !== ''", timeout=WAIT)
    box = page.evaluate(BOX_JS)
    # the box holds the chords shown, the clicked one selected in its own bar, and has the focus
    assert box["value"] == meta["chord_line"]
    assert [c for bar in box["value"].split("|") for c in bar.split()] == [c for bar in chord_line(page) for c in bar]
    assert box["focused"]
    assert box["value"][box["start"]:box["end"]] == symbols[1]
    bar, _ = meta["chord_at"][1]
    assert box["value"][:box["start"]].count("|") == bar + 1
    new = "F#7" if symbols[1] != "F#7" else "Bbm"
    page.keyboard.type(new)  # over the selection
    page.keyboard.press("Enter")
    page.wait_for_function(f"(s) => ({SYMBOLS_JS})().includes(s)", arg=new, timeout=WAIT)
    assert page.evaluate(BOX_JS)["value"] == meta["chord_line"][:box["start"]] + new + meta["chord_line"][box["end"]:]
    assert new in chord_line(page)[bar]  # played and shown where the clicked chord was
    page.screenshot(path=str(ARTIFACTS / "chord-click.png"))
    assert not page.page_errors, page.page_errors


def test_a_shorter_typed_line_repeats_and_a_click_selects_the_chord_that_sounds_there(page, long_melody):
    box = page.locator(BOX).first
    box.fill("C G")
    box.press("Enter")
    page.wait_for_function(f"() => ({SYMBOLS_JS})().join(' ').startsWith('C G C')", timeout=WAIT)
    assert "they repeat from the top" in page.evaluate(TITLE_LINE_JS)
    click_chord(page, 2)  # the third bar's C is the line's first chord again
    page.wait_for_function(f"() => ({BOX_JS})().focused", timeout=WAIT)
    state = page.evaluate(BOX_JS)
    assert (state["value"], state["start"], state["end"]) == ("C G", 0, 1)
    click_chord(page, 1)
    state = page.evaluate(BOX_JS)
    assert (state["value"], state["start"], state["end"]) == ("C G", 2, 3)
    assert not page.page_errors, page.page_errors
