"""POP909's sung lines as a collection: each song's MELODY track alone, written as a one-track MIDI file.

POP909 (Wang, Chen et al., ISMIR 2020; MIT licence; the songs are copyrighted compositions, for research and
non-commercial use) lives beside the checkout in ../shared/data/pop909-dev (songs 401-909), never in the
repository. Songs 401-699 are what the shipped model may learn from; 700-909 stay held out for every figure
about pop uploads.
"""

from __future__ import annotations

from pathlib import Path

from vae.paths import REPO

DATA = REPO.parent / "shared" / "data" / "pop909-dev"
LEARN = range(401, 700)  # songs a model may learn from (and the melody-track ranking was tuned on)
HELD_OUT = range(700, 910)  # never learned from, never tuned on


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


def main(argv: list[str] | None = None) -> int:
    """`python -m vae.pop909 OUT [--held-out]`: write the learnable (or held-out) songs' sung lines to OUT."""
    import argparse

    p = argparse.ArgumentParser(prog="python -m vae.pop909", description=main.__doc__)
    p.add_argument("out", type=Path)
    p.add_argument("--held-out", action="store_true", help="songs 700-909 instead of 401-699")
    a = p.parse_args(argv)
    numbers = song_numbers(within=HELD_OUT if a.held_out else LEARN)
    if not numbers:
        print(f"no POP909 songs found at {DATA} (../shared/data/pop909-dev, beside the checkout)")
        return 2
    files = write_melodies(numbers, a.out)
    print(f"{len(files)} sung lines in {a.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
