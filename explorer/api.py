"""The public API without Gradio: Magenta.js MusicVAE's verbs (encode, decode, sample, similar, interpolate,
neighbours), JSON-shaped values in and out, every argument checked with its range in the message.

The UI wires these functions to named endpoints; tests and benchmarks call them directly, so a
benchmark compares HTTP against exactly this work.
"""

from __future__ import annotations

import json

import numpy as np

from explorer.errors import UserError
from explorer.handlers import Handlers, Playback
from explorer.session import new_state
from explorer.validate import LIMITS, number  # noqa: F401  (re-exported: the API's ranges)

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


def parse_z(h: Handlers, text: str | dict | list | None) -> np.ndarray:
    """z [Z] from JSON: {"z": [...]} (a latent), or {"sliders": [...], "base_z": [...]?} (slider values set on
    base_z, default the latent origin), or a bare list (a latent)."""
    example = 'Give a JSON object like {"z": [...]} or {"sliders": [...]}.'
    if text is None or (isinstance(text, str) and not text.strip()):
        raise UserError(example)
    if isinstance(text, str):
        if len(text) > 200_000:
            raise UserError("The JSON input is too long (over 200,000 characters).")
        try:
            d = json.loads(text)
        except (ValueError, RecursionError):  # ValueError: bad JSON, or an integer of over 4,300 digits
            raise UserError(f"The input is not valid JSON. {example}") from None
    else:
        d = text
    if isinstance(d, list):
        d = {"z": d}
    if not isinstance(d, dict):
        raise UserError(example)
    zdim, k = h.s.latent_dim, len(h.labels)
    if "z" in d:
        return _vector(d, "z", zdim, Z_LIMIT)
    if "sliders" in d:
        base = _vector(d, "base_z", zdim, Z_LIMIT) if "base_z" in d else np.zeros(zdim, np.float32)
        z = h.s.z_from_sliders(base, _vector(d, "sliders", k, SLIDER_LIMIT))
        if not (np.abs(z) <= Z_LIMIT).all():  # so every z the API returns is one it accepts back
            raise UserError(f"These slider values move the melody beyond ±{Z_LIMIT:g} in the latent space, where "
                            "there is no music: the page's sliders span ±3.")
        return z
    raise UserError(example)


def melody_json(h: Handlers, z: np.ndarray, tokens: np.ndarray) -> dict:
    """z, slider values, notes [[pitch, start, end], ...] (16th steps) and tokens of one melody."""
    return {"z": [round(float(v), 5) for v in z], "sliders": [round(float(v), 3) for v in h.s.sliders_of(z)],
            "notes": [list(map(int, n)) for n in h.s.notes(tokens)], "tokens": [int(t) for t in tokens]}


def _first_window(h: Handlers, path: str | None) -> tuple[dict, dict, np.ndarray]:
    if not path:
        raise UserError("Give a MIDI file.")
    up = h.upload(new_state(), path).upload
    cand = up["candidates"][0]
    return up, cand, cand["windows"][0]


def encode(h: Handlers, path: str | None) -> dict:
    """A MIDI file -> its best melody candidate's first window: z, sliders, notes, map position, reconstruction."""
    up, cand, tokens = _first_window(h, path)
    z = h.s.encode(tokens)
    x, y = h.s.place(z)
    return {"file": up["name"], "candidate": cand["label"], "windows": len(cand["windows"]),
            "candidates": [c["label"] for c in up["candidates"]], "map": [x, y],
            "reconstruction": [list(map(int, n)) for n in h.s.notes(h.s.decode(z))], **melody_json(h, z, tokens)}


def decode(h: Handlers, text, temperature=0.0, seed=0, tempo=120.0, program=0) -> tuple[str, str, dict]:
    """z (or slider values) -> (MIDI path, WAV path, melody JSON); any General MIDI program 0-127 plays as itself."""
    z = parse_z(h, text)
    temperature, seed = number("temperature", temperature), number("seed", seed, integer=True)
    tempo, program = number("tempo", tempo), number("program", program, integer=True)
    tokens = h.s.decode(z, temperature, seed)
    wav, mid = h.write_outputs(h.s.notes(tokens), Playback(tempo=tempo, gm_program=program), "decode")
    return mid, wav, melody_json(h, z, tokens)


def sample(h: Handlers, n=4, temperature=0.5, seed=0) -> list[dict]:
    """n melodies from the prior."""
    n, temperature, seed = number("n", n, True), number("temperature", temperature), number("seed", seed, True)
    z, tokens = h.s.sample(n, temperature, seed)
    return [melody_json(h, zz, t) for zz, t in zip(z, tokens, strict=True)]


def similar(h: Handlers, text, similarity=0.8, n=4, temperature=0.5, seed=0) -> list[dict]:
    """n variations of a melody (similarity 1 = identical, 0 = unrelated)."""
    z0 = parse_z(h, text)
    similarity, n = number("similarity", similarity), number("n", n, True)
    temperature, seed = number("temperature", temperature), number("seed", seed, True)
    z, tokens = h.s.similar(z0, n, similarity, temperature, seed)
    return [melody_json(h, zz, t) for zz, t in zip(z, tokens, strict=True)]


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
    return res["midi"], res["wav"], [melody_json(h, z, t) for z, t in zip(res["z"], res["tokens"], strict=True)]


def neighbours(h: Handlers, text=None, path: str | None = None, k=10) -> list[dict]:
    """The k corpus melodies nearest to a z (JSON) or to a MIDI file's melody, nearest first."""
    k = number("k", k, True)
    if isinstance(text, str) and text.strip() or isinstance(text, dict | list):
        z = parse_z(h, text)
    elif path:
        z = h.s.encode(_first_window(h, path)[2])
    else:
        raise UserError('Give {"z": [...]} or a MIDI file.')
    return [{key: (v.item() if isinstance(v, np.generic) else v) for key, v in n.items()} for n in h.s.neighbours(z, k)]
