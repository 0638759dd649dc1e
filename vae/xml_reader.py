"""Fast MusicXML reader for one part's melody (the Bach chorale soprano) without music21 Streams."""

from __future__ import annotations

import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

from vae.abc_reader import meter_steps
from vae.constants import STEPS_PER_QUARTER, fold_pitch
from vae.errors import EmptyTuneError, TuneParseError
from vae.music import snap
from vae.tokenizer import Note
from vae.tune import Tune

_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_MAJOR = ["Cb", "Gb", "Db", "Ab", "Eb", "Bb", "F", "C", "G", "D", "A", "E", "B", "F#", "C#"]
_MINOR = ["Abm", "Ebm", "Bbm", "Fm", "Cm", "Gm", "Dm", "Am", "Em", "Bm", "F#m", "C#m", "G#m", "D#m", "A#m"]


def _load_root(path: Path) -> ET.Element:
    if path.suffix.lower() == ".mxl":
        with zipfile.ZipFile(path) as zf:
            names = [n for n in zf.namelist() if n.endswith((".xml", ".musicxml")) and not n.startswith("META-INF")]
            if not names:
                raise TuneParseError("the compressed MusicXML holds no score")
            return ET.fromstring(zf.read(names[0]))
    return ET.parse(path).getroot()


def read_musicxml_part(path: Path, collection: str, root: Path, part_index: int = 0) -> Tune:
    """The top line of one part (chords -> top note) as a Tune. Raises TuneParseError / EmptyTuneError."""
    try:
        score = _load_root(path)
    except (ET.ParseError, zipfile.BadZipFile, OSError, KeyError) as exc:
        raise TuneParseError(f"not readable MusicXML: {exc}") from exc
    parts = score.findall("part")
    if len(parts) <= part_index:
        raise TuneParseError("the score has no such part")
    title = (score.findtext("movement-title") or score.findtext("work/work-title") or path.stem).strip()
    if title.endswith((".mxl", ".xml")) and collection == "bach":
        title = "Chorale BWV " + path.stem.removeprefix("bwv")
    divisions, pos, meter, key = 1, 0.0, "", ""
    last_start = 0.0
    onsets: dict[float, list] = {}
    bars: list[float] = []
    tie_open: dict[int, list] = {}
    for measure in parts[part_index].findall("measure"):
        bars.append(pos)
        m_start, m_max = pos, pos
        for el in measure:
            if el.tag == "attributes":
                divisions = int(el.findtext("divisions") or divisions)
                if not meter and el.find("time") is not None:
                    meter = f"{el.findtext('time/beats')}/{el.findtext('time/beat-type')}"
                if not key and el.find("key/fifths") is not None:
                    fifths = int(el.findtext("key/fifths"))
                    mode = el.findtext("key/mode") or "major"
                    key = (_MINOR if mode == "minor" else _MAJOR)[max(-7, min(7, fifths)) + 7]
            elif el.tag == "backup":
                pos -= int(el.findtext("duration") or 0) / divisions
            elif el.tag == "forward":
                pos += int(el.findtext("duration") or 0) / divisions
            elif el.tag == "note":
                if el.find("grace") is not None:
                    continue
                dur = int(el.findtext("duration") or 0) / divisions
                is_chord = el.find("chord") is not None
                if not is_chord:
                    last_start = pos
                start = last_start
                if el.find("rest") is None and el.find("pitch") is not None:
                    p = el.find("pitch")
                    midi = 12 * (int(p.findtext("octave")) + 1) + _PC[p.findtext("step")] + int(float(p.findtext("alter") or 0))
                    midi = fold_pitch(midi)
                    ties = {t.attrib.get("type") for t in el.findall("tie")}
                    prev = tie_open.get(midi)
                    if "stop" in ties and prev is not None and abs(prev[2] - start) < 1e-6:
                        prev[2] = start + dur
                    else:
                        note = [midi, start, start + dur]
                        onsets.setdefault(start, []).append(note)
                        prev = note
                    if "start" in ties:
                        tie_open[midi] = prev
                    else:
                        tie_open.pop(midi, None)
                if not is_chord:
                    pos += dur
            m_max = max(m_max, pos)
        pos = max(pos, m_max, m_start)
    notes: list[Note] = []
    for start in sorted(onsets):
        pitch, s, e = max(onsets[start], key=lambda n: n[0])
        s_step, e_step = snap(s, STEPS_PER_QUARTER), snap(e, STEPS_PER_QUARTER)
        if notes and s_step <= notes[-1].start:
            continue
        if notes and notes[-1].end > s_step:
            notes[-1] = notes[-1]._replace(end=s_step)
        notes.append(Note(pitch, s_step, max(e_step, s_step + 1)))
    if not notes:
        raise EmptyTuneError("the part has no pitched notes")
    total = max(snap(pos, STEPS_PER_QUARTER), notes[-1].end)
    bar_steps = sorted({snap(b, STEPS_PER_QUARTER) for b in bars if b * STEPS_PER_QUARTER < total})
    full = meter_steps(meter) or 16
    if len(bar_steps) > 1 and bar_steps[1] - bar_steps[0] < full:
        bar_steps = bar_steps[1:]  # the first measure is a pickup: it does not start a bar
    return Tune(collection, title, str(path.relative_to(root)), path.stem, meter or "none", key, notes,
                bar_steps, total, {})
