"""The explorer in a real Chromium (Playwright, Debian's /usr/bin/chromium) against the live in-process server.

The tests run in order on one page, like a user: open the page, open a shared link, drag a slider,
click the map, upload a MIDI file. Screenshots of each stage go to tests/artifacts/.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
from browser_support import ARTIFACTS, EDITOR_CELL_JS, WAIT
from conftest import busy_train_window, window_midi

from explorer.media import figures
from explorer.media.audio import read_wav
from explorer.session.sharecode import decode_z, encode_z
from explorer.session.slider_move import quantise

pytestmark = [pytest.mark.browser,  # the filters: pandas 3 deprecations inside gradio's queue, not ours
              pytest.mark.filterwarnings("ignore:.*no_silent_downcasting"),
              pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")]
# `page` (tests/conftest.py): one Chromium tab on the live server for this module, its tests run on it in order

ROLL_JS = """() => {
  const gd = document.querySelector('#piano-roll .js-plotly-plot');
  return JSON.stringify((gd && gd._fullData || []).map((t) => [t.name, Array.from(t.x || []), Array.from(t.y || [])]));
}"""
# Gradio 6 plays audio in a waveform player; the file it plays is the one its download link points at.
AUDIO_JS = "() => { const a = document.querySelector('#melody-audio a[download]'); return a ? a.href : ''; }"


def expect():
    from playwright.sync_api import expect

    return expect


def roll(page) -> list:
    return json.loads(page.evaluate(ROLL_JS))


TITLE_JS = "() => { const t = document.querySelector('#title-md strong'); return t ? t.innerText.trim() : ''; }"


def title(page) -> str:
    """The current melody's title (the bold text; #title-md also shows a timer while an event runs)."""
    return page.evaluate(TITLE_JS)


def wait_for_title_change(page, old: str) -> str:
    page.wait_for_function(f"(old) => {{ const t = ({TITLE_JS})(); return t && t !== old; }}", arg=old, timeout=WAIT)
    return title(page)


def random_melody(page) -> str:
    """Press Random on the Sliders tab and wait for its melody; returns the new title."""
    page.get_by_role("tab", name="Sliders").click()
    old = title(page)
    page.locator("#random-btn").click()
    return wait_for_title_change(page, old)


TEMPERATURE, SEED = 1.0, 3  # the tiny model's greedy melodies are mostly silent; sampled ones have notes


@pytest.fixture(scope="module")
def slider_case(tiny_services):
    """A corpus z and a PC1 value whose melodies differ (the barely trained tiny decoder leans little on z).

    Returns (z0, value, notes before, notes after, z after), computed as the app does it: the sliders not
    moved keep their exact values, the move is steered, and z is rounded through float16.
    """
    s = tiny_services
    for row in range(0, len(s.index.mu), 7):
        z0 = quantise(s.index.mu[row])
        before = s.notes(s.decode(z0, TEMPERATURE, SEED))
        if not before:
            continue
        current = s.sliders_of(z0)
        for value in (2.5, -2.5, 1.5, -1.5):
            if abs(value - current[0]) < 1:
                continue
            moved = np.asarray([value, *current[1:]], dtype=np.float32)
            z1 = quantise(s.z_from_sliders(z0, moved))
            after = s.notes(s.decode(z1, TEMPERATURE, SEED))
            if after and after != before:
                return z0, value, before, after, z1
    pytest.fail("no slider move changes a melody of the tiny model")


def melody_trace(page) -> tuple[list, list]:
    return {name: (x, y) for name, x, y in roll(page)}["melody"]


def assert_roll_shows(page, notes) -> None:
    """Wait until the piano roll's melody trace has these notes' pitches, then check pitches and onsets."""
    want = json.dumps([n.pitch for n in notes for _ in range(2)], separators=(",", ":"))
    # One reading of the trace, taken when it matches (a second read could catch Plotly mid-redraw).
    handle = page.wait_for_function(f"""() => {{
      const m = JSON.parse(({ROLL_JS})()).find((t) => t[0] === 'melody');
      return m && m[1].length === {3 * len(notes)} && JSON.stringify(m[2].filter((p) => p !== null)) === '{want}'
        ? JSON.stringify(m) : null;
    }}""", timeout=WAIT)
    _, x, y = json.loads(handle.json_value())
    assert len(x) == 3 * len(notes)  # start, end and a gap per note
    assert [p for p in y if p is not None] == [n.pitch for n in notes for _ in range(2)]
    assert [v for v in x[::3]] == pytest.approx([n.start / 16 for n in notes])


def wait_until_settled(page, quiet_ms: int = 1500) -> None:
    """Wait until the page's URL (which carries the melody) has not changed for quiet_ms: renders that a drag
    set off while moving have all arrived."""
    page.evaluate("""() => { window.__lastHref = location.href; window.__lastChange = performance.now();
      clearInterval(window.__settle); window.__settle = setInterval(() => {
        if (location.href !== window.__lastHref) { window.__lastHref = location.href; window.__lastChange = performance.now(); }
      }, 50); }""")
    page.wait_for_function(f"() => performance.now() - window.__lastChange > {quiet_ms}", timeout=WAIT)


def share_z(page) -> np.ndarray:
    return decode_z(parse_qs(urlparse(page.url).query)["m"][0])["z"]


def test_page_loads_a_melody_and_a_share_link(page, explorer_server, tiny_services, small_corpus, slider_case):
    page.goto(explorer_server.url)
    page.wait_for_selector("#piano-roll .js-plotly-plot")
    page.wait_for_function("() => new URL(location.href).searchParams.get('m')", timeout=WAIT)
    code = parse_qs(urlparse(page.url).query)["m"][0]
    welcome = explorer_server.handlers.welcome_window()
    assert np.array_equal(decode_z(code)["z"], quantise(tiny_services.index.mu[welcome]))
    expect()(page.locator("#title-md")).to_contain_text(small_corpus.tunes[small_corpus.tune[welcome]]["title"])
    assert page.input_value("#share-code textarea, #share-code input") == code
    assert [name for name, _, _ in roll(page)] == ["original", "melody"]  # the corpus tune drawn faintly behind
    page.screenshot(path=str(ARTIFACTS / "1-welcome.png"))

    # a shared link restores the melody and its playback settings
    z0, _, before, _, _ = slider_case
    code = encode_z(z0, TEMPERATURE, SEED, tempo=100, program=73, backing="Drone", title="Reel *in* D")
    page.goto(f"{explorer_server.url}?m={code}")
    expect()(page.locator("#title-md strong")).to_have_text("Reel *in* D", timeout=WAIT)  # as typed
    expect()(page.get_by_label("Drone")).to_be_checked()
    expect()(page.get_by_label("number input for Temperature (0 = the most likely melody)")).to_have_value("1")
    expect()(page.get_by_label("number input for Tempo (quarter notes/min)")).to_have_value("100")
    expect()(page.get_by_label("number input for Seed").or_(page.get_by_label("Seed"))).to_have_value("3")
    page.wait_for_function(AUDIO_JS, timeout=WAIT)
    page.wait_for_selector("#piano-roll .js-plotly-plot")
    assert_roll_shows(page, before)
    assert np.array_equal(share_z(page), z0)
    page.screenshot(path=str(ARTIFACTS / "2-shared-link.png"))


def test_sliders_rerender_the_melody(page, tiny_services, slider_case):
    z0, value, before, after, z1 = slider_case
    old_audio, old_url = page.evaluate(AUDIO_JS), page.url
    assert old_audio
    # typing a value and leaving the box fires 'release'
    number = page.locator("#pc-1 input[type=number]")
    number.fill(f"{value}")
    number.blur()
    page.wait_for_function(f"(old) => {{ const a = ({AUDIO_JS})(); return a && a !== old; }}", arg=old_audio,
                           timeout=WAIT)
    page.wait_for_function("(old) => location.href !== old", arg=old_url, timeout=WAIT)
    # the page's melody is the app's steered move to that value (steering lands near the value, not on it)
    assert np.array_equal(share_z(page), z1)
    assert abs(tiny_services.sliders_of(z1)[0] - value) < abs(tiny_services.sliders_of(z0)[0] - value)
    expect()(page.locator("#title-md strong")).to_have_text("after Reel *in* D")  # moved: no longer the reel itself
    assert_roll_shows(page, after)
    page.screenshot(path=str(ARTIFACTS / "3-slider-typed.png"))

    # dragging the range with the mouse fires 'release' on mouse-up
    old_audio, old_url = page.evaluate(AUDIO_JS), page.url
    rng = page.locator("#pc-1 input[type=range]")
    box = rng.bounding_box()
    target = 0.9 if value < 0 else 0.1  # the far end from where the thumb is
    page.mouse.move(box["x"] + box["width"] * (1 - target), box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * target, box["y"] + box["height"] / 2, steps=5)
    page.mouse.up()
    dragged = float(number.input_value())
    assert abs(dragged - value) > 2
    page.wait_for_function(f"(old) => {{ const a = ({AUDIO_JS})(); return a && a !== old; }}", arg=old_audio,
                           timeout=WAIT)
    page.wait_for_function("(old) => location.href !== old", arg=old_url, timeout=WAIT)
    wait_until_settled(page)  # the drag rendered on the way: read the melody it ended on
    z = share_z(page)
    moved = tiny_services.sliders_of(z)[0] - tiny_services.sliders_of(z1)[0]
    assert np.sign(moved) == np.sign(dragged - value) and abs(moved) > 0.5  # steered toward the dragged value
    assert_roll_shows(page, tiny_services.notes(tiny_services.decode(z, TEMPERATURE, SEED)))
    page.screenshot(path=str(ARTIFACTS / "4-slider-dragged.png"))

    # the arrow keys move it too: each key renders the melody, and letting the key go completes the panel (the
    # share link in the URL follows), as letting the mouse go does
    old_audio, old_url = page.evaluate(AUDIO_JS), page.url
    rng.focus()
    for _ in range(20):
        page.keyboard.press("ArrowLeft" if dragged > 0 else "ArrowRight")
    assert abs(float(number.input_value()) - dragged) == pytest.approx(1.0)
    page.wait_for_function(f"(old) => {{ const a = ({AUDIO_JS})(); return a && a !== old; }}", arg=old_audio,
                           timeout=WAIT)
    page.wait_for_function("(old) => location.href !== old", arg=old_url, timeout=WAIT)
    wait_until_settled(page)
    z_key = share_z(page)
    assert not np.array_equal(z_key, z)
    assert_roll_shows(page, tiny_services.notes(tiny_services.decode(z_key, TEMPERATURE, SEED)))


def test_a_held_drag_is_heard_before_the_release_which_keeps_its_melody(page, explorer_server):
    """While a slider is held, the page plays and draws the app's melodies itself (explorer.serve.drag); letting go
    completes the panel with the melody last heard, without rendering it again."""
    wait_until_settled(page)
    old_url = page.url
    explorer_server.demo.drags.audio = "mp3"  # as over a slow link (on this loopback the page asks for WAV)
    try:
        _held_drag(page, explorer_server, old_url)
    finally:  # a server-wide setting: left on, it made test_routes' WAV request get MP3
        explorer_server.demo.drags.audio = "auto"


def _held_drag(page, explorer_server, old_url: str) -> None:
    rng = page.locator("#pc-2 input[type=range]")
    rng.scroll_into_view_if_needed()
    box = rng.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.15, y)
    page.mouse.down()
    for frac in (0.35, 0.55, 0.75, 0.9):
        page.mouse.move(box["x"] + box["width"] * frac, y, steps=3)
        page.wait_for_timeout(100)
    # still held: the player plays the page's own audio, and the roll shows the drag's last melody
    page.wait_for_function("() => (document.querySelector('#melody-audio audio')?.getAttribute('src') || '')"
                           ".startsWith('blob:')", timeout=WAIT)
    token = page.input_value("#drag-token textarea, #drag-token input").rpartition("|")[2]
    drag = explorer_server.demo.drags._drags[token]
    held = float(rng.input_value())
    deadline = time.monotonic() + WAIT / 1000
    while drag.values is None or abs(float(drag.values[1]) - held) > 1e-3 or drag.pending:  # the last position's
        assert time.monotonic() < deadline, "the held position was never rendered"
        page.wait_for_timeout(50)
    assert page.url == old_url  # the panel (share link, downloads, history) waits for the release
    assert_roll_shows(page, drag.rendered.notes)
    playing = Path(drag.rendered.wav_path).name
    # the player gets the last preview's sound (waited for: the browser may still be decoding it under load)
    page.wait_for_function("(f) => document.querySelector('#melody-audio audio').dataset.melody === f", arg=playing,
                           timeout=WAIT)
    # the browser decodes the page's own sound (MP3): as long as the melody's WAV
    seconds = page.wait_for_function("""() => { const a = document.querySelector('#melody-audio audio');
      return a.getAttribute('src').startsWith('blob:') && a.readyState >= 1 && a.duration; }""", timeout=WAIT)
    samples, rate = read_wav(drag.rendered.wav_path)
    assert seconds.json_value() == pytest.approx(len(samples) / rate, abs=0.1)
    page.mouse.up()
    page.wait_for_function("(old) => location.href !== old", arg=old_url, timeout=WAIT)
    page.wait_for_function(f"(f) => ({AUDIO_JS})().endsWith('/' + f)", arg=playing, timeout=WAIT)  # the same file
    z = share_z(page)
    assert np.array_equal(z, drag.after.z)  # the melody heard is the one kept
    assert not page.page_errors


def test_clicking_the_map_loads_that_tune(page, small_corpus):
    wait_until_settled(page)  # no render of an earlier test still on its way (it would move the map or the title)
    page.get_by_role("tab", name="Map").click()
    page.wait_for_selector("#corpus-map .js-plotly-plot")
    page.wait_for_function("() => { const gd = document.querySelector('#corpus-map .js-plotly-plot'); "
                           "return gd && gd._fullLayout && gd._fullData && gd._fullData.length && gd.__melodyBound; }",
                           timeout=WAIT)
    # the screen position of a corpus point with no other point (or the star) within 12 px
    point = page.evaluate("""() => {
      const gd = document.querySelector('#corpus-map .js-plotly-plot');
      const L = gd._fullLayout, box = gd.getBoundingClientRect();
      const px = (t, i) => [box.left + L._size.l + L.xaxis.l2p(t.x[i]), box.top + L._size.t + L.yaxis.l2p(t.y[i])];
      const all = [];
      for (const t of gd._fullData) for (let i = 0; i < (t.x || []).length; i++) {
        const [x, y] = px(t, i);
        all.push({x, y, id: t.customdata ? t.customdata[i] : null});
      }
      const inside = (p) => p.x > box.left + L._size.l + 20 && p.x < box.left + L._size.l + L._size.w - 20 &&
                            p.y > box.top + L._size.t + 20 && p.y < box.top + L._size.t + L._size.h - 20;
      for (const p of all) {
        if (p.id === null || !inside(p)) continue;
        if (all.every((q) => q === p || Math.hypot(q.x - p.x, q.y - p.y) > 12)) return p;
      }
      return null;
    }""")
    assert point is not None, "no isolated point on the map"
    expected = small_corpus.tunes[int(point["id"])]["title"]
    page.mouse.move(point["x"], point["y"])
    page.mouse.click(point["x"], point["y"])
    # waited for by its content: a title change alone could be another event's
    page.wait_for_function(f"(want) => ({TITLE_JS})().startsWith(want)", arg=expected, timeout=WAIT)
    assert title(page).startswith(expected)
    page.screenshot(path=str(ARTIFACTS / "5-map-click.png"))


def test_uploading_a_midi_file_shows_neighbours(page, small_corpus, tmp_path):
    row = busy_train_window(small_corpus, after=500)
    path = window_midi(small_corpus, row, tmp_path / "my tune.mid")
    page.get_by_role("tab", name="Upload").click()
    old = title(page)
    page.locator("#upload-file input[type=file]").set_input_files(str(path))
    assert wait_for_title_change(page, old).startswith("my tune.mid")
    # Gradio 6 tables are virtual: rows are div[role=row] (the <tbody> only sizes the columns)
    rows = page.locator("#neighbours .virtual-body [role=row]")
    expect()(rows).to_have_count(10, timeout=WAIT)
    own_title = small_corpus.tunes[small_corpus.tune[row]]["title"]
    expect()(rows.first).to_contain_text(own_title)
    expect()(page.locator("#upload-status")).to_contain_text("my tune.mid")
    expect()(page.locator("#cand-dd input")).to_have_value("Track 2 \"Melody\" (bars 1-4)")  # track 1 holds the tempo
    expect()(page.locator("#window-dd input")).to_have_value("bars 1-4")
    expect()(page.locator("#upload-status")).to_contain_text("of its notes exactly")
    # the exact extracted notes are offered beside the model's rendering: audio and MIDI/WAV downloads
    expect()(page.locator("#extracted-audio a[download]")).to_have_attribute("href", re.compile("extracted-"), timeout=WAIT)
    expect()(page.locator("#extracted-files a[href*='extracted-']")).to_have_count(2, timeout=WAIT)
    page.screenshot(path=str(ARTIFACTS / "6-upload.png"), full_page=True)

    # clicking a neighbour's row loads that corpus melody
    second = rows.nth(1)
    want = second.locator("[role=gridcell]").nth(1).inner_text().strip()
    old = title(page)
    second.locator("[role=gridcell]").nth(1).click()
    assert wait_for_title_change(page, old).startswith(want)
    page.screenshot(path=str(ARTIFACTS / "7-neighbour.png"))
    assert not page.page_errors, page.page_errors


def test_two_sessions_never_see_each_other(page, explorer_server):
    """A second tab is its own session: it does not see the first one's upload or melody, and its moves
    do not change the first one's."""
    page.get_by_role("tab", name="Upload").click()
    a_title, a_status = title(page), page.locator("#upload-status").inner_text()
    assert "my tune.mid" in a_status  # the upload test ran in this tab
    other = page.context.new_page()
    try:
        other.goto(explorer_server.url)
        other.wait_for_selector("#piano-roll .js-plotly-plot")
        other.get_by_role("tab", name="Upload").click()
        expect()(other.locator("#upload-status")).not_to_contain_text("my tune.mid")
        b_title = title(other)
        other.get_by_role("tab", name="Sliders").click()
        other.locator("#random-btn").click()
        assert wait_for_title_change(other, b_title).startswith("Random melody")
        page.bring_to_front()
        assert title(page) == a_title and "my tune.mid" in page.locator("#upload-status").inner_text()
        assert not page.page_errors, page.page_errors
    finally:
        other.close()


ERROR_BADGES_JS = """() => Array.from(document.querySelectorAll('.error, [class*="error"]'))
  .filter((e) => e.offsetParent && (e.innerText || '').trim() === 'Error').length"""


def test_a_refused_file_shows_its_sentence_and_leaves_the_page_usable(page, tmp_path):
    """One refused upload or ABC typo shows its one sentence; no component gets an "Error" badge, the melody
    stays, and the sliders' screen still works."""
    from vae.errors import MusicReadError
    from vae.midi_import import extract_melodies

    bad = tmp_path / "broken.mid"
    bad.write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0" + b"\x00" * 40)
    with pytest.raises(MusicReadError) as refused:
        extract_melodies(bad)
    page.get_by_role("tab", name="Upload").click()
    before = title(page)
    clear = page.locator("#upload-file button[aria-label='Clear'], #upload-file button[aria-label='Remove this file']")
    if clear.count():  # the box still shows the file of an earlier upload
        clear.first.click()
    page.locator("#upload-file input[type=file]").set_input_files(str(bad))
    expect()(page.get_by_text(str(refused.value)).first).to_be_visible(timeout=WAIT)
    page.screenshot(path=str(ARTIFACTS / "8-refused-upload.png"))
    assert page.evaluate(ERROR_BADGES_JS) == 0
    assert title(page) == before
    # an ABC typo: its sentence, no badges either
    accordion = page.get_by_text("…or type your own notes in ABC notation")
    accordion.click()
    page.locator("#abc-box textarea").fill("X:1\nK:C\nz4|")
    page.locator("#abc-btn").click()
    expect()(page.get_by_text("The ABC has no notes").first).to_be_visible(timeout=WAIT)
    assert page.evaluate(ERROR_BADGES_JS) == 0
    assert title(page) == before
    accordion.click()  # closed again, as the next test expects to find it
    # the page still works: Random loads a new melody
    assert random_melody(page).startswith("Random melody")
    assert page.evaluate(ERROR_BADGES_JS) == 0
    assert not page.page_errors, page.page_errors


def test_workbench_undo_redo_key_loop_star_export(page):
    """History under the player: undo/redo, transposing to a key, loop, a star and the starred export."""
    page.get_by_role("tab", name="Sliders").click()
    first = title(page)
    page.locator("#random-btn").click()
    second = wait_for_title_change(page, first)
    assert second.startswith("Random melody")
    page.locator("#undo-btn").click()
    assert wait_for_title_change(page, second) == first
    page.locator("#redo-btn").click()
    assert wait_for_title_change(page, first) == second
    # the history menu lists both, the current one selected
    page.locator("#history-dd input").click()
    options = page.get_by_role("option").all_inner_texts()
    assert any(second in o for o in options) and any(first[:40] in o for o in options)
    page.keyboard.press("Escape")
    # transpose to D: the title line names the key as played
    old_audio = page.evaluate(AUDIO_JS)
    page.locator("#key-dd input").click()
    page.get_by_role("option", name="D", exact=True).click()
    expect()(page.locator("#title-md")).to_contain_text("key: D ", timeout=WAIT)
    page.wait_for_function(f"(old) => {{ const a = ({AUDIO_JS})(); return a && a !== old; }}", arg=old_audio,
                           timeout=WAIT)
    # loop playback (the player restarts on "finish"; test_page checks every player gets loop=True)
    page.locator("#loop-cb input").check()
    expect()(page.locator("#loop-cb input")).to_be_checked()
    # the player's <audio> itself loops (Gradio's loop update never reached it), and so does the next render's
    page.wait_for_function("() => document.querySelector('#melody-audio audio')?.loop === true", timeout=WAIT)
    looped = page.evaluate(AUDIO_JS)
    page.locator("#random-btn").click()
    page.wait_for_function(f"(old) => {{ const a = ({AUDIO_JS})(); return a && a !== old; }}", arg=looped, timeout=WAIT)
    page.wait_for_function("() => document.querySelector('#melody-audio audio')?.loop === true", timeout=WAIT)
    # star it, then export the starred
    page.locator("#star-btn").click()
    page.locator("#history-dd input").click()
    expect()(page.get_by_role("option").filter(has_text="★")).to_have_count(1, timeout=WAIT)
    page.keyboard.press("Escape")
    page.locator("#export-btn").click()
    links = page.locator("#starred-files a")
    expect()(links).to_have_count(3, timeout=WAIT)
    names = page.locator("#starred-files").inner_text()
    assert ".mid" in names and ".zip" in names and ".wav" in names
    page.screenshot(path=str(ARTIFACTS / "6-workbench.png"))
    assert not page.page_errors, page.page_errors


def test_typed_abc_becomes_the_melody_and_a_piece_loads_back(page):
    """Your own notes in ABC on the Upload tab; then a composed piece's section back into the player."""
    page.get_by_role("tab", name="Upload").click()
    page.get_by_text("…or type your own notes in ABC notation").click()
    page.locator("#abc-box textarea").fill("X:1\nT:Typed reel\nM:4/4\nL:1/8\nK:D\n|:DFAd fdAF|GBdg fdAF:|")
    old = title(page)
    page.locator("#abc-btn").click()
    assert wait_for_title_change(page, old).startswith("Typed reel")
    expect()(page.locator("#upload-status")).to_contain_text("Typed reel")
    page.get_by_role("tab", name="Compose").click()
    page.locator("#add-wp").click()
    random_melody(page)
    page.get_by_role("tab", name="Compose").click()
    page.locator("#add-wp").click()
    page.locator("#compose-btn").click()
    page.wait_for_function("() => { const gd = document.querySelector('#piece-audio a[download]'); return !!gd; }",
                           timeout=WAIT)
    expect()(page.locator("#piece-pick input[type=number]")).to_have_attribute("max", "4", timeout=WAIT)  # 16 bars
    old = title(page)
    box = page.locator("#piece-pick input[type=number]")
    box.fill("4")
    box.blur()  # fires "release": the last section (the second waypoint) into the player
    assert wait_for_title_change(page, old) == "Composed piece, bars 13-16 (waypoint 2)"
    assert not page.page_errors, page.page_errors


EDITOR_NOTES_JS = """() => {
  const gd = document.querySelector('#note-editor .js-plotly-plot');
  const t = gd && (gd._fullData || []).find((d) => d.name === 'notes');
  return t ? JSON.stringify([Array.from(t.x || []), Array.from(t.y || [])]) : '';
}"""


def editor_notes(page) -> list[tuple[int, float]]:
    """(pitch, start in bars) of each note the editor draws."""
    raw = page.evaluate(EDITOR_NOTES_JS)
    if not raw:
        return []
    x, y = json.loads(raw)
    return [(int(y[i]), round(x[i], 4)) for i in range(0, len(x), 3)]


def wait_for_editor_notes(page, count: int) -> list:
    page.wait_for_function(f"() => {{ const r = ({EDITOR_NOTES_JS})(); if (!r) return {count} === 0; "
                           f"return JSON.parse(r)[0].length === {3 * count}; }}", timeout=WAIT)
    return editor_notes(page)


def test_drawn_notes_become_the_melody(page):
    """Click cells, click one again, drag along a row, then use the notes: they become the current melody."""
    page.get_by_role("tab", name="Upload").click()
    page.get_by_text("…or draw your notes").click()
    page.wait_for_function("() => { const gd = document.querySelector('#note-editor .js-plotly-plot'); "
                           "return gd && gd._fullLayout && gd.__editorBound; }", timeout=WAIT)
    for n, (step, pitch) in enumerate([(0, 67), (4, 69), (8, 71)], start=1):
        cell = page.evaluate(EDITOR_CELL_JS, [step, pitch])
        page.mouse.click(cell["x"], cell["y"])
        wait_for_editor_notes(page, n)
    cell = page.evaluate(EDITOR_CELL_JS, [8, 71])
    page.mouse.click(cell["x"], cell["y"])  # again: removes it
    assert wait_for_editor_notes(page, 2) == [(67, 0.0), (69, 0.25)]
    a, b = page.evaluate(EDITOR_CELL_JS, [16, 72]), page.evaluate(EDITOR_CELL_JS, [23, 72])
    page.mouse.move(a["x"] - 3, a["y"] - 3)  # a drag along the row of C5, bar 2 beats 1-2
    page.mouse.down()
    page.mouse.move(b["x"] + 3, b["y"] + 3, steps=8)
    page.mouse.up()
    assert wait_for_editor_notes(page, 3) == [(67, 0.0), (69, 0.25), (72, 1.0)]
    old = title(page)
    page.locator("#use-notes-btn").click()
    assert wait_for_title_change(page, old).startswith("Your notes")
    expect()(page.locator("#upload-status")).to_contain_text("of its notes exactly")
    expect()(page.locator("#extracted-files a[href*='extracted-']")).to_have_count(2, timeout=WAIT)
    page.screenshot(path=str(ARTIFACTS / "9-note-editor.png"), full_page=True)
    page.locator("#clear-notes-btn").click()
    wait_for_editor_notes(page, 0)
    assert not page.page_errors, page.page_errors


def test_a_large_collections_map_is_a_density_whose_cells_load_a_tune(page, explorer_server, small_corpus):
    """Above the point limit the map draws a density under a sample of the tunes; clicking a cell away from any
    point loads the tune nearest that cell's centre (its customdata)."""
    h = explorer_server.handlers
    h.map_max_points = 40  # the small corpus as a "large" collection
    try:
        page.get_by_role("tab", name="Sliders").click()
        page.get_by_role("tab", name="Map").click()  # selecting the tab draws the map again
        page.wait_for_function("() => { const gd = document.querySelector('#corpus-map .js-plotly-plot'); "
                               "return gd && gd._fullData && gd._fullData.some((t) => t.type === 'heatmap') "
                               "&& gd.__melodyBound; }", timeout=WAIT)
        cell = page.evaluate("""() => {
          const gd = document.querySelector('#corpus-map .js-plotly-plot');
          const L = gd._fullLayout, box = gd.getBoundingClientRect();
          const sx = (v) => box.left + L._size.l + L.xaxis.l2p(v), sy = (v) => box.top + L._size.t + L.yaxis.l2p(v);
          const dots = [];
          for (const t of gd._fullData) if (t.type !== 'heatmap') for (let i = 0; i < (t.x || []).length; i++)
            dots.push([sx(t.x[i]), sy(t.y[i])]);
          const hm = gd._fullData.find((t) => t.type === 'heatmap');
          const npts = gd._fullData.filter((t) => t.type !== 'heatmap' && t.customdata).reduce((a, t) => a + t.x.length, 0);
          for (let r = 0; r < hm.y.length; r++) for (let c = 0; c < hm.x.length; c++) {
            const id = hm.customdata[r][c];
            if (id === null || id === undefined) continue;
            const x = sx(hm.x[c]), y = sy(hm.y[r]);
            if (x < box.left + L._size.l + 10 || x > box.left + L._size.l + L._size.w - 10) continue;
            if (y < box.top + L._size.t + 10 || y > box.top + L._size.t + L._size.h - 10) continue;
            if (dots.every(([a, b]) => Math.hypot(a - x, b - y) > 15)) return {x, y, id, npts};
          }
          return null;
        }""")
        assert cell is not None, "no density cell away from the points"
        assert cell["npts"] <= 40
        old = title(page)
        page.mouse.move(cell["x"], cell["y"])
        page.mouse.click(cell["x"], cell["y"])
        expected = small_corpus.tunes[int(cell["id"])]["title"]
        if expected != old.split(" ·")[0]:
            assert wait_for_title_change(page, old).startswith(expected)
        else:  # the same tune as shown: its window is loaded again
            expect()(page.locator("#title-md strong")).to_contain_text(expected)
        page.screenshot(path=str(ARTIFACTS / "9-map-density.png"))
    finally:
        h.map_max_points = figures.MAP_POINTS_MAX


def test_the_api_tab_shows_this_servers_address(page, explorer_server):
    """The API tab's example connects to the address the page runs on, not a fixed port 7860."""
    page.get_by_role("tab", name="API").click()
    expect()(page.locator("#api-usage")).to_contain_text(f"Client('{explorer_server.url}')", timeout=WAIT)
    page.get_by_role("tab", name="Sliders").click()


CHORDS_JS = """() => {
  const gd = document.querySelector('#piano-roll .js-plotly-plot');
  return ((gd && gd.layout && gd.layout.annotations) || []).filter((a) => a.name === 'chord').map((a) => a.text);
}"""


def test_a_chord_backing_writes_its_chords_over_the_roll_and_in_the_title(page, explorer_server, slider_case):
    """A link with a chord backing: the radio shows it, the chords stand above the piano roll and after the title;
    choosing no backing takes them away."""
    z0 = slider_case[0]
    code = encode_z(z0, TEMPERATURE, SEED, backing="Chords: bass and chord", title="Reel")
    page.goto(f"{explorer_server.url}?m={code}")
    expect()(page.locator("#title-md strong")).to_have_text("Reel", timeout=WAIT)  # the chords are not in the bold
    expect()(page.get_by_label("Chords: bass and chord")).to_be_checked()
    expect()(page.locator("#title-md")).to_contain_text("chords: ", timeout=WAIT)
    page.wait_for_function(f"() => ({CHORDS_JS})().length > 0", timeout=WAIT)
    symbols = page.evaluate(CHORDS_JS)
    line = page.locator("#title-md").inner_text().split("chords: ", 1)[1]
    assert [s for bar in line.split("|") for s in bar.split()][0] == symbols[0]
    assert set(symbols) <= {s for bar in line.split("|") for s in bar.split()}
    page.screenshot(path=str(ARTIFACTS / "9-chords.png"))
    page.get_by_label("None", exact=True).check()
    page.wait_for_function(f"() => ({CHORDS_JS})().length === 0", timeout=WAIT)
    expect()(page.locator("#title-md")).not_to_contain_text("chords:", timeout=WAIT)
    assert not page.page_errors, page.page_errors


TAKES_JS = """() => {
  const gd = document.querySelector('#regenerate-plot .js-plotly-plot');
  return gd && gd._fullData ? gd._fullData.map((t) => t.name) : [];
}"""


def test_bar_locks_regenerate_and_take_an_alternative(page, explorer_server, slider_case):
    """Lock bar 1, press Regenerate: four alternatives are drawn; Take 2 makes the second the current melody."""
    code = encode_z(slider_case[0], TEMPERATURE, SEED, title="Reel")
    page.goto(f"{explorer_server.url}?m={code}")
    expect()(page.locator("#title-md strong")).to_have_text("Reel", timeout=WAIT)
    page.get_by_role("tab", name="Sliders").click()
    page.locator("#lock-bar-1 input").check()
    page.locator("#regenerate-btn").click()
    page.wait_for_function(f"() => ({TAKES_JS})().length === 4", timeout=WAIT)
    assert page.evaluate(TAKES_JS) == ["Take 1", "Take 2", "Take 3", "Take 4"]
    page.locator("#take-2").click()
    assert wait_for_title_change(page, "Reel").startswith("Regenerated (bar 1 kept)")
    page.screenshot(path=str(ARTIFACTS / "10-regenerate.png"))
    assert not page.page_errors, page.page_errors
