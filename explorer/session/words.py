"""What the panel says about a melody, in a musician's words: titles, windows, the copy check, neighbours."""

from __future__ import annotations

import re

import numpy as np

from explorer.session import history
from explorer.session.state import Session
from vae.corpus import COLLECTION_LABELS
from vae.meter import Meter


def variation_title(title: str) -> str:
    """'Variation of: X', then 'Variation 2 of: X', ... (not 'Variation of: Variation of: X')."""
    m = re.match(r"Variation (?:(\d+) )?of: (.*)", title, re.S)
    if not m:
        return f"Variation of: {title}"
    return f"Variation {int(m.group(1) or 1) + 1} of: {m.group(2)}"


def bars_word(bars: list[int]) -> str:
    """1-based bar numbers as a musician says them: [1] -> 'bar 1', [1, 2] -> 'bars 1-2', [1, 3] -> 'bars 1, 3'."""
    if len(bars) == 1:
        return f"bar {bars[0]}"
    if bars == list(range(bars[0], bars[-1] + 1)):
        return f"bars {bars[0]}-{bars[-1]}"
    return "bars " + ", ".join(map(str, bars))


def describe_window(w: dict, window_steps: int) -> str:
    """'Title — Collection · 6/8 · bars 5-10' (the bars of its own meter that a window of `window_steps` steps,
    the model's MelodyFormat.window_steps, touches). The key is not in it: the title line names the key the
    melody is played in, once."""
    coll = COLLECTION_LABELS.get(w["collection"], w["collection"])
    m = Meter.parse(w["meter"])
    start = (w["start_bar"] - 1) * m.bar_steps
    return f"{w['title']} — {coll} · {w['meter']} · {m.span(start, window_steps)}"


def shown_title(state: Session) -> str:
    """The title line's name of the melody: its source's title, marked 'after …' once a control (a slider, a push,
    a style move: state.move) has moved it away from what was loaded: it is no longer that tune. Melodies the app
    made (a blend, a variation) keep their own titles."""
    edited = bool(state.move) and state.origin_z is not None and state.z is not None and not (
        np.array_equal(state.z, state.origin_z) and history.same_detail(state.detail, state.origin_detail))
    return f"after {state.title}" if edited and state.title and not state.title.startswith("after ") else state.title


_BOLD_NAME = re.compile(r"\*\*(?:\\.|[^*\\])*\*\*")  # the title line's name: bold, Markdown specials escaped


def renamed_title_line(line: str, name_md: str) -> str:
    """The title line `line` ('**Old title** · key: G minor · chords: …', as the page shows it) with its bold name
    replaced by `name_md`, and what follows the name (the key, the chords) kept: naming a melody changes its name,
    not its key. A line of another shape gives `name_md` alone."""
    m = _BOLD_NAME.match(str(line or ""))
    tail = line[m.end():] if m else ""
    return name_md + (tail if tail.startswith(" · ") else "")


def originality_markdown(o: dict, num_notes: int, own_tune: int | None = None) -> str:
    """One line a composer reads under the melody: is it new, or a copy of a training tune?

    `own_tune` is the corpus tune the melody was loaded from: matching it is expected, not a warning.
    """
    if not num_notes:
        return "This melody is silent."
    if own_tune is not None and o.get("tune") == own_tune:
        return (f"This is the model's rendering of a corpus tune (*{o['title']}*): move a slider to make it your own. "
                f"Copy check: {count(round(o['bars'], 1), 'bar')} shared with it.")
    if o.get("likely_copy"):
        return (f"⚠️ **Likely copy**: {count(round(o['bars'], 1), 'bar')} ({count(o['notes'], 'note')}) match "
                f"*{o['title']}* "
                f"({COLLECTION_LABELS.get(o['collection'], o['collection'])}) from the training set.")
    if o.get("steps", 0) and o.get("title"):
        return (f"✅ Original: the longest run shared with a training tune is {count(round(o['bars'], 1), 'bar')} "
                f"({count(o['notes'], 'note')}, closest: *{o['title']}*).")
    return "✅ Original: no run shared with the training tunes."


def count(n: float, noun: str) -> str:
    """'1 note', '3 notes', '1.5 bars': a number and its noun, singular only for exactly one."""
    return f"{n:g} {noun}" + ("" if n == 1 else "s")


def neighbours_rows(neigh: list[dict], window_steps: int) -> list[list]:
    """Neighbour dicts -> table rows: rank, title, collection, meter, bars (every bar of its own meter that the
    window of `window_steps` steps touches: a 6/8 window of 64 sixteenths spans 6 bars), similarity (closer than
    this share of random corpus pairs, as a percentage) and the latent distance itself."""
    return [[i + 1, n["title"], COLLECTION_LABELS.get(n["collection"], n["collection"]), n["meter"],
             window_bars(n["meter"], n["start_bar"], window_steps), f"{100 * n['similarity']:.1f}%",
             round(n["distance"], 2)]
            for i, n in enumerate(neigh)]


def window_bars(meter: str, start_bar: int, window_steps: int) -> str:
    """'5-8': the first and last bar (1-based, in `meter`) of a window of `window_steps` steps from bar `start_bar`."""
    m = Meter.parse(meter)
    start = (start_bar - 1) * m.bar_steps
    last = m.bar_of(start + max(window_steps, 1) - 1)
    return f"{start_bar}" if last == start_bar else f"{start_bar}-{last}"
