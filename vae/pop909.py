"""POP909's sung lines as a collection: each song's MELODY track alone, written as a one-track MIDI file.

POP909 (Wang, Chen et al., ISMIR 2020; MIT licence; the songs are copyrighted compositions, for research and
non-commercial use) lives beside the checkout in ../shared/data/pop909-dev (songs 401-909), never in the
repository. Songs 401-699 are what the shipped model may learn from; 700-909 stay held out for every figure
about pop uploads.

What the repository ships of it is small and derived: `vae/pretrained/pop909-windows.npz`, the 4-bar token
windows of the sung lines of songs 401-699 (the windows the shipped model was fine-tuned on, with the fine-tune's
own train / valid / test split, so its held-out songs stay held out), beside `pop909-windows.md` (attribution and
terms). The explorer shows them as the built-in "Pop" collection. `python -m vae.pop909 OUT --windows FILE`
regenerates it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from vae.paths import REPO

DATA = REPO.parent / "shared" / "data" / "pop909-dev"
LEARN = range(401, 700)  # songs a model may learn from (and the melody-track ranking was tuned on)
HELD_OUT = range(700, 910)  # never learned from, never tuned on
WINDOWS = REPO / "vae" / "pretrained" / "pop909-windows.npz"  # the shipped windows (songs 401-699)
ATTRIBUTION = WINDOWS.with_suffix(".md")
NAME = "Pop"  # the built-in collection's name (and style)
WINDOWS_VERSION = 1  # bump when what the file holds changes
# POP909's MIDI files say 1/4 (one beat a bar) whatever the song: its windows are cut on 16-step (4/4) bars, and
# that is how they are shown
METER = "4/4"
ATTRIBUTION_TEXT = """# POP909 sung-line windows (`pop909-windows.npz`)

4-bar token windows (16 steps a bar, the model's melody tokens) of the sung lines (the `MELODY` track) of
songs 401-699 of **POP909**: Ziyu Wang, Ke Chen, Junyan Jiang, Yiyi Zhang, Maoran Xu, Shuqi Dai, Xianbin Gu,
Gus Xia, "POP909: A Pop-song Dataset for Music Arrangement Generation", ISMIR 2020
(https://github.com/music-x-lab/POP909-Dataset), released under the MIT licence.

The songs themselves are copyrighted popular compositions: these windows are shipped for research and
non-commercial use only, with this attribution, as the melodies the shipped model was fine-tuned on. Songs
700-909 are not in this file: they stay held out of training and of every figure's tuning. Each window keeps
its song number and the fine-tune's own train / valid / test split (held-out songs of 401-699 stay held out).

Regenerate it from `../shared/data/pop909-dev` with
`python -m vae.pop909 .cache/collections/pop909-melody-learn --windows vae/pretrained/pop909-windows.npz`
(part of `make pop-model`).
"""


def song_numbers(data: Path = DATA, within: range | None = None) -> list[int]:
    """The POP909 song numbers present in `data` (optionally only those in `within`), ascending."""
    if not Path(data).is_dir():
        return []
    have = sorted(int(p.name) for p in Path(data).iterdir() if p.name.isdigit() and (p / f"{p.name}.mid").exists())
    return [n for n in have if within is None or n in within]


def write_melodies(numbers: list[int], out_dir: Path, data: Path = DATA) -> list[Path]:
    """Write each song's MELODY track (with the file's tempo and meter events) as out_dir/NNN.mid; returns the
    files. Files already written are kept."""
    import mido

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = []
    for n in numbers:
        dst = out_dir / f"{n:03d}.mid"
        if not dst.exists():
            src = mido.MidiFile(str(Path(data) / f"{n:03d}" / f"{n:03d}.mid"))
            keep = [t for t in src.tracks if t.name.strip().upper() == "MELODY"]
            if not keep:
                continue
            conductor = [t for t in src.tracks if not any(m.type in ("note_on", "note_off") for m in t)]
            out = mido.MidiFile(type=1, ticks_per_beat=src.ticks_per_beat)
            out.tracks.extend(conductor[:1] + keep)
            tmp = dst.with_suffix(".tmp")
            out.save(str(tmp))
            tmp.replace(dst)
        files.append(dst)
    return files


def pick_songs(mine: int, held: int, within: range = HELD_OUT, data: Path = DATA) -> tuple[list[int], list[int]]:
    """mine + held song numbers spread evenly over the songs present in `within` (default 700-909, which no model
    learned from), every third of them held out -> (mine, held), ascending. FileNotFoundError when too few."""
    songs = song_numbers(data, within)
    if len(songs) < mine + held:
        raise FileNotFoundError(f"POP909 songs {within.start}-{within.stop - 1} not found at {data} "
                                "(../shared/data/pop909-dev, beside the checkout)")
    pick = [songs[i] for i in np.linspace(0, len(songs) - 1, mine + held).round().astype(int)]
    kept_out = set(pick[2::3][:held])
    return [n for n in pick if n not in kept_out], sorted(kept_out)


def link_songs(numbers: list[int], folder: Path, data: Path = DATA) -> Path:
    """A folder of links to these songs' whole POP909 files (NNN.mid, as a composer would drop them) -> folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for n in numbers:
        link = folder / f"{n:03d}.mid"
        if not link.exists():
            link.symlink_to(Path(data) / f"{n:03d}" / f"{n:03d}.mid")
    return folder


def song_folders(root: Path, mine: int = 50, held: int = 20, data: Path = DATA) -> tuple[Path, Path]:
    """root/mine and root/held: links to `mine` and `held` whole songs of 700-909 (pick_songs), the "my collection"
    and its held-out songs of the benchmarks (bench.finetune, bench.collections)."""
    a, b = pick_songs(mine, held, data=data)
    return link_songs(a, Path(root) / "mine", data), link_songs(b, Path(root) / "held", data)


def song_of(source: str) -> int:
    """The POP909 song number of a sung line's file name ('412.mid' -> 412)."""
    return int(Path(source).stem)


def save_windows(corpus, path: Path = WINDOWS) -> Path:
    """Write a corpus of sung lines (read from write_melodies' files) as the shipped windows file: tokens [N, T]
    uint8, per window its tune, start step and split; per tune (those with windows) its song number, part (1, 2 ...
    within the song) and window count. The attribution text is written beside it. Returns the path."""
    path = Path(path)
    corpus = corpus.subset_tunes(np.unique(corpus.tune))  # tunes too short for a window are left out
    songs = np.array([song_of(m["source"]) for m in corpus.tunes], np.int16)
    if len(songs) and not all(int(n) in LEARN for n in songs):
        raise ValueError(f"only songs {LEARN.start}-{LEARN.stop - 1} may be shipped (held out: {HELD_OUT.start}-"
                         f"{HELD_OUT.stop - 1})")
    part = np.zeros(len(songs), np.int16)
    for k in range(len(songs)):
        part[k] = int((songs[:k] == songs[k]).sum()) + 1
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, version=np.int16(WINDOWS_VERSION), tokens=np.asarray(corpus.tokens, np.uint8),
                        tune=np.asarray(corpus.tune, np.int32), start=np.asarray(corpus.start, np.int32),
                        split=np.asarray(corpus.split, np.int8), tune_song=songs, tune_part=part,
                        tune_windows=np.bincount(corpus.tune, minlength=len(songs)).astype(np.int32),
                        settings=np.array(json.dumps(corpus.report.get("settings", {}), sort_keys=True)))
    tmp.replace(path)
    path.with_suffix(".md").write_text(ATTRIBUTION_TEXT)
    return path


def load_windows(path: Path = WINDOWS):
    """The shipped windows as a vae.corpus.Corpus: every tune's collection is NAME ('Pop'), its title 'POP909 song
    N' (', part k' when the song's sung line came in several tunes), its number N; splits as the fine-tune had
    them. FileNotFoundError when the file is missing."""
    from vae.corpus import Corpus
    from vae.split import SPLIT_NAMES

    path = Path(path)
    with np.load(path, allow_pickle=False) as z:
        a = {k: z[k] for k in z.files}
    songs, parts = a["tune_song"].astype(int), a["tune_part"].astype(int)
    several = {int(n) for n in songs[parts > 1]}
    tune_split = np.zeros(len(songs), np.int64)
    tune_split[a["tune"]] = a["split"]
    tunes = [{"collection": NAME, "title": f"POP909 song {n}" + (f", part {k}" if n in several else ""),
              "source": f"POP909 {n:03d}", "number": str(n), "song": int(n), "meter": METER, "key": "",
              "windows": int(w), "split": SPLIT_NAMES[int(s)]}
             for n, k, w, s in zip(songs, parts, a["tune_windows"], tune_split, strict=True)]
    report = {"collection": NAME, "source": "POP909 (Wang, Chen et al., ISMIR 2020), songs 401-699, sung lines",
              "tunes_read": len(tunes), "windows_kept": len(a["tokens"]), "settings": json.loads(str(a["settings"]))}
    return Corpus(a["tokens"], a["tune"], a["start"], a["split"], tunes, report, path)


def build_windows(melodies: Path, out: Path = WINDOWS, data: Path = DATA, workers: int | None = None) -> Path:
    """Songs 401-699's sung lines written to `melodies` (write_melodies), read into windows with the shipped model's
    data settings (the corpus the fine-tune read: same files, same settings, so the same split), saved to `out`."""
    from vae.checkpoint import data_config, read_meta
    from vae.corpus import load_or_build
    from vae.paths import SHIPPED

    numbers = song_numbers(data, LEARN)
    if not numbers:
        raise FileNotFoundError(f"no POP909 songs found at {data} (../shared/data/pop909-dev, beside the checkout)")
    write_melodies(numbers, melodies, data)
    corpus = load_or_build(data_config(read_meta(SHIPPED)), midi_dir=Path(melodies), workers=workers)
    return save_windows(corpus, out)


def main(argv: list[str] | None = None) -> int:
    """`python -m vae.pop909 OUT [--held-out] [--windows FILE]`: write the learnable (or held-out) songs' sung lines
    to OUT; with --windows, also read them into the shipped windows file (songs 401-699 only)."""
    import argparse

    p = argparse.ArgumentParser(prog="python -m vae.pop909", description=main.__doc__)
    p.add_argument("out", type=Path)
    p.add_argument("--held-out", action="store_true", help="songs 700-909 instead of 401-699")
    p.add_argument("--windows", type=Path, help=f"write the windows file here (e.g. {WINDOWS.relative_to(REPO)})")
    a = p.parse_args(argv)
    if a.windows and a.held_out:
        p.error("--windows ships songs 401-699 only; drop --held-out")
    numbers = song_numbers(within=HELD_OUT if a.held_out else LEARN)
    if not numbers:
        print(f"no POP909 songs found at {DATA} (../shared/data/pop909-dev, beside the checkout)")
        return 2
    files = write_melodies(numbers, a.out)
    print(f"{len(files)} sung lines in {a.out}")
    if a.windows:
        path = build_windows(a.out, a.windows)
        c = load_windows(path)
        print(f"{len(c)} windows of {len(c.tunes)} sung-line tunes ({len({m['song'] for m in c.tunes})} songs) in "
              f"{path} ({path.stat().st_size / 1024:.0f} kB), attribution in {path.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
