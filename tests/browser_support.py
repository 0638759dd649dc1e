"""Chromium for the browser tests: Debian's /usr/bin/chromium driven by Playwright, opened one way.

tests/conftest.py builds its `page` (one per test module, on the explorer) and `chromium` (one per test, blank)
fixtures from these; a test is skipped, with a sentence, where Playwright or Chromium is absent.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"  # the browser tests' screenshots
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1400, "height": 1000}
WAIT = 30_000  # ms; generous for a loaded 2-core machine, never asserted as a duration
# The page coordinates of the note editor's cell [step, pitch] (its x axis counts bars of 16 steps).
EDITOR_CELL_JS = """([step, pitch]) => {
  const gd = document.querySelector('#note-editor .js-plotly-plot');
  const L = gd._fullLayout, box = gd.getBoundingClientRect();
  return {x: box.left + L._size.l + L.xaxis.l2p((step + 0.5) / 16), y: box.top + L._size.t + L.yaxis.l2p(pitch)};
}"""


@contextmanager
def chromium_context(profile: Path) -> Iterator:
    """A headless Chromium context with its profile in the folder `profile`, closed on leaving; skips the test
    where Playwright or Chromium is not installed."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    with sync_api.sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(str(profile), executable_path=str(CHROMIUM), headless=True,
                                                   args=ARGS, viewport=VIEWPORT)
        try:
            yield ctx
        finally:
            ctx.close()


def first_page(ctx, timeout: int = WAIT):
    """The context's first tab, waiting up to `timeout` ms by default; the page's script errors collect in
    its `page_errors` list."""
    pg = ctx.pages[0] if ctx.pages else ctx.new_page()
    pg.set_default_timeout(timeout)
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.page_errors = errors
    return pg


def open_explorer(pg, url: str) -> None:
    """Open the explorer at `url` and wait until its melody is drawn and its share code is in the address."""
    pg.goto(url)
    # the first page of a fresh server draws the map and renders the welcome melody: a slow start
    pg.wait_for_selector("#piano-roll .js-plotly-plot", timeout=4 * WAIT)
    pg.wait_for_function("() => new URL(location.href).searchParams.get('m')", timeout=4 * WAIT)
