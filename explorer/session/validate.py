"""Ranges of every number a user or a script may send, and the check that names the range when it fails."""

from __future__ import annotations

import math

from explorer.errors import UserError

LIMITS = {"n": (1, 32), "steps": (2, 32), "k": (1, 100), "temperature": (0.0, 5.0), "tempo": (20.0, 400.0),
          "program": (0, 127), "seed": (0, 2**31 - 1), "similarity": (0.0, 1.0)}


def number(name: str, value, integer: bool = False) -> float | int:
    """value checked against LIMITS[name]: a finite number (a whole one when `integer`) inside the range."""
    lo, hi = LIMITS[name]
    try:
        v = float(value)
    except (TypeError, ValueError, OverflowError):
        raise UserError(f"{name} must be a number from {lo} to {hi}, not {str(value)[:40]!r}.") from None
    if not math.isfinite(v) or not lo <= v <= hi or (integer and v != int(v)):
        kind = "a whole number" if integer else "a number"
        raise UserError(f"{name} must be {kind} from {lo} to {hi}, not {str(value)[:40]}.")
    return int(v) if integer else v
