"""`python -m bench.screenshot [--checkpoint P] [--out docs/screenshot.png]`: the README's screenshot.

Serves the explorer over the shipped model in this process and photographs it in Debian's Chromium
(Playwright, never a browser download).
"""

from __future__ import annotations

import argparse
import os
import socket
import tempfile
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def main() -> None:
    from vae.paths import REPO, SHIPPED

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", type=Path, default=SHIPPED)
    p.add_argument("--out", type=Path, default=REPO / "docs" / "screenshot.png")
    a = p.parse_args()
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("GRADIO_TEMP_DIR", tempfile.mkdtemp(prefix="melody-shot-"))
    from playwright.sync_api import sync_playwright

    from explorer.services import ExplorerServices
    from explorer.ui import build_ui, launch

    demo = build_ui(ExplorerServices.build(a.checkpoint, progress=True))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    launch(demo, port=port, prevent_thread_lock=True, quiet=True)
    try:
        with sync_playwright() as pw:
            ctx = pw.chromium.launch_persistent_context(tempfile.mkdtemp(), executable_path=CHROMIUM, headless=True,
                                                        args=ARGS, viewport={"width": 1500, "height": 1100})
            page = ctx.pages[0] if ctx.pages else ctx.new_page()
            page.goto(f"http://127.0.0.1:{port}/")
            page.wait_for_selector("#piano-roll .js-plotly-plot", timeout=60000)
            page.wait_for_timeout(1500)
            a.out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(a.out), full_page=False)
            ctx.close()
        print(f"wrote {a.out}")
    finally:
        demo.close()


if __name__ == "__main__":
    main()
