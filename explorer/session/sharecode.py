"""Compact, URL-safe encoding of a latent vector (plus playback settings and locks) for shareable links."""

from __future__ import annotations

import base64
import struct

import numpy as np

from explorer.errors import UserError
from explorer.session.validate import number
from vae.chords import ChordError, parse_progression
from vae.fidelity import dequantise_detail, quantise_detail
from vae.meter import Meter
from vae.scales import KEYS, SCALES

VERSION = 5  # 2 added the backing and the title, 3 an upload's per-bar detail, 4 the rest of the page, 5 the locks; 1-4 open
HEAD_V1 = "<BHfIfB"  # version, latent size, temperature, seed, tempo, program
HEAD_V2 = "<BHfIfBBBBB"  # ... + backing (BACKINGS' index) + key + scale (0 = off) + title bytes
HEAD_V3 = HEAD_V2 + "BH"  # ... + detail units (0 = no detail) + detail size per unit
HEAD_V4 = HEAD_V3 + "BBBBH"  # ... + flags (LOOP, COUNT_IN) + meter (numerator, denominator; 0 = 4/4) + sliders + chord bytes
HEAD_V5 = HEAD_V4 + "H"  # ... + locked bars (bit b = bar b + 1)
LOOP, COUNT_IN = 1, 2  # HEAD_V4's flags
RHYTHM_LOCK, PITCH_LOCK = 4, 8  # HEAD_V5's flags besides
MAX_LOCKED_BARS = 16  # bars a code's lock mask can name
MAX_DETAIL_VALUES = 1024  # units x size a code may carry (the shipped model's detail is 4 x 128)
MAX_CODE_CHARS = 2048  # a 64-dim latent takes ~190; a longer code is refused before decoding
MAX_ABS_Z = 1e3  # a latent coordinate beyond this is no melody the model knows
MIN_TEMPERATURE = 1e-3
MAX_TITLE_BYTES = 120  # UTF-8 bytes of title a link carries (cut at a character boundary)
MAX_CHORD_BYTES = 400  # UTF-8 bytes of typed chords a link carries (the page takes a line of 400 characters)
MAX_SLIDERS = 64  # slider values a code may carry (the shipped model has 16)
# The backing menu (explorer.media.files.ACCOMPANIMENTS), by index: new entries are appended, so older codes open
# with the backing they were made with (the chord backings, 3-6, came with the harmoniser).
BACKINGS = ("None", "Drone", "Tonic chord", "Chords: block", "Chords: broken", "Chords: bass and chord",
            "Chords: waltz / jig (follows the meter)")
KEY_CODES = (None, *KEYS)  # 0 = as decoded, 1.. = C ..
SCALE_CODES = (None, *SCALES)  # 0 = off


def clean_title(title: str, limit: int = MAX_TITLE_BYTES) -> str:
    """A title safe to carry and show: printable characters only, at most `limit` UTF-8 bytes."""
    text = "".join(ch for ch in str(title) if ch.isprintable()).strip()
    data = text.encode()[:limit]
    return data.decode("utf-8", errors="ignore").strip()


def encode_z(z: np.ndarray, temperature: float = 0.0, seed: int = 0, tempo: float = 120.0, program: int = 0,
             backing: str = "None", title: str = "", key: str | None = None, scale: str | None = None,
             detail: np.ndarray | None = None, meter: str = "4/4", sliders: np.ndarray | None = None,
             chords: str = "", loop: bool = False, count_in: bool = False, locked_bars=(), rhythm_lock: bool = False,
             pitch_lock: bool = False) -> str:
    """z [Z] + playback settings (backing, key, scale, typed chords, loop, count-in) + title + meter + the slider
    positions the user set [K] (None: the melody's own, which z gives back) (+ an upload's per-bar detail [U, C])
    -> URL-safe text. float16 keeps decoding identical for a melody (~2 chars per dim); the sliders travel as
    float32 (exactly as set: a steered move lands near them, not on them, so z alone would show other values);
    the title adds up to MAX_TITLE_BYTES, the chords MAX_CHORD_BYTES; a detail travels as int8 with a float16
    scale per unit (vae.fidelity.quantise_detail, ~700 chars for 4 x 128), exactly as the explorer rounds it. The
    locks (locked_bars: 0-based bars below MAX_LOCKED_BARS; the rhythm and pitch locks) add 2 bytes."""
    z = np.asarray(z, dtype=np.float16).ravel()
    name = clean_title(title).encode()
    line = clean_title(chords, MAX_CHORD_BYTES).encode()
    values = b"" if sliders is None else np.asarray(sliders, "<f4").ravel()[:MAX_SLIDERS].tobytes()
    m = Meter.parse(meter)
    num, den = (0, 0) if (m.num, m.den) == (4, 4) else (m.num, m.den)
    units, size, extra = 0, 0, b""
    if detail is not None and np.any(detail):
        codes, scales = quantise_detail(detail)
        units, size = codes.shape
        extra = scales.astype("<f2").tobytes() + codes.tobytes()
    mask = 0
    for b in locked_bars:
        if not 0 <= int(b) < MAX_LOCKED_BARS:
            raise ValueError(f"bar {int(b) + 1} cannot be locked in a share code (bars 1 to {MAX_LOCKED_BARS})")
        mask |= 1 << int(b)
    flags = ((LOOP if loop else 0) | (COUNT_IN if count_in else 0) | (RHYTHM_LOCK if rhythm_lock else 0)
             | (PITCH_LOCK if pitch_lock else 0))
    head = struct.pack(HEAD_V5, VERSION, len(z), float(temperature), int(seed) & 0xFFFFFFFF, float(tempo),
                       int(program) & 0x7F, BACKINGS.index(backing) if backing in BACKINGS else 0,
                       KEY_CODES.index(key) if key in KEY_CODES else 0,
                       SCALE_CODES.index(scale) if scale in SCALE_CODES else 0, len(name), units, size,
                       flags, num, den, len(values) // 4, len(line), mask)
    return base64.urlsafe_b64encode(head + name + line + z.tobytes() + values + extra).decode().rstrip("=")


def decode_z(code: str) -> dict:
    """Inverse of encode_z: {'z': float32 [Z], 'temperature', 'seed', 'tempo', 'program', 'backing', 'key',
    'scale', 'title', 'detail': float32 [U, C] or None, 'meter', 'sliders': float32 [K] or None, 'chords', 'loop',
    'count_in', 'locked_bars': 0-based bars (tuple), 'rhythm_lock', 'pitch_lock'} (a code of versions 1-3: 4/4, no
    sliders, no chords, no loop, no count-in; of versions 1-4: no locks);
    UserError with a sentence if the code is damaged or any field is out of range."""
    if not isinstance(code, str) or len(code) > MAX_CODE_CHARS:
        raise UserError(f"this link does not hold a melody (a code is at most {MAX_CODE_CHARS} characters)")
    backing, key, scale, name, units, width = 0, 0, 0, b"", 0, 0
    flags, num, den, k, line, mask = 0, 0, 0, 0, b"", 0
    try:
        raw = base64.urlsafe_b64decode(code.strip() + "=" * (-len(code.strip()) % 4))
        version = raw[0]
        if version == 1:
            size = struct.calcsize(HEAD_V1)
            _, n, temperature, seed, tempo, program = struct.unpack(HEAD_V1, raw[:size])
        else:
            head = {2: HEAD_V2, 3: HEAD_V3, 4: HEAD_V4}.get(version, HEAD_V5)
            size = struct.calcsize(head)
            _, n, temperature, seed, tempo, program, backing, key, scale, title_len, *more = struct.unpack(
                head, raw[:size])
            units, width, flags, num, den, k, chord_len, mask = (*more, 0, 0, 0, 0, 0, 0, 0, 0)[:8]
            name, size = raw[size:size + title_len], size + title_len
            line, size = raw[size:size + chord_len], size + chord_len
    except (ValueError, struct.error, IndexError) as exc:
        raise UserError("this link does not hold a melody (the code is damaged)") from exc
    detail_bytes = 2 * units + units * width
    if (version not in (1, 2, 3, 4, VERSION) or len(raw) != size + 2 * n + 4 * k + detail_bytes
            or units * width > MAX_DETAIL_VALUES or k > MAX_SLIDERS):
        raise UserError("this link does not hold a melody (wrong version or length)")
    z = np.frombuffer(raw[size:size + 2 * n], dtype=np.float16).astype(np.float32)
    at = size + 2 * n
    sliders = np.frombuffer(raw[at:at + 4 * k], dtype="<f4").astype(np.float32) if k else None
    detail = None
    if units:
        at += 4 * k
        scales = np.frombuffer(raw[at:at + 2 * units], dtype="<f2")
        codes = np.frombuffer(raw[at + 2 * units:], dtype=np.int8).reshape(units, width)
        if not np.isfinite(scales).all() or (np.abs(scales) > MAX_ABS_Z).any():
            raise UserError("this link does not hold a melody (invalid numbers)")
        detail = dequantise_detail(codes, scales)
    for values in (z, sliders):
        if values is not None and (not np.isfinite(values).all() or (np.abs(values) > MAX_ABS_Z).any()):
            raise UserError("this link does not hold a melody (invalid numbers)")
    for field, value, menu in (("backing", backing, BACKINGS), ("key", key, KEY_CODES), ("scale", scale, SCALE_CODES)):
        if value >= len(menu):
            raise UserError(f"this link does not hold a playable melody: {field} must be 0-{len(menu) - 1}.")
    meter = "4/4" if num == 0 else f"{num}/{den}"
    if str(Meter.parse(meter)) != meter:
        raise UserError(f"this link does not hold a playable melody: {meter} is not a meter it can play.")
    if flags > (LOOP | COUNT_IN if version < 5 else LOOP | COUNT_IN | RHYTHM_LOCK | PITCH_LOCK):
        raise UserError("this link does not hold a playable melody: its playback settings are damaged.")
    try:
        title, chords = clean_title(name.decode("utf-8")), clean_title(line.decode("utf-8"), MAX_CHORD_BYTES)
    except UnicodeDecodeError:
        raise UserError("this link does not hold a melody (its title or chords are damaged)") from None
    if chords:
        try:
            parse_progression(chords)
        except ChordError as exc:
            raise UserError(f"this link does not hold a playable melody: its chords are damaged ({exc})") from None
    out = {"z": z, "backing": BACKINGS[backing], "key": KEY_CODES[key], "scale": SCALE_CODES[scale], "title": title,
           "detail": detail, "meter": meter, "sliders": sliders, "chords": chords, "loop": bool(flags & LOOP),
           "count_in": bool(flags & COUNT_IN), "locked_bars": tuple(b for b in range(MAX_LOCKED_BARS) if mask >> b & 1),
           "rhythm_lock": bool(flags & RHYTHM_LOCK), "pitch_lock": bool(flags & PITCH_LOCK)}
    for field, value, integer in (("temperature", temperature, False), ("seed", seed, True), ("tempo", tempo, False),
                                  ("program", program, True)):
        try:
            out[field] = number(field, value, integer)
        except UserError as exc:
            raise UserError(f"this link does not hold a playable melody: {exc}") from None
    if 0 < out["temperature"] < MIN_TEMPERATURE:  # a denormal like 1e-45 would divide the logits by ~0
        raise UserError(f"this link does not hold a playable melody: temperature must be 0 or at least {MIN_TEMPERATURE}.")
    # float32 in the code: shown as typed (0.6, not 0.6000000238418579)
    out["temperature"], out["tempo"] = round(out["temperature"], 4), round(out["tempo"], 3)
    return out
