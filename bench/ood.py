"""Out-of-domain melodies available on this machine: music21 works we do not train on, and pop-like files.

    ood_windows(per_domain=60) -> {domain: tokens [n, 64]}

Domains: "ragtime" (Joplin, Berlin), "song" (Foster, Schubert, Verdi), "classical" (Beethoven, Mozart,
Haydn quartets: first violin), "pop" (bench.pop files read through the upload path, the vocal line).
Windows are spread over each domain's works with a fixed seed, so a rerun measures the same melodies.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

DOMAINS = {
    "ragtime": ["joplin/maple_leaf_rag.mxl", "leadSheet/berlinAlexandersRagtime.mxl"],
    "song": ["leadSheet/fosterBrownHair.mxl", "schubert", "verdi"],
    "classical": ["beethoven", "mozart", "haydn"],
}


def _music21_root() -> Path:
    import music21

    return Path(music21.__file__).parent / "corpus"


def _files(root: Path, entry: str) -> list[Path]:
    p = root / entry
    if p.is_file():
        return [p]
    return sorted(x for x in p.rglob("*") if x.suffix in (".mxl", ".xml", ".musicxml"))


def score_windows(paths: list[Path], root: Path) -> np.ndarray:
    """4-bar windows [n, 64] of the top line of the first part of each MusicXML score."""
    from vae.errors import MusicReadError
    from vae.format import DEFAULT_FORMAT
    from vae.windows import tune_windows
    from vae.xml_reader import read_musicxml_part

    rows = []
    for path in paths:
        try:
            tune = read_musicxml_part(path, "ood", root)
        except MusicReadError:
            continue
        w, _, _ = tune_windows(tune, DEFAULT_FORMAT.window_steps, DEFAULT_FORMAT.steps_per_bar, 6)
        rows.append(w)
    return np.concatenate(rows).astype(np.int64) if rows else np.zeros((0, DEFAULT_FORMAT.window_steps), np.int64)


def pop_windows(files: int = 12, folder: Path | None = None) -> np.ndarray:
    """Windows of the sung line of bench.pop songs, read back through vae.midi_import as an upload is."""
    from bench.pop import make_pop_song
    from vae.midi_import import extract_melodies

    folder = Path(folder or tempfile.mkdtemp(prefix="pop-"))
    rows = []
    for seed in range(files):
        song = make_pop_song(folder / f"pop{seed:03d}.mid", seed=seed)
        for c in extract_melodies(song.path).candidates:
            if c.track == song.vocal_track and len(c.windows):
                rows.append(np.asarray(c.windows))
    return np.concatenate(rows).astype(np.int64)


def ood_windows(per_domain: int = 60, seed: int = 0) -> dict[str, np.ndarray]:
    """A fixed sample of out-of-domain windows per domain."""
    root = _music21_root()
    out = {name: score_windows([f for e in entries for f in _files(root, e)], root) for name, entries in DOMAINS.items()}
    out["pop"] = pop_windows()
    rng = np.random.default_rng(seed)
    return {k: v[np.sort(rng.permutation(len(v))[:per_domain])] for k, v in out.items() if len(v)}
