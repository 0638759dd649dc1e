"""Compact, URL-safe encoding of a latent vector (plus playback settings) for shareable links."""

from __future__ import annotations

import base64
import struct

import numpy as np

from explorer.errors import UserError

VERSION = 1


def encode_z(z: np.ndarray, temperature: float = 0.0, seed: int = 0, tempo: float = 120.0, program: int = 0) -> str:
    """z [Z] + settings -> URL-safe text. float16 keeps decoding identical for a melody (~2 chars per dim)."""
    z = np.asarray(z, dtype=np.float16).ravel()
    head = struct.pack("<BHfIfB", VERSION, len(z), float(temperature), int(seed) & 0xFFFFFFFF, float(tempo), int(program) & 0x7F)
    return base64.urlsafe_b64encode(head + z.tobytes()).decode().rstrip("=")


def decode_z(code: str) -> dict:
    """Inverse of encode_z: {'z': float32 [Z], 'temperature', 'seed', 'tempo', 'program'}; ValueError if malformed."""
    try:
        raw = base64.urlsafe_b64decode(code.strip() + "=" * (-len(code.strip()) % 4))
        size = struct.calcsize("<BHfIfB")
        version, n, temperature, seed, tempo, program = struct.unpack("<BHfIfB", raw[:size])
    except (ValueError, struct.error) as exc:
        raise UserError("this link does not hold a melody (the code is damaged)") from exc
    if version != VERSION or len(raw) != size + 2 * n:
        raise UserError("this link does not hold a melody (wrong version or length)")
    z = np.frombuffer(raw[size:], dtype=np.float16).astype(np.float32)
    if not np.isfinite(z).all():
        raise UserError("this link does not hold a melody (invalid numbers)")
    return {"z": z, "temperature": float(temperature), "seed": int(seed), "tempo": float(tempo), "program": int(program)}
