"""Musical attributes of token windows [N, T], vectorised in numpy: density, pitch, rhythm, motion, mode."""

from __future__ import annotations

import numpy as np

from vae.constants import FIRST_NOTE_ON, HOLD, MIN_PITCH, STEPS_PER_BAR, STEPS_PER_QUARTER
from vae.music import estimate_keys

# name -> what a musician reads on a slider or axis (unit in brackets)
ATTRIBUTES: dict[str, str] = {
    "note_density": "note density (notes per bar)",
    "mean_pitch": "mean pitch (MIDI)",
    "pitch_range": "pitch range (semitones)",
    "rhythmic_complexity": "rhythmic complexity (variety of note-to-note lengths, bits)",
    "syncopation": "syncopation (notes held over the beat)",
    "stepwise": "stepwise motion (share of steps <= 2 semitones)",
    "rest_share": "rests (share of silent steps)",
    "contour": "contour (semitones per bar, rising > 0)",
    "minorness": "minor mode (key-finding score)",
}

def _as_tokens(tokens: np.ndarray) -> np.ndarray:
    t = np.asarray(tokens)
    if t.ndim == 1:
        t = t[None]
    if t.ndim != 2:
        raise ValueError(f"expected token windows [N, T], got shape {t.shape}")
    return t.astype(np.int16)


def sounding_pitch(tokens: np.ndarray) -> np.ndarray:
    """Tokens [N, T] -> MIDI pitch sounding at each step [N, T] int16, -1 where silent."""
    t = _as_tokens(tokens)
    steps = np.arange(t.shape[1], dtype=np.int32)
    last_event = np.maximum.accumulate(np.where(t != HOLD, steps, -1), axis=1)
    last_tok = np.take_along_axis(t, np.maximum(last_event, 0), axis=1)
    sounding = (last_event >= 0) & (last_tok >= FIRST_NOTE_ON)
    return np.where(sounding, last_tok - FIRST_NOTE_ON + MIN_PITCH, -1).astype(np.int16)


def pitch_class_histogram(tokens: np.ndarray) -> np.ndarray:
    """Duration-weighted pitch-class histogram [N, 12] float32: sixteenth steps sounding per pitch class."""
    pitch = sounding_pitch(tokens)
    n = pitch.shape[0]
    rows = np.broadcast_to(np.arange(n)[:, None], pitch.shape)
    on = pitch >= 0
    flat = rows[on] * 12 + pitch[on] % 12
    return np.bincount(flat, minlength=n * 12).reshape(n, 12).astype(np.float32)


def tune_keys(tokens: np.ndarray, tune: np.ndarray, num_tunes: int) -> dict[str, np.ndarray]:
    """Key of each whole tune from the summed histograms of its windows: same fields as estimate_keys, [num_tunes].

    Windows overlap (hop of one bar), so inner bars count up to four times; key finding only needs
    the histogram's shape, which that barely changes.
    """
    hist = pitch_class_histogram(tokens)
    total = np.zeros((num_tunes, 12), np.float64)
    np.add.at(total, np.asarray(tune), hist)
    return estimate_keys(total)


def compute_attributes(tokens: np.ndarray) -> dict[str, np.ndarray]:
    """Every attribute in ATTRIBUTES for windows [N, T] (or one window [T]) -> name -> float32 [N].

    NaN marks an attribute a window cannot have (mean pitch of a silent window, intervals of a one-note
    window); the statistics built on top are NaN-aware.
    """
    t = _as_tokens(tokens)
    n, steps = t.shape
    onset = t >= FIRST_NOTE_ON
    count = onset.sum(axis=1)
    pitch = (t - FIRST_NOTE_ON + MIN_PITCH).astype(np.float32)
    pos = np.arange(steps, dtype=np.float32)
    out: dict[str, np.ndarray] = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        out["note_density"] = count / (steps / STEPS_PER_BAR)
        mean_p = np.where(onset, pitch, 0).sum(axis=1) / count
        out["mean_pitch"] = mean_p
        hi = np.where(onset, pitch, -np.inf).max(axis=1)
        lo = np.where(onset, pitch, np.inf).min(axis=1)
        out["pitch_range"] = np.where(count > 0, hi - lo, np.nan)

        # Syncopation: an off-beat onset whose note is still sounding (no new event) on the next beat.
        stepi = np.arange(steps)
        next_event = np.minimum.accumulate(np.where(t != HOLD, stepi, steps)[:, ::-1], axis=1)[:, ::-1]
        after = np.concatenate([next_event[:, 1:], np.full((n, 1), steps)], axis=1)  # next event after step s
        next_beat = (stepi // STEPS_PER_QUARTER + 1) * STEPS_PER_QUARTER
        synco = onset & (stepi % STEPS_PER_QUARTER != 0) & (next_beat < steps) & (after > next_beat)
        out["syncopation"] = synco.sum(axis=1) / count

        # Intervals between consecutive onsets: the previous onset of each onset by a running max.
        last_on = np.maximum.accumulate(np.where(onset, stepi, -1), axis=1)
        prev_on = np.concatenate([np.full((n, 1), -1), last_on[:, :-1]], axis=1)
        has_prev = onset & (prev_on >= 0)
        interval = pitch - np.take_along_axis(pitch, np.maximum(prev_on, 0), axis=1)
        n_int = has_prev.sum(axis=1)
        out["stepwise"] = (has_prev & (np.abs(interval) <= 2)).sum(axis=1) / n_int

        # Rhythmic complexity: Shannon entropy (bits) of the inter-onset intervals. Straight quarters or
        # straight sixteenths score 0 whatever their density; a dotted or mixed rhythm scores high. (An
        # off-beat-onset share, the first definition, rose with density: busy was read as complex.)
        ioi = np.where(has_prev, stepi - prev_on, 0)
        rows = np.broadcast_to(np.arange(n)[:, None], ioi.shape)
        hist = np.bincount((rows * steps + ioi)[has_prev], minlength=n * steps).reshape(n, steps).astype(np.float64)
        prob = hist / np.maximum(hist.sum(axis=1, keepdims=True), 1)
        ent = -(np.where(prob > 0, prob * np.log2(np.where(prob > 0, prob, 1)), 0)).sum(axis=1)
        out["rhythmic_complexity"] = np.where(n_int > 0, ent, np.nan)

        out["rest_share"] = (sounding_pitch(t) < 0).mean(axis=1)

        # Contour: least-squares slope of onset pitch against onset time, in semitones per bar.
        tm = np.where(onset, pos, 0).sum(axis=1) / count
        dt = np.where(onset, pos - tm[:, None], 0)
        dp = np.where(onset, pitch - mean_p[:, None], 0)
        var_t = (dt * dt).sum(axis=1)
        slope = (dt * dp).sum(axis=1) / var_t * STEPS_PER_BAR
        out["contour"] = np.where(count >= 2, np.where(var_t > 0, slope, 0.0), np.nan)

    out["minorness"] = estimate_keys(pitch_class_histogram(t))["minorness"]
    return {k: np.asarray(v, dtype=np.float32) for k, v in out.items()}


ATTRIBUTES_FILE = "attributes-v2.npz"  # rename when a definition above changes, to rebuild the caches


def corpus_attributes(corpus) -> dict[str, np.ndarray]:
    """Every attribute of every window of a built corpus (name -> [N] float32), cached beside its windows."""
    path = corpus.path / ATTRIBUTES_FILE
    if path.exists():
        with np.load(path, allow_pickle=False) as z:
            if all(k in z for k in ATTRIBUTES) and len(z[next(iter(ATTRIBUTES))]) == len(corpus.tokens):
                return {k: z[k] for k in ATTRIBUTES}
    attrs = compute_attributes(corpus.tokens)
    try:
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, **attrs)
        tmp.replace(path)
    except OSError:  # a read-only corpus folder: compute each time (about 2 s for 90k windows)
        pass
    return attrs


def attribute_matrix(attrs: dict[str, np.ndarray]) -> tuple[list[str], np.ndarray]:
    """Dict of attribute arrays -> (names, [N, A] float32) in ATTRIBUTES order."""
    names = [k for k in ATTRIBUTES if k in attrs]
    return names, np.stack([attrs[k] for k in names], axis=1).astype(np.float32)


def nan_pearson(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson correlation of every column of x [N, K] with every column of y [N, A] -> [K, A].

    Rows where a y column is NaN are left out of that column's correlations (x has no NaN).
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    out = np.full((x.shape[1], y.shape[1]), np.nan)
    finite = np.isfinite(y)
    whole = finite.all(axis=0)
    xc = x - x.mean(axis=0)
    xn = np.linalg.norm(xc, axis=0)

    def corr(xa, xan, ya):
        ya = ya - ya.mean(axis=0)
        den = xan[:, None] * np.linalg.norm(ya, axis=0)[None, :]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(den > 0, (xa.T @ ya) / den, np.nan)

    if whole.any() and len(x) >= 3:  # the common case in one product
        out[:, whole] = corr(xc, xn, y[:, whole])
    for a in np.nonzero(~whole)[0]:
        ok = finite[:, a]
        if ok.sum() >= 3:
            xa = x[ok] - x[ok].mean(axis=0)
            out[:, a] = corr(xa, np.linalg.norm(xa, axis=0), y[ok, a][:, None])[:, 0]
    return out
