"""Extremes stay musical (`python -m bench.extremes`): pushes with "Keep it singable" off and style moves, on
held-out melodies of the shipped model, before and after step 22's limits.

Pushes: range +2 and notes +3 from each melody, with no limits (before) and with an instrument's limits
(vae.voice.INSTRUMENT, after): the share of results with a leap over 19 semitones, a range over 36, or more than
a bar of straight sixteenths. Style moves: every style from each melody; the share of results that keep fewer
than 4 notes or 3 pitches (explorer.latent.styles.keeps_a_melody decides since step 22). Writes bench/extremes.md/.json.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def main(n: int = 40) -> dict:
    from explorer.latent.space import LatentSpace
    from vae.corpus import TEST
    from vae.paths import SHIPPED
    from vae.voice import INSTRUMENT, longest_run, range_and_leap

    s = LatentSpace.build(SHIPPED, progress=False)
    mu = s.index.mu[np.asarray(s.index.split) == TEST]
    z0 = mu[np.random.default_rng(0).choice(len(mu), n, replace=False)]
    out: dict = {"n": n, "pushes": {}, "styles": {}}
    for attr, amount in (("pitch_range", 2.0), ("note_density", 3.0)):
        for label, lim in (("no limits (before)", None), ("instrument (after)", INSTRUMENT)):
            tokens = s.decode(s.push_attribute(z0, attr, amount, limits=lim))
            span, leap = range_and_leap(tokens)
            run = longest_run(tokens)
            out["pushes"][f"{attr} {amount:+g}, {label}"] = {
                "leap_over_19": float((leap > 19).mean()), "range_over_36": float((span > 36).mean()),
                "run_over_16": float((run > 16).mean()), "max_leap": int(leap.max()), "max_run": int(run.max())}
    import explorer.latent.styles as styles_module

    check = styles_module.keeps_a_melody
    for label, keeps in (("before", lambda t, s0: np.ones(len(t), bool)), ("after", check)):
        styles_module.keeps_a_melody = keeps  # before: any candidate the classifier recognises
        try:
            for style in s.styles.names:
                tokens = s.decode(s.move_to_style(z0, style, 1.0))
                notes = (tokens >= 2).sum(1)
                pitches = np.array([len(np.unique(r[r >= 2])) for r in tokens])
                out["styles"][f"{style}, {label}"] = {"few_notes": float(((notes < 4) | (pitches < 3)).mean()),
                                                      "median_notes": float(np.median(notes))}
        finally:
            styles_module.keeps_a_melody = check
    return out


def report(r: dict) -> str:
    lines = ["# Extremes stay musical", "", "`python -m bench.extremes` on the shipped model, "
             f"{r['n']} held-out melodies each.", "",
             "| push | leaps > 19 | range > 36 | > a bar of straight 16ths | largest leap | longest run |",
             "|---|---:|---:|---:|---:|---:|"]
    for k, v in r["pushes"].items():
        lines.append(f"| {k} | {v['leap_over_19']:.0%} | {v['range_over_36']:.0%} | {v['run_over_16']:.0%} | "
                     f"{v['max_leap']} | {v['max_run']} |")
    lines += ["", "| style move (amount 1) | results with < 4 notes or < 3 pitches | median notes |", "|---|---:|---:|"]
    for k, v in r["styles"].items():
        lines.append(f"| toward {k} | {v['few_notes']:.0%} | {v['median_notes']:.0f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    res = main()
    text = report(res)
    print(text)
    (HERE / "extremes.md").write_text(text)
    (HERE / "extremes.json").write_text(json.dumps(res, indent=1))
