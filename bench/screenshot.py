"""`python -m bench.screenshot [--checkpoint P] [--out docs/screenshot.png]`: the README's screenshots.

Serves the explorer over the shipped model in this process and photographs it in Debian's Chromium
(Playwright, never a browser download): the page as it opens, then (docs/screenshot-notes.png) the first
four bars of "Ode to Joy" drawn in the note editor with real clicks and a drag, and used as the melody.
"""

from __future__ import annotations

import argparse
import os
import socket
import tempfile
from pathlib import Path

ODE = [64, 64, 65, 67, 67, 65, 64, 62, 60, 60, 62, 64, 64, 62]  # a quarter note each, then D for a half note
CELL_JS = """([step, pitch]) => {
  const gd = document.querySelector('#note-editor .js-plotly-plot');
  const L = gd._fullLayout, box = gd.getBoundingClientRect();
  return {x: box.left + L._size.l + L.xaxis.l2p((step + 0.5) / 16), y: box.top + L._size.t + L.yaxis.l2p(pitch)};
}"""
COUNT_JS = """(n) => { const gd = document.querySelector('#note-editor .js-plotly-plot');
  const t = gd && (gd._fullData || []).find((d) => d.name === 'notes');
  return !!t && (t.x || []).length === 3 * n; }"""


def main() -> None:
    from vae.paths import REPO, SHIPPED

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", type=Path, default=SHIPPED)
    p.add_argument("--out", type=Path, default=REPO / "docs" / "screenshot.png")
    a = p.parse_args()
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("GRADIO_TEMP_DIR", tempfile.mkdtemp(prefix="melody-shot-"))
    from bench.browser import chromium, first_page
    from explorer.latent.space import LatentSpace
    from explorer.ui import build_ui, launch

    demo = build_ui(LatentSpace.build(a.checkpoint, progress=True))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    launch(demo, port=port, prevent_thread_lock=True, quiet=True)
    try:
        with chromium(viewport={"width": 1500, "height": 1100}) as ctx:
            page = first_page(ctx)
            page.goto(f"http://127.0.0.1:{port}/")
            page.wait_for_selector("#piano-roll .js-plotly-plot", timeout=60000)
            page.wait_for_timeout(1500)
            a.out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(a.out), full_page=False)
            notes_shot(page, a.out.with_name("screenshot-notes.png"))
        print(f"wrote {a.out} and {a.out.with_name('screenshot-notes.png')}")
    finally:
        demo.close()


def notes_shot(page, out: Path) -> None:
    """Draw a tune in the note editor with the mouse, use it as the melody, photograph the page."""
    page.get_by_role("tab", name="Upload").click()
    page.get_by_text("…or draw your notes").click()
    page.wait_for_function("() => { const gd = document.querySelector('#note-editor .js-plotly-plot'); "
                           "return gd && gd._fullLayout && gd.__editorBound && gd.__editor; }", timeout=60000)
    for i, pitch in enumerate(ODE):
        cell = page.evaluate(CELL_JS, [4 * i, pitch])
        page.mouse.click(cell["x"], cell["y"])
        page.wait_for_function(COUNT_JS, arg=i + 1, timeout=60000)
    a, b = page.evaluate(CELL_JS, [56, 62]), page.evaluate(CELL_JS, [63, 62])
    page.mouse.move(a["x"] - 2, a["y"])
    page.mouse.down()
    page.mouse.move(b["x"] + 2, b["y"], steps=8)
    page.mouse.up()
    page.wait_for_function(COUNT_JS, arg=len(ODE) + 1, timeout=60000)
    page.locator("#use-notes-btn").click()
    page.wait_for_function("() => (document.querySelector('#title-md strong') || {}).innerText?.startsWith('Your notes')",
                           timeout=60000)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(out), full_page=True)


if __name__ == "__main__":
    main()
