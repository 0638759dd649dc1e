"""The note editor draws in the page: 15 notes clicked and dragged make no server call, and "Use these notes"
sends them all at once and makes them the melody (Chromium against the live in-process server)."""

from __future__ import annotations

import json

import pytest
from browser_support import EDITOR_CELL_JS, first_page

from explorer.errors import UserError
from explorer.session import editor
from vae.tokenizer import Note

WAIT = 60_000  # ms; generous for a loaded 2-core machine, never asserted as a duration

DRAWN_JS = """() => {
  const gd = document.querySelector('#note-editor .js-plotly-plot');
  const t = gd && (gd._fullData || []).find((d) => d.name === 'notes');
  return t ? (t.x || []).length / 3 : -1;
}"""
EXTRACTED_JS = """() => {
  const gd = document.querySelector('#extracted-roll .js-plotly-plot');
  const t = gd && (gd._fullData || []).find((d) => d.name === 'melody');
  return t ? JSON.stringify([Array.from(t.x), Array.from(t.y)]) : '';
}"""


def test_the_server_checks_drawn_notes_by_the_editors_rules():
    drawn = [Note(60, 0, 4), Note(62, 4, 6), Note(64, 10, 64)]
    assert editor.parse_notes(editor.notes_text(drawn)) == drawn
    assert editor.parse_notes("[[64,10,64],[60,0,4],[62,4,6]]") == drawn  # any order, sorted by start
    assert editor.parse_notes("") == []


@pytest.mark.parametrize("text, words", [
    ("[[60,0,4],[62,3,6]]", "one note at a time"),  # overlapping: not monophonic
    ("[[60,0,4.5]]", "note grid"),  # off the 16th grid
    ("[[60,60,65]]", "inside the 64 sixteenths"),  # past the window
    ("[[60,64,65]]", "sixteenths"),
    ("[[60,4,4]]", "end after it starts"),
    ("[[130,0,4]]", "piano key"),
    ("[[60,0]]", "note grid"),
    ("{\"a\": 1}", "note grid"),
    ("not json", "note grid"),
    ("[[true,0,4]]", "note grid"),
    ("[" * 5000 + "]" * 5000, "note grid"),
    ("[[60,0,4]]" * 3000, "far too long"),
])
def test_notes_the_editor_could_not_have_drawn_are_refused_with_a_sentence(text, words):
    with pytest.raises(UserError, match=words):
        editor.parse_notes(text)


@pytest.mark.browser
@pytest.mark.filterwarnings("ignore:.*no_silent_downcasting")
@pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")
def test_fifteen_notes_are_drawn_in_the_page_and_sent_once(explorer_server, chromium):
    page = first_page(chromium, WAIT)
    calls: list[str] = []  # every request an event makes (Gradio's queue), not the page's long-lived streams
    page.on("request", lambda r: calls.append(r.url) if "/queue/join" in r.url or "/run/" in r.url else None)
    page.goto(explorer_server.url)
    page.wait_for_selector("#piano-roll .js-plotly-plot")
    page.get_by_role("tab", name="Upload").click()
    page.get_by_text("…or draw your notes").click()
    page.wait_for_function("() => { const gd = document.querySelector('#note-editor .js-plotly-plot'); "
                           "return gd && gd.__editorBound && gd.__editor; }")
    page.wait_for_timeout(500)  # the opening's own request has been sent
    before = len(calls)

    def cell(step, pitch):
        return page.evaluate(EDITOR_CELL_JS, [step, pitch])

    def drawn_count(n):  # polled on a timer: animation frames may not come while nothing on the page moves
        page.wait_for_function(f"() => ({DRAWN_JS})() === {n}", polling=100)

    expected = []
    for k in range(13):  # 13 clicks, a beat apart: each a beat-long note
        step, pitch = 4 * k, 60 + (k * 5) % 12
        c = cell(step, pitch)
        page.mouse.click(c["x"], c["y"])
        expected.append(Note(pitch, step, step + 4))
        drawn_count(len(expected))
    c = cell(10, 77)  # a click on an empty cell inside a note: adds a note that cuts it ...
    page.mouse.click(c["x"], c["y"])
    drawn_count(14)
    page.mouse.click(c["x"], c["y"])  # ... and a second click removes it (the cut stays)
    drawn_count(13)
    expected[2] = Note(expected[2].pitch, 8, 10)
    a, b = cell(52, 72), cell(55, 72)  # a drag along the row of C5: one note over bar 4 beat 2
    page.mouse.move(a["x"] - 3, a["y"] - 3)
    page.mouse.down()
    page.mouse.move(b["x"] + 3, b["y"] + 3, steps=8)
    page.mouse.up()
    drawn_count(14)
    c = cell(60, 67)
    page.mouse.click(c["x"], c["y"])
    drawn_count(15)
    page.wait_for_timeout(500)  # a request a click might have made has been sent by now
    assert calls[before:] == [], "drawing must not call the server"
    drawn = editor.parse_notes(page.locator("#editor-notes textarea, #editor-notes input").first.input_value())
    assert len(drawn) == 15
    assert drawn[13] == Note(72, 52, 56) and drawn[14] == Note(67, 60, 64)
    assert drawn[:13] == expected

    old = page.evaluate("() => document.querySelector('#title-md strong')?.innerText || ''")
    page.locator("#use-notes-btn").click()
    page.wait_for_function("(old) => { const t = document.querySelector('#title-md strong'); "
                           "return t && t.innerText.trim() !== old && t.innerText.startsWith('Your notes'); }",
                           arg=old)
    assert len(calls) - before == 1, calls[before:]  # the one send
    page.wait_for_function(f"() => !!({EXTRACTED_JS})()", polling=100)
    x, y = json.loads(page.evaluate(EXTRACTED_JS))
    shown = [(int(y[i]), round(x[i] * 16)) for i in range(0, len(x), 3)]
    assert shown == [(n.pitch, n.start) for n in drawn]  # the melody is the drawn notes
    assert not page.page_errors, page.page_errors


def test_no_event_listens_to_the_drawn_notes_box_and_the_send_reads_it(explorer_server):
    """The page's script writes every edit into #editor-notes: an event on that box would be a request a click."""
    cfg = explorer_server.demo.config
    box = next(c["id"] for c in cfg["components"] if c.get("props", {}).get("elem_id") == "editor-notes")
    button = next(c["id"] for c in cfg["components"] if c.get("props", {}).get("elem_id") == "use-notes-btn")
    assert not [d for d in cfg["dependencies"] if any(t[0] == box for t in d["targets"])]
    sends = [d for d in cfg["dependencies"] if box in d["inputs"] and any(t[0] == button for t in d["targets"])]
    assert len(sends) == 1
