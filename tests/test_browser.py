"""The explorer in a real Chromium (Playwright, Debian's /usr/bin/chromium) against the live in-process server.

The tests run in order on one page, like a user: open the page, open a shared link, drag a slider,
click the map, upload a MIDI file. Screenshots of each stage go to tests/artifacts/.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
from conftest import busy_train_window, window_midi

from explorer.sharecode import decode_z, encode_z

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
WAIT = 30_000  # ms; generous for a loaded 2-core machine, never asserted as a duration

ROLL_JS = """() => {
  const gd = document.querySelector('#piano-roll .js-plotly-plot');
  return JSON.stringify((gd && gd._fullData || []).map((t) => [t.name, Array.from(t.x || []), Array.from(t.y || [])]));
}"""
AUDIO_JS = "() => { const a = document.querySelector('#melody-audio audio'); return a ? a.src : ''; }"


@pytest.fixture(scope="module")
def page(explorer_server, tmp_path_factory):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(str(tmp_path_factory.mktemp("chromium")), executable_path=str(CHROMIUM),
                                                   headless=True, args=ARGS, viewport={"width": 1400, "height": 1000})
        pg = ctx.pages[0] if ctx.pages else ctx.new_page()
        pg.set_default_timeout(WAIT)
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.page_errors = errors
        try:
            yield pg
        finally:
            ctx.close()


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


def test_page_loads_a_melody_and_a_share_link(page, explorer_server, tiny_services, small_corpus):
    page.goto(explorer_server.url)
    page.wait_for_selector("#piano-roll .js-plotly-plot")
    page.wait_for_function("() => new URL(location.href).searchParams.get('m')", timeout=WAIT)
    code = parse_qs(urlparse(page.url).query)["m"][0]
    welcome = explorer_server.handlers.welcome_window()
    assert np.array_equal(decode_z(code)["z"], np.asarray(tiny_services.index.mu[welcome], np.float16).astype(np.float32))
    expect()(page.locator("#title-md")).to_contain_text(small_corpus.tunes[small_corpus.tune[welcome]]["title"])
    assert page.input_value("#share-code textarea, #share-code input") == code
    page.screenshot(path=str(ARTIFACTS / "1-welcome.png"))

    # a shared link restores the melody and its playback settings (temperature 1: the tiny model's
    # greedy melodies are mostly silent, sampled ones have notes)
    z = tiny_services.index.mu[busy_train_window(small_corpus)]
    shared = encode_z(z, temperature=1.0, seed=3, tempo=100, program=73)
    page.goto(f"{explorer_server.url}?m={shared}")
    expect()(page.locator("#title-md strong")).to_have_text("Shared melody", timeout=WAIT)
    page.wait_for_selector("#piano-roll .js-plotly-plot")
    expect()(page.get_by_label("number input for Temperature (0 = the most likely melody)")).to_have_value("1")
    expect()(page.get_by_label("number input for Tempo (quarter notes/min)")).to_have_value("100")
    page.wait_for_function("() => document.querySelector('#melody-audio audio')", timeout=WAIT)
    melody = dict((name, (x, y)) for name, x, y in roll(page))["melody"]
    notes = tiny_services.notes(tiny_services.decode(decode_z(shared)["z"], 1.0, 3))
    assert notes and len(melody[0]) == 3 * len(notes)
    assert sorted({p for p in melody[1] if p is not None}) == sorted({n.pitch for n in notes})
    page.screenshot(path=str(ARTIFACTS / "2-shared-link.png"))


def test_dragging_a_slider_rerenders(page, tiny_services):
    print("DBG", page.evaluate("() => document.querySelector('#melody-audio').outerHTML")[:6000])
    before_roll, before_audio, before_url = roll(page), page.evaluate(AUDIO_JS), page.url
    assert before_audio
    rng = page.locator("#pc-1 input[type=range]")
    number = page.locator("#pc-1 input[type=number]")
    old_value = float(number.input_value())
    box = rng.bounding_box()
    target = 0.9 if old_value < 1.5 else 0.1  # far from where the thumb is
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * target, box["y"] + box["height"] / 2, steps=5)
    page.mouse.up()  # 'release' fires on mouse-up
    new_value = float(number.input_value())
    assert abs(new_value - old_value) > 1.0
    page.wait_for_function("(old) => { const a = document.querySelector('#melody-audio audio'); "
                           "return a && a.src && a.src !== old; }", arg=before_audio, timeout=WAIT)
    page.wait_for_function(f"() => ({ROLL_JS})() !== {json.dumps(json.dumps(before_roll))}", timeout=WAIT)
    page.wait_for_function("(old) => location.href !== old", arg=before_url, timeout=WAIT)
    after = dict((name, (x, y)) for name, x, y in roll(page))
    assert after["melody"] != dict((n, (x, y)) for n, x, y in before_roll)["melody"]
    assert "original" in after  # the shared melody stays as a ghost behind the new one
    z = decode_z(parse_qs(urlparse(page.url).query)["m"][0])["z"]
    assert tiny_services.sliders_of(z)[0] == pytest.approx(new_value, abs=0.03)
    page.screenshot(path=str(ARTIFACTS / "3-slider.png"))


def test_clicking_the_map_loads_that_tune(page, small_corpus):
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
    old = title(page)
    page.mouse.move(point["x"], point["y"])
    page.mouse.click(point["x"], point["y"])
    title = wait_for_title_change(page, old)
    expected = small_corpus.tunes[int(point["id"])]["title"]
    assert title.startswith(expected), (title, expected)
    page.screenshot(path=str(ARTIFACTS / "4-map-click.png"))


def test_uploading_a_midi_file_shows_neighbours(page, small_corpus, tmp_path):
    row = busy_train_window(small_corpus, after=500)
    path = window_midi(small_corpus, row, tmp_path / "my tune.mid")
    page.get_by_role("tab", name="Upload").click()
    old = title(page)
    page.locator("#upload-file input[type=file]").set_input_files(str(path))
    title = wait_for_title_change(page, old)
    assert title.startswith("my tune.mid")
    rows = page.locator("#neighbours tbody tr")
    expect()(rows).to_have_count(10, timeout=WAIT)
    own_title = small_corpus.tunes[small_corpus.tune[row]]["title"]
    expect()(rows.first).to_contain_text(own_title)
    expect()(page.locator("#upload-status")).to_contain_text("my tune.mid")
    page.screenshot(path=str(ARTIFACTS / "5-upload.png"), full_page=True)

    # clicking a neighbour's row loads that corpus melody
    second = rows.nth(1)
    want = second.locator("td").nth(1).inner_text().strip()
    second.locator("td").nth(1).click()
    assert wait_for_title_change(page, title(page)).startswith(want)
    page.screenshot(path=str(ARTIFACTS / "6-neighbour.png"))
    assert not page.page_errors, page.page_errors
