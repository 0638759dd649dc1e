"""Your chords (`python -m bench.chord_fit`): 'Fit the melody to my chords' on held-out melodies of the shipped
model: the share of strong-beat melody on the typed chords' tones (vae.harmony.melody_fit) before and after,
how often the fit improved, and the server time (Handlers.fit_to_chords). Prints a table, writes bench/chord_fit.md.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

PROGRESSIONS = ("C F G C", "Am F C G", "| D | G A | Bm | A7 |")


def main(n: int = 12) -> str:
    from explorer.latent.space import LatentSpace
    from explorer.media.files import Playback
    from explorer.session.handlers import Handlers
    from explorer.session.state import new_state
    from vae.corpus import TEST
    from vae.paths import SHIPPED

    s = LatentSpace.build(SHIPPED, progress=False)
    h = Handlers(s)
    rows = np.nonzero(np.asarray(s.index.split) == TEST)[0][::97][:n]
    lines = ["# Fit the melody to your chords", "", f"`python -m bench.chord_fit`: {len(rows)} held-out melodies "
             "(test split), shipped model, greedy; fit = share of strong-beat melody on chord tones.", "",
             "| chords | fit before | fit after | improved | p50 ms |", "|---|---:|---:|---:|---:|"]
    for prog in PROGRESSIONS:
        before, after, secs = [], [], []
        for w in rows:
            st, _ = h.load_window(new_state(), int(w), Playback(progression=prog))
            t0 = time.perf_counter()
            _, _, info = h.fit_to_chords(st, Playback(progression=prog))
            secs.append(time.perf_counter() - t0)
            before.append(info["before"])
            after.append(info["after"])
        cell = prog.replace("|", "\\|")  # a bar line inside a table cell
        lines.append(f"| {cell} | {np.mean(before):.2f} | {np.mean(after):.2f} | "
                     f"{np.mean(np.array(after) > np.array(before)):.0%} | {np.median(secs) * 1e3:.0f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    text = main()
    print(text)
    (Path(__file__).resolve().parent / "chord_fit.md").write_text(text)
