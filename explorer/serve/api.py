"""The public API without Gradio: Magenta.js MusicVAE's verbs (encode, decode, sample, similar, interpolate,
neighbours) and the page's harmonise and regenerate, JSON-shaped values in and out, every argument checked with its
range in the message.

The UI wires these functions to named endpoints; tests and benchmarks call them directly, so a
benchmark compares HTTP against exactly this work.
"""

from __future__ import annotations

import json
import re

import numpy as np

from explorer.errors import UserError
from explorer.latent import generation
from explorer.latent.generation import detail_row
from explorer.media.files import CHORD_BACKINGS, Playback
from explorer.session.handlers import Handlers
from explorer.session.melody import Rendered
from explorer.session.regenerate import MAX_ALTERNATIVES
from explorer.session.regenerate import regenerate as regenerate_melody
from explorer.session.sharecode import MAX_CHORD_BYTES, decode_z, encode_z
from explorer.session.slider_move import page_slider_move, quantise
from explorer.session.state import Session, new_state
from explorer.session.validate import LIMITS, number  # noqa: F401  (re-exported: the API's ranges)
from vae.chords import ChordError, chord_name, parse_progression
from vae.fidelity import nonzero, round_detail
from vae.harmony import chord_line, progression_fit
from vae.scales import apply_key

Z_LIMIT = 100.0  # a latent coordinate beyond this is nowhere near a melody (the corpus's means lie within ±6.4)
SLIDER_LIMIT = 1e4  # a first bound on slider values; those that take z beyond Z_LIMIT are refused after


def _vector(d: dict, key: str, size: int, limit: float) -> np.ndarray:
    try:
        v = np.asarray(d[key], dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise UserError(f"{key} must be a list of {size} numbers.") from None
    if v.shape != (size,) or not np.isfinite(v).all() or (np.abs(v) > limit).any():
        raise UserError(f"{key} must be a list of {size} finite numbers, each from {-limit:g} to {limit:g}.")
    return v.astype(np.float32)


def _json(text: str | dict | list | None, example: str) -> object:
    if text is None or (isinstance(text, str) and not text.strip()):
        raise UserError(example)
    if not isinstance(text, str):
        return text
    if len(text) > 200_000:
        raise UserError("The JSON input is too long (over 200,000 characters).")
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # ValueError: bad JSON, or an integer of over 4,300 digits
        raise UserError(f"The input is not valid JSON. {example}") from None


def _from_code(h: Handlers, value, key: str) -> tuple[np.ndarray, np.ndarray | None]:
    """(z, detail or None) of a melody code (explorer.session.sharecode: what /encode returns as "melody")."""
    if not isinstance(value, str):
        raise UserError(f'"{key}" must be a melody code: the text /encode returns as "melody".')
    try:
        c = decode_z(value)
    except UserError as exc:
        raise UserError(f'"{key}" is not a melody code: {exc}.') from None
    detail = c["detail"]
    if len(c["z"]) != h.s.latent_dim or (detail is not None and detail.shape != tuple(h.s.detail_shape)):
        raise UserError(f'"{key}" holds a melody of another model: it cannot be played here.')
    if (np.abs(c["z"]) > Z_LIMIT).any():
        raise UserError(f'"{key}" holds a melody beyond ±{Z_LIMIT:g} in the latent space, where there is no music.')
    return c["z"], detail


def parse_melody(h: Handlers, text: str | dict | list | None) -> tuple[np.ndarray, np.ndarray | None]:
    """(z [Z], detail [U, C] or None) from JSON, one of:

    {"melody": code} (or {"code": code}, or a bare JSON string): a melody code as /encode returns it and the page's
    share link carries (?m=code): z and an upload's per-bar detail, decoded as the page plays it;
    {"z": [...]} or a bare list: a latent, no detail;
    {"sliders": [...]} with "melody": the slider values set on that melody as the page's sliders set them
    (explorer.session.slider_move: steered, the detail fading with the distance moved); with "base_z" (default the latent
    origin) and no detail, LatentSpace.z_from_sliders. Values sent back as returned move nothing; change one
    and only that one is asked to move.
    A "z" or "base_z" sent beside a "melody" must be that melody's (as every answer of the API returns them)."""
    example = 'Give a JSON object like {"melody": "..."}, {"z": [...]} or {"sliders": [...]}.'
    d = _json(text, example)
    if isinstance(d, list):
        d = {"z": d}
    elif isinstance(d, str):
        d = {"melody": d}
    if not isinstance(d, dict):
        raise UserError(example)
    zdim, k = h.s.latent_dim, h.slider_count
    key = next((key for key in ("melody", "code") if key in d), None)
    if key is not None:
        base, detail = _from_code(h, d[key], key)
        for other in ("z", "base_z"):
            if other in d and not np.array_equal(_vector(d, other, zdim, Z_LIMIT), base):
                raise UserError(f'"{other}" and "{key}" are two different melodies: send one of them (the '
                                f'melody code carries z and the detail).')
        if "sliders" not in d:
            return base, detail
    elif "z" in d:
        return _vector(d, "z", zdim, Z_LIMIT), None
    elif "sliders" in d:
        base = _vector(d, "base_z", zdim, Z_LIMIT) if "base_z" in d else np.zeros(zdim, np.float32)
        detail = None
    else:
        raise UserError(example)
    values = _vector(d, "sliders", k, SLIDER_LIMIT)
    if key is not None:  # the page's own move: its detail fades as the page's does, and a code carries the result
        _, z, detail = page_slider_move(h, base, detail, values)
    else:
        z = h.s.z_from_sliders(base, values)
    if not (np.abs(z) <= Z_LIMIT).all():  # so every z the API returns is one it accepts back
        raise UserError(f"These slider values move the melody beyond ±{Z_LIMIT:g} in the latent space, where "
                        "there is no music: the page's sliders span ±3.")
    return z, detail


def parse_z(h: Handlers, text: str | dict | list | None) -> np.ndarray:
    """z [Z] of parse_melody's melody (its detail, if any, dropped)."""
    return parse_melody(h, text)[0]


def melody_code(z: np.ndarray, detail: np.ndarray | None = None) -> str | None:
    """The melody code of (z, detail) when a code carries them exactly (z in float16, the detail as the explorer
    rounds it), else None: a code sent back must decode to the very same melody."""
    z = np.asarray(z, np.float32)
    if not np.array_equal(quantise(z), z) or (detail is not None and not np.array_equal(round_detail(detail), detail)):
        return None
    return encode_z(z, detail=detail)


def melody_json(h: Handlers, z: np.ndarray, tokens: np.ndarray, detail: np.ndarray | None = None) -> dict:
    """z, slider values, notes [[pitch, start, end], ...] (16th steps) and tokens of one melody, and "melody": its
    code (z and detail) when a code carries it exactly. Numbers at full precision, so that any of them sent back
    unchanged decodes the very same melody."""
    out = {"z": [float(v) for v in z], "sliders": [float(v) for v in h.s.sliders_of(z)],
           "notes": [list(map(int, n)) for n in h.s.notes(tokens)], "tokens": [int(t) for t in tokens]}
    code = melody_code(z, detail)
    if code is not None:
        out["melody"] = code
    return out


def page_melody(h: Handlers, path: str | None) -> tuple[Session, Rendered, dict]:
    """A MIDI file as the page's upload makes it (Handlers.upload, then choose_upload: its best candidate's first
    window, z fitted and the per-bar detail z cannot say): (session, the page's render, choose_upload's info)."""
    if not path:
        raise UserError("Give a MIDI file.")
    return h.choose_upload(h.upload(new_state(), path), 0, 0, Playback())


def encode(h: Handlers, path: str | None) -> dict:
    """A MIDI file -> its best melody candidate's first window as the page plays it: "melody" (its code: z and
    detail, accepted back by every endpoint), z, sliders, the extracted notes and tokens, the map position,
    "reconstruction" (the notes the page plays) and "fidelity" (exact-note F1 of mu's, z's and the played rendering)."""
    st, r, info = page_melody(h, path)
    up = st.upload
    cand = up.candidates[info["candidate"]]
    tokens = cand.windows[info["window"]]
    return {"file": up.name, "candidate": cand.label, "windows": len(cand.windows),
            "candidates": [c.label for c in up.candidates], "map": [float(v) for v in r.map_xy],
            "reconstruction": [list(map(int, n)) for n in r.notes],
            "reconstruction_tokens": [int(t) for t in r.tokens], "fidelity": info["fidelity"],
            **melody_json(h, st.z, tokens, st.detail), "melody": r.share_code}


def decode(h: Handlers, text, temperature=0.0, seed=0, tempo=120.0, program=0) -> tuple[str, str, dict]:
    """A melody (parse_melody: a code, z or slider values) -> (MIDI path, WAV path, melody JSON), decoded with its
    detail as the page plays it; any General MIDI program 0-127 plays as itself."""
    z, detail = parse_melody(h, text)
    temperature, seed = number("temperature", temperature), number("seed", seed, integer=True)
    tempo, program = number("tempo", tempo), number("program", program, integer=True)
    tokens = h.s.decode(z, temperature, seed, detail)
    wav, mid = h.files.write_outputs(h.s.notes(tokens), Playback(tempo=tempo, gm_program=program), "decode")
    return mid, wav, melody_json(h, z, tokens, detail)


def sample(h: Handlers, n=4, temperature=0.5, seed=0) -> list[dict]:
    """n melodies from the prior."""
    n, temperature, seed = number("n", n, True), number("temperature", temperature), number("seed", seed, True)
    z, tokens = h.s.sample(n, temperature, seed)
    return [melody_json(h, zz, t) for zz, t in zip(z, tokens, strict=True)]


def similar(h: Handlers, text, similarity=0.8, n=4, temperature=0.5, seed=0) -> list[dict]:
    """n variations of a melody (similarity 1 = identical, 0 = unrelated); a melody's detail is kept in proportion,
    as the page's variations keep it (Handlers.similar)."""
    z0, detail = parse_melody(h, text)
    similarity, n = number("similarity", similarity), number("n", n, True)
    temperature, seed = number("temperature", temperature), number("seed", seed, True)
    if detail is None:
        z, tokens = h.s.similar(z0, n, similarity, temperature, seed)
    else:
        detail = nonzero(round_detail(similarity * detail))
        z = generation.similar(z0, n, similarity, seed)
        tokens = h.s.decode(z, temperature, seed, detail)
    return [melody_json(h, zz, t, detail) for zz, t in zip(z, tokens, strict=True)]


def interpolate(h: Handlers, a: str | None, b: str | None, steps=7) -> tuple[str, str, list[dict]]:
    """Two MIDI files -> a blend: (MIDI path, WAV path, one melody JSON per step)."""
    steps = number("steps", steps, True)
    st = new_state()
    for slot, path in (("A", a), ("B", b)):
        if not path:
            raise UserError(f"Give MIDI file {slot}.")
        st = h.upload(st, path)
        st, _, _ = h.choose_upload(st, 0, 0, Playback())
        st = h.set_slot(st, slot)
    res = h.blend(st, steps, Playback())
    return res["midi"], res["wav"], [melody_json(h, z, t, detail_row(res["detail"], i))
                                     for i, (z, t) in enumerate(zip(res["z"], res["tokens"], strict=True))]


def neighbours(h: Handlers, text=None, path: str | None = None, k=10) -> list[dict]:
    """The k corpus melodies nearest to a melody (parse_melody) or to a MIDI file's melody as /encode makes it,
    nearest first."""
    k = number("k", k, True)
    if isinstance(text, str) and text.strip() or isinstance(text, dict | list):
        z = parse_z(h, text)
    elif path:
        z = page_melody(h, path)[0].z
    else:
        raise UserError('Give {"melody": "..."}, {"z": [...]} or a MIDI file.')
    return [{key: (v.item() if isinstance(v, np.generic) else v) for key, v in n.items()} for n in h.s.neighbours(z, k)]


HARMONY_BACKING = next(iter(CHORD_BACKINGS))  # the page's first chord backing: its chords are the harmoniser's
MELODY_KEYS = ("melody", "code", "z", "sliders", "base_z")  # the fields of a JSON body that say the melody


def _melody_meter(text) -> str:
    """The meter a melody code carries (a share link's), "4/4" for a z or slider values; `text` as parse_melody
    took it (so any code in it is valid)."""
    d = json.loads(text) if isinstance(text, str) and text.strip()[:1] in "{[\"" else text
    d = {"melody": d} if isinstance(d, str) else d
    code = next((d[k] for k in ("melody", "code") if k in d), None) if isinstance(d, dict) else None
    return decode_z(code)["meter"] if isinstance(code, str) else "4/4"


def _given(text) -> bool:
    return isinstance(text, dict | list) or isinstance(text, str) and bool(text.strip())


def melody_session(h: Handlers, text=None, path: str | None = None) -> tuple[Session, np.ndarray]:
    """The melody of a request as the page holds and plays it: (a session with its z, detail and meter, its tokens
    [T] at temperature 0). From parse_melody's JSON (a code, z or slider values) or, when that is empty, a MIDI
    file as /encode reads it (page_melody)."""
    if not _given(text) and path:
        st, r, _ = page_melody(h, path)
        return st, np.asarray(r.tokens)
    if not _given(text):
        raise UserError('Give a melody: {"melody": "..."} (the code /encode returns), {"z": [...]}, '
                        '{"sliders": [...]} or a MIDI file.')
    z, detail = parse_melody(h, text)
    st = h.set_z(new_state(), z, "Melody", meter=_melody_meter(text), detail=detail)  # the page's z: float16
    return st, h.s.decode(st.z, 0.0, 0, st.detail)


def chords_json(chords) -> list[dict]:
    """Chord spans [(start, end, Chord or symbol)] -> [{"chord": "Am7", "start": 0, "end": 16}, ...] (16th steps)."""
    return [{"chord": str(c) if isinstance(c, str) else chord_name(c), "start": int(s), "end": int(e)}
            for s, e, c in chords]


def chord_progression(chords) -> str:
    """A typed progression checked as the page's chord box checks it: the line, or UserError with one sentence
    (an empty line, an unknown chord symbol named with the accepted forms, too many chords in a bar)."""
    if not isinstance(chords, str) or len(chords.encode()) > MAX_CHORD_BYTES:
        raise UserError(f'"chords" must be a line of at most {MAX_CHORD_BYTES} characters, like "Am F C G", '
                        '"| D | G A | Bm | A7 |" or "I vi IV V7 in G".')
    try:
        parse_progression(chords)
    except ChordError as exc:
        raise UserError(str(exc)) from None
    return chords.strip()


def harmonise(h: Handlers, text=None, chords: str | None = None, path: str | None = None) -> dict:
    """A melody (melody_session: a code, z, slider values or a MIDI file) -> its chords as the page shows and plays
    them under a chord backing (MelodyFiles.chords: vae.harmony's harmoniser, per window, in the melody's key and
    meter): {"chords": [{"chord", "start", "end"}, ...] in 16th steps, "chord_line": "C | Am | F G | C", "key",
    "meter"} with the melody JSON (melody_json).

    With `chords` (a progression: "Am F C G", "| D | G A |", "I vi IV V7 in G"), the melody is fitted to them as the
    page's "Fit the melody to my chords" does (Handlers.fit_to_chords) and the fitted melody comes back: its code
    (the page's share code, carrying the chords), notes and tokens, the typed chords' spans, "fit" (chord-tone share
    of strong beats before and after) and "note": how a progression longer or shorter than the melody is laid over
    it ("" when it fits bar for bar)."""
    if chords is not None:
        chords = chord_progression(chords)
    st, tokens = melody_session(h, text, path)
    if chords is None:
        notes = h.s.notes(tokens)
        spans = h.files.chords(notes, Playback(accompaniment=HARMONY_BACKING), st.meter)
        return {"chords": chords_json(spans), "chord_line": chord_line(spans, st.meter), "key": apply_key(notes)[1],
                "meter": st.meter, **melody_json(h, st.z, tokens, st.detail)}
    note = progression_fit(parse_progression(chords), st.meter, len(tokens))
    st, r, info = h.fit_to_chords(st, Playback(progression=chords))
    return {"chords": chords_json(r.chords), "chord_line": r.chord_line, "key": r.key, "meter": st.meter,
            "note": note, "fit": {k: info[k] for k in ("before", "after", "changed")},
            **melody_json(h, st.z, r.tokens, st.detail), "melody": r.share_code}


def _flag(name: str, value) -> bool:
    if isinstance(value, bool | np.bool_):
        return bool(value)
    raise UserError(f"{name} must be true or false, not {str(value)[:40]!r}.")


def kept_bars(keep, bars: int) -> list[int]:
    """The bars to keep as the page numbers them (1-based: [1, 2], or text "1 2" / "1, 2"; None or "" for none)
    -> 0-based indices; UserError with one sentence for anything else or a bar the melody does not have."""
    example = f"keep must be bar numbers from 1 to {bars}, like [1, 2] or \"1 2\""
    if keep is None or isinstance(keep, str) and not keep.strip():
        return []
    if isinstance(keep, str):
        keep = re.sub(r"[\[\],]", " ", keep).split()  # "1 2", "1, 2" or "[1, 2]"
    if not isinstance(keep, list | tuple) or len(keep) > 100:
        raise UserError(f"{example}.")
    out = set()
    for b in keep:
        try:
            v = float(b) if not isinstance(b, bool) else None
        except (TypeError, ValueError, OverflowError):
            v = None
        if v is None or not np.isfinite(v) or v != int(v):
            raise UserError(f"{example}, not {str(b)[:40]!r}.")
        if not 1 <= v <= bars:
            raise UserError(f"Bar {int(v)} cannot be kept: the melody has bars 1 to {bars}.")
        out.add(int(v) - 1)
    return sorted(out)


def regenerate(h: Handlers, text=None, keep=None, rhythm_lock=False, pitch_lock=False, n=4, seed=0,
               path: str | None = None) -> dict:
    """A melody (melody_session) -> n (1 to 8) new melodies that keep its bars `keep` (1-based, as the page numbers
    them) note for note, with rhythm_lock its every onset and duration, with pitch_lock its pitches in order
    (explorer.session.regenerate, as the page's Regenerate). Each alternative is taken as the page takes it
    (Handlers.take_alternative: z and a per-bar detail that play its tokens), so its melody JSON (code, notes,
    tokens, z) sent to /decode plays the same; "score" (mean NLL per step: lower is likelier), "similarity"
    (exact-note F1 of its regenerated bars with the original's) and "exact": whether it plays the tokens as
    regenerated, kept bars and all (the shipped model: always; a model too small to say a melody plays the nearest
    it can, and these notes are what it plays). Returns {"kept_bars", "rhythm_lock",
    "pitch_lock", "original": the melody JSON regenerated from, "alternatives": [...]}, likeliest first."""
    rhythm_lock, pitch_lock = _flag("rhythm_lock", rhythm_lock), _flag("pitch_lock", pitch_lock)
    n, seed = number("n", n, integer=True), number("seed", seed, integer=True)
    if not 1 <= n <= MAX_ALTERNATIVES:
        raise UserError(f"n must be a whole number from 1 to {MAX_ALTERNATIVES} (alternatives), not {n}.")
    bars = kept_bars(keep, h.s.format.bars)
    st, tokens = melody_session(h, text, path)
    out = regenerate_melody(h.s, st.z, tokens, bars, n=n, rhythm_lock=rhythm_lock, seed=seed, pitch_lock=pitch_lock)
    st = st.but(regenerated=tuple((a.z, a.tokens) for a in out.alternatives), regenerated_title="Regenerated")
    alternatives = []
    for k, a in enumerate(out.alternatives):
        taken, r = h.take_alternative(st, k, Playback())
        alternatives.append({**melody_json(h, taken.z, r.tokens, taken.detail), "melody": r.share_code,
                             "score": a.score, "similarity": a.similarity,
                             "exact": bool(np.array_equal(r.tokens, a.tokens))})
    return {"kept_bars": [b + 1 for b in bars], "rhythm_lock": rhythm_lock, "pitch_lock": pitch_lock,
            "original": melody_json(h, st.z, tokens, st.detail), "alternatives": alternatives}
