"""Plotly figures as plain JSON-ready dicts: piano roll, corpus map (WebGL), melody strips.

Building `plotly.graph_objects` figures validates every property and cost ~50 ms per piano roll, the
largest share of a slider move; plain dicts in Plotly's JSON schema cost well under a millisecond and
are what the browser receives anyway.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

import numpy as np

from vae.constants import STEPS_PER_BAR
from vae.corpus import COLLECTION_LABELS
from vae.format import DEFAULT_FORMAT
from vae.meter import Meter
from vae.music import pitch_name
from vae.tokenizer import Note

COLLECTION_COLORS = {"essen": "#1f77b4", "oneills": "#2ca02c", "ryans": "#ff7f0e", "airds": "#9467bd",
                     "bach": "#d62728", "midi": "#17becf"}
MELODY_COLOR = "#e4572e"
GHOST_COLOR = "rgba(120,120,120,0.35)"
CHORD_COLOR = "#29335c"
CHORD_BAND = 36  # px of top margin that holds the chord symbols
LOCK_SHADE = "rgba(41,51,92,0.10)"  # a locked bar's shading (CHORD_COLOR, faint)
LOCKED, UNLOCKED = "\U0001f512", "\U0001f513"  # the padlocks in the bar header: closed on a locked bar, open (faint) else
FOUR_FOUR = Meter()
STRIP_PALETTE = ["#e4572e", "#f3a712", "#29335c", "#669bbc", "#a8c686"]


def to_json(spec: dict) -> str:
    """The spec as Plotly JSON text (numpy arrays become lists)."""
    return json.dumps(spec, default=lambda o: o.tolist() if isinstance(o, np.ndarray) else o.item())


def _segments(notes: Sequence[Note], offset: int = 0, label: str = "", meter: Meter = FOUR_FOUR) -> tuple[list, list, list]:
    """Line segments drawing notes as bars: x in bars of the meter, y in MIDI pitch, None between notes."""
    xs: list = []
    ys: list = []
    text: list = []
    bar = meter.bar_steps
    for n in notes:
        start, end = n.start + offset, n.end + offset
        xs += [start / bar, (end - 0.15) / bar, None]
        ys += [n.pitch, n.pitch, None]
        where = f"bar {n.start // bar + 1} beat {(n.start % bar) / meter.beat_steps + 1:.3g}"
        t = f"{label + ' · ' if label else ''}{pitch_name(n.pitch)} · {where}"
        text += [t, t, None]
    return xs, ys, text


def _pitch_axis(pitches: list[int]) -> dict:
    lo, hi = (min(pitches) - 3, max(pitches) + 3) if pitches else (57, 79)
    ticks = [p for p in range(lo, hi + 1) if p % 12 in (0, 7)]
    return {"range": [lo, hi], "tickvals": ticks, "ticktext": [pitch_name(p) for p in ticks], "gridcolor": "#eee",
            "fixedrange": True}


def piano_roll(notes: Sequence[Note], total_steps: int = DEFAULT_FORMAT.window_steps, title: str = "",
               ghost: Sequence[Note] | None = None, height: int = 260, meter: Meter | str = "4/4",
               chords: Sequence[tuple[int, int, str]] | None = None, locked_bars: Sequence[int] | None = None,
               lock_steps: int = DEFAULT_FORMAT.steps_per_bar) -> dict:
    """Piano roll spec of a melody: one bar per note (x in bars of `meter`, y in MIDI pitch), bar lines,
    beat lines, note names on hover. A 6/8 window of 64 sixteenths shows 5 1/3 bars, numbered from 1.

    `ghost` draws another melody faintly behind (e.g. the original before the sliders moved). The
    melody is always the last trace, named "melody". `chords` (start step, end step, symbol) are written
    above the notes at each chord's start: layout annotations named "chord", no trace. `locked_bars` (0-based
    bars of `lock_steps` steps, the model's bars) adds the bar locks: see lock_layer; None draws none.
    """
    meter = meter if isinstance(meter, Meter) else Meter.parse(meter)
    data = []
    if ghost:
        gx, gy, _ = _segments(ghost, meter=meter)
        data.append({"type": "scatter", "x": gx, "y": gy, "mode": "lines", "name": "original", "hoverinfo": "skip",
                     "line": {"width": 9, "color": GHOST_COLOR}})
    xs, ys, text = _segments(notes, meter=meter)
    data.append({"type": "scatter", "x": xs, "y": ys, "mode": "lines", "name": "melody", "text": text,
                 "hovertemplate": "%{text}<extra></extra>", "line": {"width": 9, "color": MELODY_COLOR}})
    bars = total_steps / meter.bar_steps
    beats = [s / meter.bar_steps for s in range(0, total_steps + 1, meter.beat_steps) if s % meter.bar_steps]
    shapes = [{"type": "line", "xref": "x", "yref": "paper", "x0": b, "x1": b, "y0": 0, "y1": 1,
               "line": {"color": "rgba(0,0,0,0.25)", "width": 1}} for b in range(int(bars) + 1)]
    shapes += [{"type": "line", "xref": "x", "yref": "paper", "x0": b, "x1": b, "y0": 0, "y1": 1,
                "line": {"color": "rgba(0,0,0,0.07)", "width": 1}} for b in beats]
    ticks = list(range(int(bars) + 1))
    # Chord symbols stand in a band above the notes, below the corner the page's "Piano roll" label covers.
    top = (30 if title else 10) + (CHORD_BAND if chords else 0)
    layout = {"height": height, "margin": {"l": 50, "r": 10, "t": top, "b": 30}, "showlegend": False,
              "xaxis": {"range": [0, bars], "tickvals": [t + 0.5 for t in ticks if t + 0.5 < bars],
                        "ticktext": [f"{t + 1}" for t in ticks if t + 0.5 < bars], "showgrid": False, "fixedrange": True,
                        "title": {"text": f"bar ({meter})", "standoff": 2, "font": {"size": 11}}},
              "yaxis": _pitch_axis([n.pitch for n in notes] + [n.pitch for n in ghost or []]),
              "plot_bgcolor": "white", "shapes": shapes, "uirevision": "roll"}
    if title:
        layout["title"] = {"text": title, "x": 0.01, "font": {"size": 13}}
    if chords:
        # a click on a symbol edits it in the "Your chords" box (explorer.ui.chord_script): layout.meta says where each
        # symbol stands in the line a composer would type, and that line, to fill an empty box with
        places, line = chord_places(chords, meter)
        layout["annotations"] = [
            {"name": "chord", "x": s / meter.bar_steps, "y": 1, "xref": "x", "yref": "paper", "text": symbol,
             "showarrow": False, "xanchor": "left", "yanchor": "bottom", "xshift": 2, "captureevents": True,
             "font": {"size": 12, "color": CHORD_COLOR},
             "hovertext": f"{symbol} · {meter.span(s, e - s)} · click to change it"}
            for s, e, symbol in chords]
        layout["meta"] = {"chord_at": places, "chord_line": line}
    if locked_bars is not None:
        shades, padlocks, lock = lock_layer(locked_bars, total_steps // lock_steps, lock_steps / meter.bar_steps)
        layout["shapes"] += shades
        # after the chords: a chord's annotation index is its place in meta.chord_at (explorer.ui.chord_script)
        layout["annotations"] = layout.get("annotations", []) + padlocks
        layout["meta"] = {**layout.get("meta", {}), "lock": lock}
    return {"data": data, "layout": layout}


def lock_layer(locked_bars: Sequence[int], bars: int, width: float = 1.0) -> tuple[list[dict], list[dict], dict]:
    """The bar locks drawn on a piano roll whose x axis counts bars `width` lockable bars wide: a shaded rectangle
    over each locked bar (shapes named "locked bar") and one padlock per bar in the bar header, beside the bar
    number (annotations named "lock", in bar order: closed on a locked bar, open and faint on the others; a click
    on one toggles its bar's lock, explorer.ui.lock_script).

    Returns (shapes, annotations, meta): meta is the figure's layout.meta.lock, {"bars": the locked bars (0-based,
    sorted, those < bars), "width", "shade": a bar's rectangle from x 0, "on"/"off": a padlock's look, locked and
    not ('{bar}' in its hover stands for the bar's number)}, from which the page redraws the locks when a lock
    checkbox is ticked, without a round trip."""
    locked = sorted({int(b) for b in locked_bars if 0 <= int(b) < bars})
    shade = {"type": "rect", "name": "locked bar", "xref": "x", "yref": "paper", "x0": 0, "x1": width, "y0": 0,
             "y1": 1, "layer": "below", "fillcolor": LOCK_SHADE, "line": {"width": 0, "color": LOCK_SHADE}}
    look = {True: {"text": LOCKED, "opacity": 1,
                   "hovertext": "Bar {bar} is locked: Regenerate, the sliders and the pushes keep it · click to unlock"},
            False: {"text": UNLOCKED, "opacity": 0.35, "hovertext": "Click to lock bar {bar} (keep it as it is)"}}
    shapes = [{**shade, "x0": b * width, "x1": (b + 1) * width} for b in locked]
    padlocks = [{"name": "lock", "x": (b + 0.5) * width, "y": 0, "xref": "x", "yref": "paper", "showarrow": False,
                 "xanchor": "left", "yanchor": "top", "xshift": 6, "yshift": -1, "captureevents": True,
                 "font": {"size": 11, "color": CHORD_COLOR}, **look[b in locked],
                 "hovertext": look[b in locked]["hovertext"].format(bar=b + 1)} for b in range(bars)]
    return shapes, padlocks, {"bars": locked, "width": width, "shade": shade, "on": look[True], "off": look[False]}


def chord_places(chords: Sequence[tuple[int, int, str]], meter: Meter = FOUR_FOUR) -> tuple[list[list[int]], str]:
    """Where each chord span (start, end, symbol) stands in its chord line as a composer types it, bar by bar as
    vae.harmony.chord_bars reads spans (a chord held over a bar line is written again in the next bar; a bar without
    a chord is left out): ([[bar, position in the bar], ...] one per span, '| C | Am | F G | C |')."""
    total = max((e for _, e, _ in chords), default=0)
    bars: list[list[str]] = []
    places: dict[int, list[int]] = {}
    for b in range(0, total, meter.bar_steps):
        here: list[str] = []
        for i, (s, e, symbol) in enumerate(chords):
            if s < b + meter.bar_steps and e > b:
                if not here or here[-1] != symbol:
                    here.append(symbol)
                if s >= b:
                    places.setdefault(i, [len(bars), len(here) - 1])
        if here:
            bars.append(here)
    line = "| " + " | ".join(" ".join(bar) for bar in bars) + " |" if bars else ""
    return [places.get(i, [0, 0]) for i in range(len(chords))], line


MAP_POINTS_MAX = 20_000  # above this many tunes the map draws their density and a sample of them
DENSITY_BINS = 120  # cells per side of the density grid


def map_sample(n: int, k: int = MAP_POINTS_MAX) -> np.ndarray:
    """Indices of k of n points, the same every time (a fixed shuffle's first k, in order)."""
    return np.sort(np.random.default_rng(0).permutation(n)[:k]) if n > k else np.arange(n)


def map_density(x: np.ndarray, y: np.ndarray, ids: np.ndarray, hover: np.ndarray,
                color_values: np.ndarray | None = None, color_label: str = "", bins: int = DENSITY_BINS) -> dict:
    """A heatmap of where the points lie: each cell shows how many tunes it holds (log scale) or, with
    color_values, their mean; its customdata is the id of the tune nearest the cell's centre, so a click on
    a cell loads that tune (the hover names it)."""
    lo = np.array([x.min(), y.min()])
    span = np.maximum(np.array([x.max(), y.max()]) - lo, 1e-9) * (1 + 1e-6)
    cx = np.minimum(((x - lo[0]) / span[0] * bins).astype(np.int64), bins - 1)
    cy = np.minimum(((y - lo[1]) / span[1] * bins).astype(np.int64), bins - 1)
    cell = cy * bins + cx
    counts = np.bincount(cell, minlength=bins * bins)
    centre_x, centre_y = lo[0] + (cx + 0.5) * span[0] / bins, lo[1] + (cy + 0.5) * span[1] / bins
    order = np.lexsort(((x - centre_x) ** 2 + (y - centre_y) ** 2, cell))
    first = order[np.r_[True, cell[order][1:] != cell[order][:-1]]]  # per occupied cell, its nearest point
    rep = np.full(bins * bins, -1, np.int64)
    rep[cell[first]] = first
    full = counts > 0
    if color_values is None:
        z = np.where(full, np.log10(np.maximum(counts, 1)) + 0.3, np.nan)
        scale = {"colorscale": "Blues", "showscale": False}
    else:
        vals = np.asarray(color_values, dtype=float)
        ok = np.isfinite(vals)
        sums = np.bincount(cell[ok], weights=vals[ok], minlength=bins * bins)
        n_ok = np.bincount(cell[ok], minlength=bins * bins)
        z = np.where(n_ok > 0, sums / np.maximum(n_ok, 1), np.nan)
        scale = {"colorscale": "Viridis", "showscale": True,
                 "colorbar": {"title": {"text": color_label}, "thickness": 12}}
    text = np.where(full, np.char.add(np.char.add(counts.astype(str), " tunes here · nearest the centre: "),
                                      hover[np.maximum(rep, 0)]), "")
    cx_mid, cy_mid = ((lo[k] + (np.arange(bins) + 0.5) * span[k] / bins).round(4) for k in (0, 1))
    z, rep, text = z.reshape(bins, bins), rep.reshape(bins, bins), text.reshape(bins, bins)  # rows are y
    return {"type": "heatmap", "x": cx_mid, "y": cy_mid, "name": "density",
            "z": [[None if not np.isfinite(v) else round(float(v), 3) for v in row] for row in z],
            "customdata": [[int(ids[r]) if r >= 0 else None for r in row] for row in rep],
            "text": text, "hovertemplate": "%{text}<extra></extra>", "hoverongaps": False,
            "zsmooth": False, "opacity": 0.85, **scale}


def corpus_map(x: np.ndarray, y: np.ndarray, collection: Sequence[str], hover: Sequence[str], ids: np.ndarray,
               color_values: np.ndarray | None = None, color_label: str = "", current: tuple[float, float] | None = None,
               extra: dict[str, tuple[float, float]] | None = None, height: int = 520,
               max_points: int = MAP_POINTS_MAX, color_of: Callable[[str], str] | None = None) -> dict:
    """Corpus map spec: WebGL scatter, one trace per collection (or one trace coloured by an attribute); `color_of`
    names a collection's colour (default COLLECTION_COLORS, grey for others).

    `customdata` of every point is its id (a tune index) so a click can load it; `current` adds the
    star trace named "current melody" (moved in the browser as the sliders move); `extra` adds labelled
    markers (an upload, for example). Above `max_points` tunes the map draws their density (map_density:
    a click on a cell loads the tune nearest its centre) under a fixed sample of max_points of them, so a
    million-tune collection costs the browser what 20,000 do.
    """
    data = []
    collection = np.asarray(collection)
    hover = np.asarray(hover)
    x, y, ids = np.asarray(x, dtype=float).round(4), np.asarray(y, dtype=float).round(4), np.asarray(ids)
    if len(x) > max_points:
        data.append(map_density(x, y, ids, hover, color_values, color_label))
        keep = map_sample(len(x), max_points)
        x, y, ids, collection, hover = x[keep], y[keep], ids[keep], collection[keep], hover[keep]
        color_values = None if color_values is None else np.asarray(color_values)[keep]
    if color_values is None:
        for name in dict.fromkeys(collection.tolist()):
            m = collection == name
            data.append({"type": "scattergl", "x": x[m], "y": y[m], "mode": "markers", "name": COLLECTION_LABELS.get(name, name),
                         "customdata": ids[m],
                         "text": hover[m], "hovertemplate": "%{text}<extra></extra>",
                         "marker": {"size": 4, "opacity": 0.6, "color": color_of(name) if color_of else COLLECTION_COLORS.get(name, "#777")}})
    else:
        vals = np.asarray(color_values, dtype=float)
        dense = bool(data)  # the density's colour bar already explains the colours
        data.append({"type": "scattergl", "x": x, "y": y, "mode": "markers", "name": color_label, "customdata": ids,
                     "text": hover, "hovertemplate": "%{text}<extra></extra>",
                     "marker": {"size": 4, "opacity": 0.7, "color": np.where(np.isfinite(vals), vals, None).tolist(),
                                "colorscale": "Viridis", "showscale": not dense,
                                **({} if dense else {"colorbar": {"title": {"text": color_label}, "thickness": 12}})}})
    layout = {"height": height, "margin": {"l": 10, "r": 10, "t": 10, "b": 10}, "plot_bgcolor": "white",
              "legend": {"orientation": "h", "y": -0.02}, "xaxis": {"visible": False}, "yaxis": {"visible": False},
              "uirevision": "map", "clickmode": "event", "dragmode": "pan", "hovermode": "closest"}
    return {"data": data + map_markers(current, extra), "layout": layout}


def map_markers(current: tuple[float, float] | None = None,
                extra: dict[str, tuple[float, float]] | None = None) -> list[dict]:
    """The map's marker traces: labelled diamonds for `extra` (an upload, for example) and the star named
    "current melody" at `current`."""
    data = []
    for label, (px, py) in (extra or {}).items():
        data.append({"type": "scatter", "x": [px], "y": [py], "mode": "markers+text", "text": [label],
                     "textposition": "top center", "name": label, "hoverinfo": "name",
                     "marker": {"size": 11, "symbol": "diamond", "color": "#111", "line": {"width": 1, "color": "white"}}})
    if current is not None:
        data.append({"type": "scatter", "x": [current[0]], "y": [current[1]], "mode": "markers", "name": "current melody",
                     "hoverinfo": "name", "marker": {"size": 18, "symbol": "star", "color": "#ffd60a",
                                                     "line": {"width": 2, "color": "#111"}}})
    return data


def strip(melodies: Sequence[Sequence[Note]], labels: Sequence[str], total_steps: int = DEFAULT_FORMAT.window_steps,
          height: int = 300) -> dict:
    """Several melodies one after another on one time axis (an interpolation strip or a composed piece)."""
    data, shapes, notes_all = [], [], []
    for i, ns in enumerate(melodies):
        off = i * total_steps
        xs, ys, text = _segments(ns, off, labels[i])
        notes_all += [n.pitch for n in ns]
        data.append({"type": "scatter", "x": xs, "y": ys, "mode": "lines", "name": labels[i], "text": text,
                     "hovertemplate": "%{text}<extra></extra>",
                     "line": {"width": 7, "color": STRIP_PALETTE[i % len(STRIP_PALETTE)]}})
        shapes.append({"type": "rect", "xref": "x", "yref": "paper", "x0": off / STEPS_PER_BAR,
                       "x1": (off + total_steps) / STEPS_PER_BAR, "y0": 0, "y1": 1, "line": {"width": 0},
                       "fillcolor": "#f4f4f4" if i % 2 else "white", "layer": "below"})
    annotations = [{"x": i * total_steps / STEPS_PER_BAR, "y": 1, "xref": "x", "yref": "paper", "text": labels[i],
                    "showarrow": False, "xanchor": "left", "yanchor": "bottom", "font": {"size": 10}}
                   for i in range(len(melodies))]
    layout = {"height": height, "margin": {"l": 50, "r": 10, "t": 25, "b": 30}, "showlegend": False,
              "plot_bgcolor": "white", "xaxis": {"title": {"text": "bars"}}, "yaxis": _pitch_axis(notes_all),
              "shapes": shapes, "annotations": annotations}
    return {"data": data, "layout": layout}


def note_editor(notes: Sequence[Note], total_steps: int = DEFAULT_FORMAT.window_steps, low: int = 55,
                high: int = 84, meter: Meter | str = "4/4", height: int = 380) -> dict:
    """The note editor's grid: one clickable cell per (16th step, pitch) in low..high, the notes drawn over it.

    The cell trace (named "cells", customdata "step,pitch") is what clicks and drags hit: the notes are
    drawn without hover, so a click on a note reaches the cell under it (explorer.session.editor decides what a
    click means). Drag mode is box select: a drag along a row selects a run of cells.
    """
    meter = meter if isinstance(meter, Meter) else Meter.parse(meter)
    bar = meter.bar_steps
    steps = np.arange(total_steps)
    pitches = np.arange(low, high + 1)
    sx, py = np.meshgrid(steps, pitches)
    sx, py = sx.ravel(), py.ravel()
    onbeat = (sx % meter.beat_steps) == 0
    text = [f"{pitch_name(int(p))} · bar {s // bar + 1} beat {(s % bar) / meter.beat_steps + 1:.3g}" for s, p in zip(sx, py, strict=True)]
    cells = {"type": "scatter", "x": ((sx + 0.5) / bar).round(4), "y": py, "mode": "markers", "name": "cells",
             "customdata": [f"{s},{p}" for s, p in zip(sx, py, strict=True)], "text": text,
             "hovertemplate": "%{text}<extra></extra>",
             "marker": {"symbol": "square", "size": 9, "color": np.where(onbeat, "#d9d9d9", "#ececec").tolist(),
                        "line": {"width": 0}}, "selected": {"marker": {"color": "#f3a712"}},
             "unselected": {"marker": {"opacity": 1}}}
    xs, ys, _ = _segments(notes, meter=meter)
    melody = {"type": "scatter", "x": xs, "y": ys, "mode": "lines", "name": "notes", "hoverinfo": "skip",
              "line": {"width": 10, "color": MELODY_COLOR}}
    bars = total_steps / bar
    shapes = [{"type": "line", "xref": "x", "yref": "paper", "x0": b, "x1": b, "y0": 0, "y1": 1,
               "line": {"color": "rgba(0,0,0,0.35)", "width": 1}} for b in range(int(bars) + 1)]
    ticks = [p for p in range(low, high + 1) if p % 12 in (0, 4, 7)]
    layout = {"height": height, "margin": {"l": 50, "r": 10, "t": 10, "b": 30}, "showlegend": False,
              "plot_bgcolor": "white", "shapes": shapes, "clickmode": "event",
              "dragmode": "select", "hovermode": "closest",
              # no fixedrange: on a fixed axis Plotly's select box spans the whole axis (every row, not one)
              "xaxis": {"range": [0, bars], "showgrid": False,
                        "tickvals": [t + 0.5 for t in range(int(bars)) if t + 0.5 < bars],
                        "ticktext": [f"{t + 1}" for t in range(int(bars)) if t + 0.5 < bars],
                        "title": {"text": f"bar ({meter}) · click: add or remove a note · drag along a row: one note",
                                  "standoff": 2, "font": {"size": 11}}},
              "yaxis": {"range": [low - 0.5, high + 0.5], "tickvals": ticks, "ticktext": [pitch_name(p) for p in ticks],
                        "showgrid": False}}
    return {"data": [cells, melody], "layout": layout}
