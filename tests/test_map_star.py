"""In Chromium: the Map tab, opened again after another melody was made elsewhere, shows the star on the new melody,
though the map itself is not sent again (tests/test_map_once.py): the page moves the star from #map-pos."""

from __future__ import annotations

from browser_support import WAIT

STAR_JS = """() => {
  const gd = document.querySelector('#corpus-map .js-plotly-plot');
  const box = document.querySelector('#map-pos textarea, #map-pos input');
  if (!gd || !gd.data || !box || !box.value) return null;
  const t = gd.data.find((d) => d.name === 'current melody');
  if (!t) return null;
  const [x, y] = box.value.split(',').map(Number);
  return {star: [Number(t.x[0]), Number(t.y[0])], melody: [x, y]};
}"""


def _star_on_melody(page) -> dict:
    """Wait until the star sits where #map-pos says the melody is; return both."""
    page.wait_for_function(f"() => {{ const s = ({STAR_JS})(); return s && Math.abs(s.star[0] - s.melody[0]) < 1e-3 "
                           "&& Math.abs(s.star[1] - s.melody[1]) < 1e-3; }", timeout=WAIT)
    return page.evaluate(STAR_JS)


def test_the_star_follows_the_melody_when_the_map_is_not_sent_again(page):
    page.get_by_role("tab", name="Map").click()
    page.wait_for_selector("#corpus-map .js-plotly-plot")
    first = _star_on_melody(page)
    page.get_by_role("tab", name="Sliders").click()
    page.locator("#random-btn").click()
    page.wait_for_function("(old) => { const b = document.querySelector('#map-pos textarea, #map-pos input'); "
                           "return b && b.value && b.value !== old; }", arg=",".join(f"{v:.4f}" for v in first["melody"]),
                           timeout=WAIT)
    page.get_by_role("tab", name="Map").click()
    again = _star_on_melody(page)
    assert again["melody"] != first["melody"]
    assert not page.page_errors, page.page_errors
