"""Does a script get the tune the page plays? Exact-note F1 of the public API's encode -> decode round trip.

`python -m bench.api_fidelity [--checkpoint P] [--songs 12] [--tunes 12]`: real pop songs (POP909,
../shared/data/pop909-dev; skipped with a line when absent) and folk tunes of the corpus's test split (one
4-bar window each, written as a MIDI file in its own meter) go through explorer.serve.api.encode, and its "melody"
back through explorer.serve.api.decode. Exact-note F1 (pitch and onset) against the extracted notes:

    before   the old path: the encoder's mean decoded alone (what /encode returned, and /decode played back)
    after    /encode's melody code sent back to /decode (the page's fitted z and per-bar detail)
    page     the page's own upload path (Handlers.upload + choose_upload), called on its own

and how many slider lists sent back unchanged moved the melody: before, as /encode rounded them (3 decimals,
z to 5) with base_z; after, at full precision with the melody code. And one slider moved alone (+1) from the
page's melody through the API's values, before and after: how many moves play what the page's own move plays
(Handlers.set_sliders). Prints a table and JSON; writes bench/api_fidelity.md and bench/api_fidelity.json.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.pop909 import DATA, song_numbers

HERE = Path(__file__).resolve().parent
MOVED_SLIDERS = (0, 1, 2)  # each moved by +1 alone, through the API and on the page


def folk_files(services, n: int, folder: Path, seed: int = 0) -> list[tuple[str, Path]]:
    """n test-split tunes (one window each: the first that starts on a note and has >= 12 notes), written as
    one-track MIDI files in the tune's meter -> [(title, path)]."""
    from vae.constants import FIRST_NOTE_ON
    from vae.corpus import TEST
    from vae.meter import Meter
    from vae.midi_export import notes_to_midi

    c = services.corpus
    ok = (c.split == TEST) & (c.tokens[:, 0] >= FIRST_NOTE_ON) & ((c.tokens >= FIRST_NOTE_ON).sum(1) >= 12)
    tunes = np.unique(c.tune[ok])
    out = []
    for t in np.random.default_rng(seed).permutation(tunes)[:n]:
        row = int(np.flatnonzero(ok & (c.tune == t))[0])
        meta = c.tunes[int(t)]
        path = folder / f"folk-{row}.mid"
        notes_to_midi(services.notes(c.tokens[row].astype(np.int64)), path, meter=Meter.parse(meta.get("meter")))
        out.append((str(meta.get("title", f"tune {t}")), path))
    return out


def pop_files(n: int) -> list[tuple[str, Path]]:
    if not DATA.is_dir():
        return []
    return [(f"POP909 {k:03d}", DATA / f"{k:03d}" / f"{k:03d}.mid") for k in song_numbers()[:n]]


def measure(h, name: str, path: Path) -> dict:
    """One file through the old API path, the new one and the page's own: F1s, slider round trips, times."""
    from explorer.media.files import Playback
    from explorer.serve import api
    from explorer.session.state import new_state
    from vae.fidelity import note_f1

    s = h.s
    t0 = time.perf_counter()
    window = h.upload(new_state(), str(path)).upload.candidates[0].windows[0]
    mu = s.encode(window)  # the old /encode: the encoder's mean, decoded without fit or detail
    old_tokens = s.decode(mu)
    t1 = time.perf_counter()
    enc = api.encode(h, str(path))
    t2 = time.perf_counter()
    _, _, back = api.decode(h, json.dumps({"melody": enc["melody"]}))
    st, r, _ = h.choose_upload(h.upload(new_state(), str(path)), 0, 0, Playback())  # the page, on its own
    # slider values sent back unchanged: as the old /encode rounded them (z to 5 decimals, sliders to 3) ...
    old_z = np.round(mu.astype(np.float64), 5).astype(np.float32)
    old_sliders = np.round(s.sliders_of(mu).astype(np.float64), 3).astype(np.float32)
    old_moved = s.z_from_sliders(old_z, old_sliders)
    # ... and as the API returns them now, with the melody code
    _, _, new_back = api.decode(h, json.dumps({"melody": enc["melody"], "sliders": enc["sliders"]}))
    # one slider moved by +1, as the page moves it (Handlers.set_sliders on the page's melody), through the old
    # API's values (z to 5 decimals, sliders to 3, no detail) and through the new (full precision, the code)
    same_move = {"before": 0, "after": 0}
    for i in MOVED_SLIDERS:
        page_values = s.sliders_of(st.z).astype(np.float64)
        page_values[i] += 1.0
        page_tokens = h.set_sliders(st, page_values.tolist(), Playback())[1].tokens
        old_values = np.round(s.sliders_of(st.z).astype(np.float64), 3)
        old_values[i] += 1.0
        old_tokens_moved = s.decode(s.z_from_sliders(np.round(st.z.astype(np.float64), 5).astype(np.float32),
                                                     old_values.astype(np.float32)))
        new_values = list(enc["sliders"])
        new_values[i] += 1.0
        _, _, moved = api.decode(h, json.dumps({"melody": enc["melody"], "sliders": new_values}))
        same_move["before"] += bool(np.array_equal(old_tokens_moved, page_tokens))
        same_move["after"] += moved["tokens"] == page_tokens.tolist()
    ref = np.asarray(enc["tokens"])
    assert np.array_equal(ref, window)
    return {"name": name, "notes": int(len(enc["notes"])),
            "before": float(note_f1(ref, old_tokens)[0]),
            "after": float(note_f1(ref, np.asarray(back["tokens"]))[0]),
            "page": float(note_f1(ref, r.tokens)[0]),
            "same_as_page": back["tokens"] == r.tokens.tolist(),
            "detail": st.detail is not None,
            "sliders_moved_before": bool(not np.array_equal(s.decode(old_moved), old_tokens)),
            "z_moved_before": float(np.abs(old_moved - mu).max()),
            "sliders_moved_after": bool(new_back["tokens"] != back["tokens"] or new_back["z"] != enc["z"]),
            "move_as_page_before": same_move["before"], "move_as_page_after": same_move["after"],
            "ms_before": (t1 - t0) * 1e3, "ms_after": (t2 - t1) * 1e3}


def summarise(rows: list[dict]) -> dict:
    if not rows:
        return {}
    mean = lambda k: float(np.mean([r[k] for r in rows]))  # noqa: E731
    return {"n": len(rows), "before": mean("before"), "after": mean("after"), "page": mean("page"),
            "same_as_page": sum(r["same_as_page"] for r in rows), "detail": sum(r["detail"] for r in rows),
            "sliders_moved_before": sum(r["sliders_moved_before"] for r in rows),
            "sliders_moved_after": sum(r["sliders_moved_after"] for r in rows),
            "moves": len(rows) * len(MOVED_SLIDERS),
            "move_as_page_before": sum(r["move_as_page_before"] for r in rows),
            "move_as_page_after": sum(r["move_as_page_after"] for r in rows),
            "ms_before": float(np.median([r["ms_before"] for r in rows])),
            "ms_after": float(np.median([r["ms_after"] for r in rows]))}


def markdown(summary: dict[str, dict], rows: dict[str, list[dict]], checkpoint: str, skipped: list[str]) -> str:
    lines = ["# The API's encode -> decode against the page", "",
             f"`python -m bench.api_fidelity` on `{checkpoint}`. Exact-note F1 (pitch and onset) against the "
             "extracted notes of each file's first window. *before*: the old /encode (encoder mean, decoded "
             "alone); *after*: /encode's melody code sent back to /decode; *page*: the page's upload path. "
             "Sliders sent back: how many melodies moved when /encode's slider values went back to /decode "
             "unchanged (before: rounded to 3 decimals with base_z; after: full precision with the code). One "
             f"slider moved: sliders {', '.join(map(str, MOVED_SLIDERS))} each moved by +1 alone from the page's "
             "melody through the API's values, and how many of those moves play the tokens the page's own move "
             "plays (Handlers.set_sliders).", "",
             "| set | files | F1 before | F1 after | F1 page | after = page (tokens) | needed detail | "
             "sliders sent back moved it, before | after | one slider moved as the page, before | after | "
             "encode ms before | after (p50) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, s in summary.items():
        if not s:
            continue
        lines.append(f"| {name} | {s['n']} | {s['before']:.3f} | {s['after']:.3f} | {s['page']:.3f} | "
                     f"{s['same_as_page']}/{s['n']} | {s['detail']}/{s['n']} | {s['sliders_moved_before']}/{s['n']} | "
                     f"{s['sliders_moved_after']}/{s['n']} | {s['move_as_page_before']}/{s['moves']} | "
                     f"{s['move_as_page_after']}/{s['moves']} | {s['ms_before']:.0f} | {s['ms_after']:.0f} |")
    lines += [f"- skipped: {line}" for line in skipped]
    lines += ["", "## Per file", "", "| set | file | notes | before | after | page | detail |", "|---|---|---|---|---|---|---|"]
    for name, rs in rows.items():
        lines += [f"| {name} | {r['name']} | {r['notes']} | {r['before']:.3f} | {r['after']:.3f} | {r['page']:.3f} | "
                  f"{'yes' if r['detail'] else ''} |" for r in rs]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.api_fidelity", description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint", type=Path, default=None, help="checkpoint folder (default: the shipped model)")
    p.add_argument("--songs", type=int, default=12, help="POP909 songs (the first by number)")
    p.add_argument("--tunes", type=int, default=12, help="folk tunes of the test split")
    p.add_argument("--out", type=Path, default=HERE / "api_fidelity.md", help="markdown table (JSON beside it)")
    args = p.parse_args(argv)

    import torch

    from explorer.latent.space import LatentSpace
    from explorer.session.handlers import Handlers
    from vae.paths import SHIPPED

    torch.set_num_threads(1)  # one request on one thread, as the app serves it
    checkpoint = args.checkpoint or SHIPPED
    print(f"building explorer services for {checkpoint} (the first run builds caches: minutes)", flush=True)
    services = LatentSpace.build(checkpoint, progress=False)
    folder = Path(tempfile.mkdtemp(prefix="api-fidelity-"))
    h = Handlers(services, out_dir=folder / "renders")
    skipped = []
    sets = {"pop (POP909)": pop_files(args.songs),
            "folk (test split)": folk_files(services, args.tunes, folder)}
    if not sets["pop (POP909)"]:
        skipped.append(f"POP909 songs not found at {DATA} (../shared/data/pop909-dev, beside the checkout)")
        print(f"skipped: {skipped[-1]}")
    rows: dict[str, list[dict]] = {}
    for name, files in sets.items():
        rows[name] = []
        for title, path in files:
            r = measure(h, title, path)
            rows[name].append(r)
            print(f"{name:18s} {title[:30]:30s} before {r['before']:.3f} after {r['after']:.3f} page {r['page']:.3f}",
                  flush=True)
    summary = {name: summarise(rs) for name, rs in rows.items()}
    print(json.dumps(summary, indent=1))
    md = markdown(summary, rows, str(Path(checkpoint).name if args.checkpoint is None else checkpoint), skipped)
    args.out.write_text(md)
    args.out.with_suffix(".json").write_text(json.dumps({"checkpoint": str(checkpoint), "summary": summary,
                                                         "rows": rows, "skipped": skipped}, indent=1))
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
