"""Your chords (`python -m bench.chord_fit`): how much of a melody's beat notes lie on the typed chords' tones.

Over `--progressions` random diatonic progressions (four bars of Roman numerals, a bar sometimes split in two,
realised in each melody's own key) x `--melodies` held-out melodies of the shipped model (test-split corpus
windows in 4/4, loaded as the page loads them), the share of beat notes on chord tones (vae.harmony.melody_fit):
- today: the melody as it is over the chords;
- notes fitted: vae.chord_fit.fit_notes on it (beat notes to the nearest chord tone, passing notes by step);
- and, on the first `--search` progressions, the page's "Fit the melody to my chords" (Handlers.fit_to_chords:
  the melody and 24 candidates near z, each fitted by fit_notes, scored by fit minus 0.05 x drift), and its pick
  fitted by fit_notes once more;
- Random: over `--random` progressions x `--draws` seeds, the page's Random (Handlers.random) without chords and
  with the progression typed (realised in the key of that seed's plain draw), both over the same chords;
- Compose: over `--compose` progressions x `--pieces` pieces of 16 bars (each through three held-out melodies as
  waypoints), the page's Compose (Handlers.compose) without chords and with the progression typed (realised in the
  key of the plain piece), both scored over the chords the piece's backing plays (the line from the top of every
  section), and the CPU time of a press. `--compose-only` runs these rows alone and merges them into the JSON.
Beside each (Random aside: its draws are new melodies), how far the melody's attributes moved (vae.attributes, mean |change| in corpus SDs over the
attributes, and the largest attribute's). Prints a table, writes bench/chord_fit.md and bench/chord_fit.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from vae.chord_fit import fit_notes
from vae.chords import parse_progression, progression_name
from vae.harmony import key_of, melody_fit, spans_from_bars
from vae.music import key_name

HERE = Path(__file__).resolve().parent
MAJOR = ("I", "I", "ii", "iii", "IV", "IV", "V", "V", "V7", "vi", "vi", "ii7")
MINOR = ("i", "i", "iv", "iv", "V", "V", "V7", "VI", "III", "VII", "iio", "v")
SPLIT = 0.25  # chance a bar holds two chords


def progressions(n: int, seed: int = 0) -> list[tuple[list[list[str]], list[list[str]]]]:
    """n random four-bar progressions, each as (major numerals, minor numerals) bars sharing one shape."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        shape = [2 if rng.random() < SPLIT else 1 for _ in range(4)]
        out.append(tuple([[str(rng.choice(pool)) for _ in range(k)] for k in shape] for pool in (MAJOR, MINOR)))
    return out


def typed(numerals: list[list[str]], tonic: int, minor: bool) -> str:
    """Bars of numerals in a key as a composer types them: '| I | IV V | vi | V7 | in G'."""
    return "| " + " | ".join(" ".join(b) for b in numerals) + f" | in {key_name(tonic, minor).replace(' major', '')}"


def drift(s, tokens: np.ndarray, others: np.ndarray, std: dict) -> tuple[np.ndarray, dict]:
    """Mean |attribute change| in corpus SDs of each row of others [N, T] from tokens [T], and per attribute."""
    from vae.attributes import compute_attributes

    attrs = compute_attributes(np.concatenate([tokens[None], others]))
    names = [a for a in std if a in attrs and std[a] > 0]
    per = {a: np.abs(attrs[a][1:] - attrs[a][0]) / std[a] for a in names}
    return np.nanmean(np.stack(list(per.values())), axis=0), per


def random_rows(h, progs: list, draws: int) -> tuple[dict, dict]:
    """The page's Random without and with typed chords, per progression x seed: (shares, ms per call)."""
    from explorer.media.files import Playback
    from explorer.session.state import new_state

    share = {"random": [], "random over chords": []}
    ms = {"random": [], "random over chords": []}
    for p, (maj, mnr) in enumerate(progs):
        for d in range(draws):
            seed = 1000 * p + d
            t0 = time.perf_counter()
            st, r = h.random(new_state(), Playback(), seed)
            ms["random"].append((time.perf_counter() - t0) * 1e3)
            if not r.notes:
                continue
            tonic, minor = key_of(r.notes)
            text = typed(mnr if minor else maj, tonic, minor)
            chords = spans_from_bars(parse_progression(text), st.meter, len(r.tokens))
            t0 = time.perf_counter()
            st2, r2 = h.random(new_state(), Playback(progression=text), seed)
            ms["random over chords"].append((time.perf_counter() - t0) * 1e3)
            share["random"].append(melody_fit(r.notes, chords, st.meter))
            share["random over chords"].append(melody_fit(r2.notes, chords, st2.meter))
    return share, ms


def compose_rows(h, progs: list, windows: list[int]) -> tuple[dict, dict, int]:
    """The page's Compose (16 bars, form 'through') without and with typed chords: pieces through consecutive
    triples of `windows` as waypoints, each x every progression. Returns (shares, ms per press: CPU under its own
    key, wall-clock under key + ' wall', pieces)."""
    from explorer.media.files import Playback
    from explorer.session.compose import PIECE_METER
    from explorer.session.state import new_state

    share = {"compose": [], "compose over chords": []}
    ms = {k: [] for k in ("compose", "compose over chords", "compose wall", "compose over chords wall")}
    pieces = 0
    for k in range(0, len(windows) - 2, 3):
        st = new_state()
        for w in windows[k:k + 3]:
            st, _ = h.load_window(st, int(w), Playback())
            st = h.add_waypoint(st)
        t0, w0 = time.process_time(), time.perf_counter()
        plain = h.compose(st, 16, Playback(), "through")
        ms["compose"].append((time.process_time() - t0) * 1e3)
        ms["compose wall"].append((time.perf_counter() - w0) * 1e3)
        if not plain["notes"]:
            continue
        pieces += 1
        tonic, minor = key_of(plain["notes"])
        for maj, mnr in progs:
            play = Playback(progression=typed(mnr if minor else maj, tonic, minor))
            t0, w0 = time.process_time(), time.perf_counter()
            piece = h.compose(st, 16, play, "through")
            ms["compose over chords"].append((time.process_time() - t0) * 1e3)
            ms["compose over chords wall"].append((time.perf_counter() - w0) * 1e3)
            for key, notes in (("compose", plain["notes"]), ("compose over chords", piece["notes"])):
                share[key].append(melody_fit(notes, h.files.chords(notes, play, PIECE_METER), PIECE_METER))
    return share, ms, pieces


def compose_run(n_prog: int = 20, n_pieces: int = 4, seed: int = 0) -> dict:
    """compose_rows on the shipped model, as run() picks its melodies and progressions."""
    from explorer.latent.space import LatentSpace
    from explorer.session.handlers import Handlers
    from vae.paths import SHIPPED

    s = LatentSpace.build(SHIPPED, progress=False)
    h = Handlers(s)
    share, ms, pieces = compose_rows(h, progressions(n_prog, seed), held_out(s, 3 * n_pieces, seed))
    return {"compose_progressions": n_prog, "compose_pieces": pieces,
            "share": {k: round(float(np.mean(v)), 3) for k, v in share.items() if v},
            "pairs": {k: len(v) for k, v in share.items() if v},
            "share_at_least_0.9": {k: round(float(np.mean(np.array(v) >= 0.9)), 3) for k, v in share.items() if v},
            "cpu_ms_p50": {k: round(float(np.median(v)), 1) for k, v in ms.items() if v and "wall" not in k},
            "compose_wall_ms_p50": {k[:-5]: round(float(np.median(v)), 1) for k, v in ms.items() if v and "wall" in k}}


def held_out(s, n: int, seed: int = 0) -> list[int]:
    """n test-split windows in 4/4 with 8 notes or more, in a seeded order."""
    from vae.corpus import TEST

    rng = np.random.default_rng(seed)
    test = np.nonzero(np.asarray(s.index.split) == TEST)[0]
    rows = []
    for w in rng.permutation(test):
        if s.window(int(w))["meter"] == "4/4" and int((s.corpus.tokens[w] >= 2).sum()) >= 8:
            rows.append(int(w))
        if len(rows) == n:
            break
    return rows


def run(n_prog: int = 50, n_mel: int = 20, search: int = 10, seed: int = 0, n_random: int = 50,
        draws: int = 20) -> dict:
    from explorer.latent.space import LatentSpace
    from explorer.media.files import Playback
    from explorer.session.handlers import Handlers
    from explorer.session.state import new_state
    from vae.controls import corpus_std
    from vae.paths import SHIPPED

    s = LatentSpace.build(SHIPPED, progress=False)
    h = Handlers(s)
    std = s.sliders.attr_std or corpus_std(s.attrs)
    rows = held_out(s, n_mel, seed)
    progs = progressions(n_prog, seed)
    res = {k: [] for k in ("today", "fitted", "search", "search+fitted")}
    drifts = {k: [] for k in ("fitted", "search", "search+fitted")}
    per_attr: dict[str, list] = {}
    ms = {"fit_notes": [], "search": []}
    for w in rows:
        state, r = h.load_window(new_state(), w, Playback())
        tokens, notes = r.tokens, r.notes
        tonic, minor = key_of(notes)
        fitted_tokens = []
        for p, (maj, mnr) in enumerate(progs):
            text = typed(mnr if minor else maj, tonic, minor)
            chords = spans_from_bars(parse_progression(text), "4/4", len(tokens))
            t0 = time.perf_counter()
            fitted = fit_notes(notes, chords, "4/4", (tonic, minor))
            ms["fit_notes"].append((time.perf_counter() - t0) * 1e3)
            res["today"].append(melody_fit(notes, chords))
            res["fitted"].append(melody_fit(fitted, chords))
            fitted_tokens.append(s.model.tokenizer.encode(fitted, len(tokens)))
            if p < search:
                t0 = time.perf_counter()
                st, _, _ = h.fit_to_chords(state, Playback(progression=text))
                ms["search"].append((time.perf_counter() - t0) * 1e3)
                found = s.decode(st.z, 0.0, None, st.detail)
                found_notes = s.notes(found)
                both = fit_notes(found_notes, chords, "4/4", (tonic, minor))
                res["search"].append(melody_fit(found_notes, chords))
                res["search+fitted"].append(melody_fit(both, chords))
                d, _ = drift(s, tokens, np.stack([found, s.model.tokenizer.encode(both, len(tokens))]), std)
                drifts["search"].append(d[0])
                drifts["search+fitted"].append(d[1])
        d, per = drift(s, tokens, np.stack(fitted_tokens), std)
        drifts["fitted"] += list(d)
        for a, v in per.items():
            per_attr.setdefault(a, []).extend(v.tolist())
    if n_random and draws:
        shares, times = random_rows(h, progs[:n_random], draws)
        res.update(shares)
        ms.update(times)
    example = progression_name(parse_progression(typed(progs[0][0], 0, False)))
    return {"progressions": n_prog, "random_progressions": min(n_random, n_prog), "draws": draws, "melodies": len(rows), "search_progressions": min(search, n_prog),
            "example_progression_in_C": example,
            "share": {k: round(float(np.mean(v)), 3) for k, v in res.items() if v},
            "pairs": {k: len(v) for k, v in res.items() if v},
            "share_at_least_0.9": {k: round(float(np.mean(np.array(v) >= 0.9)), 3) for k, v in res.items() if v},
            "drift_sd": {k: round(float(np.nanmean(v)), 3) for k, v in drifts.items() if v},
            "drift_sd_by_attribute_fitted": {a: round(float(np.nanmean(v)), 3) for a, v in per_attr.items()},
            "ms_p50": {k: round(float(np.median(v)), 3) for k, v in ms.items() if v}}


def markdown(r: dict) -> str:
    pairs = r["progressions"] * r["melodies"]
    searched = r["search_progressions"] * r["melodies"]
    rows = [("today's melody", "today", pairs), ("notes fitted (vae.chord_fit)", "fitted", pairs),
            ("page's candidate search (fit_to_chords)", "search", searched),
            ("the search's pick, then notes fitted", "search+fitted", searched),
            ("Random (no chords typed)", "random", None), ("Random over the typed chords", "random over chords", None),
            ("Compose, 16 bars (no chords typed)", "compose", None),
            ("Compose, 16 bars, over the typed chords", "compose over chords", None)]
    lines = ["# Fit the melody to your chords", "",
             f"`python -m bench.chord_fit`: {r['progressions']} random diatonic progressions (four bars, e.g. "
             f"{r['example_progression_in_C']} in C, realised in each melody's key) x {r['melodies']} held-out "
             "melodies (test split, 4/4, shipped model, as the page loads them). Share = beat notes on the "
             "chord's tones (vae.harmony.melody_fit; goal >= 0.9). Drift = mean |attribute change| in corpus SDs "
             "from today's melody.", "",
             "| melody | pairs | share on chord tones | pairs >= 0.9 | attribute drift (SD) |",
             "|---|---:|---:|---:|---:|"]
    for label, k, n in rows:
        if k in r["share"]:
            n = r["pairs"][k] if n is None else n
            new = k.startswith(("random", "compose"))  # new melodies: no drift from one
            drifted = f"{r['drift_sd'][k]:.3f}" if k in r["drift_sd"] else "–" if new else "0.000"
            lines.append(f"| {label} | {n} | {r['share'][k]:.3f} | {r['share_at_least_0.9'][k]:.0%} | {drifted} |")
    worst = sorted(r["drift_sd_by_attribute_fitted"].items(), key=lambda kv: -kv[1])[:4]
    lines += ["", "Notes fitted, drift by attribute (largest): " + ", ".join(f"{a} {v:.2f}" for a, v in worst) + ".",
              "", f"p50: fit_notes {r['ms_p50'].get('fit_notes')} ms, the page's candidate search "
              f"{r['ms_p50'].get('search')} ms (a shared 2-core machine).", ""]
    if "random over chords" in r["share"]:
        lines[-1:] = ["", f"Random: {r['random_progressions']} of the progressions x {r['draws']} seeds; each seed's "
                      "progression is typed in the key of its plain draw, and both draws are scored over it. Random "
                      "over chords fits each of its draws (vae.chord_fit) and keeps the best fit with the fewest notes "
                      "moved, held note for note by the model; no attribute drift is given (each is a new melody). "
                      f"p50 of the page's call: {r['ms_p50'].get('random')} ms without chords, "
                      f"{r['ms_p50'].get('random over chords')} ms over them.", ""]
    if "compose over chords" in r["share"]:
        lines[-1:] = ["", f"Compose: {r['compose_progressions']} of the progressions x {r['compose_pieces']} pieces of "
                      "16 bars (form 'through', each through three held-out melodies as waypoints; the same pieces "
                      "without chords are scored once per progression). Each progression is typed in the key of the "
                      "plain piece, and both are scored over the chords the piece's backing plays: the typed line "
                      "from the top of every 4-bar section (MelodyFiles.chords). Compose over chords moves each "
                      "section's beat notes onto its chords (vae.chord_fit) and holds the section note for note by "
                      "the model (hold_notes). CPU time of a press (p50): "
                      f"{r['cpu_ms_p50'].get('compose')} ms without chords, "
                      f"{r['cpu_ms_p50'].get('compose over chords')} ms over them (wall clock on the shared 2-core "
                      f"machine: {r['compose_wall_ms_p50'].get('compose')} and "
                      f"{r['compose_wall_ms_p50'].get('compose over chords')} ms).", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(prog="python -m bench.chord_fit", description=__doc__.splitlines()[0])
    p.add_argument("--progressions", type=int, default=50)
    p.add_argument("--melodies", type=int, default=20)
    p.add_argument("--search", type=int, default=10, help="progressions also run through the page's search")
    p.add_argument("--random", type=int, default=50, help="progressions also drawn over by the page's Random")
    p.add_argument("--draws", type=int, default=20, help="Random's seeds per progression")
    p.add_argument("--compose", type=int, default=20, help="progressions also composed over by the page's Compose")
    p.add_argument("--pieces", type=int, default=4, help="16-bar pieces (three waypoints each) Compose makes")
    p.add_argument("--compose-only", action="store_true",
                   help="run the Compose rows alone and merge them into --out's JSON (its other rows as they were)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=HERE / "chord_fit.json")
    args = p.parse_args(argv)
    if args.compose_only:
        r = json.loads(args.out.read_text())
    else:
        r = run(args.progressions, args.melodies, args.search, args.seed, args.random, args.draws)
    if args.compose and args.pieces:
        c = compose_run(args.compose, args.pieces, args.seed)
        for k in ("share", "pairs", "share_at_least_0.9"):
            r[k] = {**r.get(k, {}), **c.pop(k)}
        r.update(c)
    md = markdown(r)
    print(md)
    args.out.write_text(json.dumps(r, indent=2) + "\n")
    args.out.with_suffix(".md").write_text(md)
    return r


if __name__ == "__main__":
    main()
