"""The first melody plays before the corpus map arrives (step 22's slow spot): in a real Chromium (as
tests/test_browser.py), the load event's answer carries the melody without the map's figure, and the map follows
in an event of its own. Every wait is on an event (an answer in the queue's stream, the player's file), never on
time; bench/slow_spots.md has the seconds."""

from __future__ import annotations

import pytest
from browser_support import WAIT, first_page

from bench.slow_spots import MAP_MESSAGE_JS, STREAM_LOG_JS

pytestmark = [pytest.mark.browser,  # the filters: pandas 3 deprecations inside gradio's queue, not ours
              pytest.mark.filterwarnings("ignore:.*no_silent_downcasting"),
              pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")]

# The moment the main player first has its file, noted by the page itself (a DOM observer), not by a poll.
AUDIO_SEEN_JS = """(() => {
  const has = () => { const a = document.querySelector('#melody-audio audio');
                      const l = document.querySelector('#melody-audio a[download]');
                      return (a && a.src) || (l && l.href); };
  new MutationObserver((_, obs) => {
    if (has()) { window.__audioAt = performance.now(); obs.disconnect(); }
  }).observe(document, {subtree: true, childList: true, attributes: true});
})();"""


@pytest.fixture
def page(chromium):
    """A fresh Chromium tab (conftest's `chromium`) that logs the queue's answers and the player's first file."""
    chromium.add_init_script(STREAM_LOG_JS)
    chromium.add_init_script(AUDIO_SEEN_JS)
    return first_page(chromium, 4 * WAIT)  # a fresh server's first page also builds the map: a slow start


def test_the_first_melody_arrives_without_the_map_and_plays_before_it(page, explorer_server):
    page.goto(explorer_server.url)
    page.wait_for_function("() => window.__audioAt !== undefined")
    page.wait_for_function(MAP_MESSAGE_JS)  # the map still comes, after the melody
    answers = page.evaluate("() => window.__queueMessages")
    audio_at = page.evaluate("() => window.__audioAt")
    melody = next(i for i, m in enumerate(answers) if m["wav"])
    drawn = next(i for i, m in enumerate(answers) if m["map"])
    assert not answers[melody]["map"]  # before: one 1.2 MB answer (the shipped corpus) held both
    assert drawn > melody
    assert answers[melody]["bytes"] < 50_000  # the melody's answer: title, piano roll, files, sliders, settings
    assert audio_at < answers[drawn]["t"]  # the player had its file before the map's answer came in
