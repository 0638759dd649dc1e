"""Debian's Chromium for the benchmarks (/usr/bin/chromium driven by Playwright, never a browser download), opened
one way: headless, the same flags, a fresh profile of its own unless one is given.

bench.run_browser, bench.run_scale, bench.screenshot and bench.slow_spots open it from here (tests/browser_support.py
is the tests' own, which bench does not import).
"""

from __future__ import annotations

import importlib.util
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
# no sandbox (Chromium refuses one as root), no GPU, and none of the browser's own traffic beside the page's
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1400, "height": 1000}


def available() -> bool:
    """Whether Chromium and Playwright are both installed."""
    return CHROMIUM.exists() and importlib.util.find_spec("playwright") is not None


@contextmanager
def chromium(pw=None, profile: str | Path | None = None, extra_args: Sequence[str] = (),
             viewport: dict = VIEWPORT) -> Iterator:
    """A headless Chromium context (Playwright's persistent context), closed on leaving.

    pw: a running `sync_playwright()` to open it in (None: a new one, stopped on leaving); profile: its profile
    folder (None: a fresh temporary one, removed on leaving); extra_args: flags after ARGS; viewport: its size in
    CSS pixels."""
    with ExitStack() as stack:
        if pw is None:
            from playwright.sync_api import sync_playwright

            pw = stack.enter_context(sync_playwright())
        if profile is None:
            profile = stack.enter_context(tempfile.TemporaryDirectory(prefix="melody-bench-"))
        ctx = pw.chromium.launch_persistent_context(str(profile), executable_path=str(CHROMIUM), headless=True,
                                                    args=[*ARGS, *extra_args], viewport=viewport)
        stack.callback(ctx.close)
        yield ctx


def first_page(ctx):
    """The context's first tab (a persistent context opens with one)."""
    return ctx.pages[0] if ctx.pages else ctx.new_page()
