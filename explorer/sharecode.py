"""Compact, URL-safe encoding of a latent vector (plus playback settings) for shareable links."""

from __future__ import annotations

import base64
import struct

import numpy as np

from explorer.errors import UserError
from explorer.validate import number

VERSION = 1
MAX_CODE_CHARS = 2048  # a 64-dim latent takes ~190; a longer code is refused before decoding
MAX_ABS_Z = 1e3  # a latent coordinate beyond this is no melody the model knows
MIN_TEMPERATURE = 1e-3


def encode_z(z: np.ndarray, temperature: float = 0.0, seed: int = 0, tempo: float = 120.0, program: int = 0) -> str:
    """z [Z] + settings -> URL-safe text. float16 keeps decoding identical for a melody (~2 chars per dim)."""
    z = np.asarray(z, dtype=np.float16).ravel()
    head = struct.pack("<BHfIfB", VERSION, len(z), float(temperature), int(seed) & 0xFFFFFFFF, float(tempo), int(program) & 0x7F)
    return base64.urlsafe_b64encode(head + z.tobytes()).decode().rstrip("=")


def decode_z(code: str) -> dict:
    """Inverse of encode_z: {'z': float32 [Z], 'temperature', 'seed', 'tempo', 'program'}; ValueError if malformed."""
    if not isinstance(code, str) or len(code) > MAX_CODE_CHARS:
        raise UserError(f"this link does not hold a melody (a code is at most {MAX_CODE_CHARS} characters)")
    try:
        raw = base64.urlsafe_b64decode(code.strip() + "=" * (-len(code.strip()) % 4))
        size = struct.calcsize("<BHfIfB")
        version, n, temperature, seed, tempo, program = struct.unpack("<BHfIfB", raw[:size])
    except (ValueError, struct.error) as exc:
        raise UserError("this link does not hold a melody (the code is damaged)") from exc
    if version != VERSION or len(raw) != size + 2 * n:
        raise UserError("this link does not hold a melody (wrong version or length)")
    z = np.frombuffer(raw[size:], dtype=np.float16).astype(np.float32)
    if not np.isfinite(z).all() or (np.abs(z) > MAX_ABS_Z).any():
        raise UserError("this link does not hold a melody (invalid numbers)")
    out = {"z": z}
    for name, value, integer in (("temperature", temperature, False), ("seed", seed, True), ("tempo", tempo, False),
                                 ("program", program, True)):
        try:
            out[name] = number(name, value, integer)
        except UserError as exc:
            raise UserError(f"this link does not hold a playable melody: {exc}") from None
    if 0 < out["temperature"] < MIN_TEMPERATURE:  # a denormal like 1e-45 would divide the logits by ~0
        raise UserError(f"this link does not hold a playable melody: temperature must be 0 or at least {MIN_TEMPERATURE}.")
    return out
