"""Plotly figures: piano roll, corpus map (WebGL), interpolation strip, learning curve-free helpers."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from vae.constants import STEPS_PER_BAR
from vae.tokenizer import Note

NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]
COLLECTION_COLORS = {"essen": "#1f77b4", "oneills": "#2ca02c", "ryans": "#ff7f0e", "airds": "#9467bd",
                     "bach": "#d62728", "midi": "#17becf"}
_DIM = "rgba(120,120,120,0.35)"


def note_name(pitch: int) -> str:
    return f"{NAMES[pitch % 12]}{pitch // 12 - 1}"


def piano_roll(notes: Sequence[Note], total_steps: int = 64, title: str = "", ghost: Sequence[Note] | None = None,
               height: int = 260) -> go.Figure:
    """Piano roll of a melody: one bar per note (x in bars, y in MIDI pitch), bar lines, note names on hover.

    `ghost` draws another melody faintly behind (e.g. the original before sliders moved).
    """
    fig = go.Figure()

    def segments(ns: Sequence[Note]):
        xs, ys, text = [], [], []
        for n in ns:
            xs += [n.start / STEPS_PER_BAR, (n.end - 0.15) / STEPS_PER_BAR, None]
            ys += [n.pitch, n.pitch, None]
            label = f"{note_name(n.pitch)} · bar {n.start // STEPS_PER_BAR + 1} beat {(n.start % STEPS_PER_BAR) / 4 + 1:g}"
            text += [label, label, None]
        return xs, ys, text

    if ghost:
        gx, gy, gt = segments(ghost)
        fig.add_trace(go.Scatter(x=gx, y=gy, mode="lines", line={"width": 9, "color": _DIM}, hoverinfo="skip",
                                 name="original"))
    xs, ys, text = segments(notes)
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line={"width": 9, "color": "#e4572e"}, text=text,
                             hovertemplate="%{text}<extra></extra>", name="melody"))
    pitches = [n.pitch for n in notes] + [n.pitch for n in ghost or []]
    lo, hi = (min(pitches) - 3, max(pitches) + 3) if pitches else (57, 79)
    bars = total_steps / STEPS_PER_BAR
    for b in range(int(bars) + 1):
        fig.add_vline(x=b, line={"color": "rgba(0,0,0,0.25)", "width": 1})
    ticks = [p for p in range(lo, hi + 1) if p % 12 in (0, 7)]
    fig.update_layout(
        height=height, margin={"l": 50, "r": 10, "t": 30 if title else 10, "b": 30}, showlegend=False,
        title={"text": title, "x": 0.01, "font": {"size": 13}} if title else None,
        xaxis={"range": [0, bars], "title": None, "dtick": 1, "tickformat": "d", "showgrid": False},
        yaxis={"range": [lo, hi], "tickvals": ticks, "ticktext": [note_name(p) for p in ticks], "gridcolor": "#eee"},
        plot_bgcolor="white", uirevision="roll",
    )
    return fig


def corpus_map(x: np.ndarray, y: np.ndarray, collection: Sequence[str], hover: Sequence[str], ids: np.ndarray,
               color_values: np.ndarray | None = None, color_label: str = "", current: tuple[float, float] | None = None,
               extra: dict[str, tuple[float, float]] | None = None, height: int = 520) -> go.Figure:
    """The corpus map: WebGL scatter, one trace per collection (or one trace coloured by an attribute).

    `customdata` of every point is its id (a tune index) so a click can load it; `current` marks the
    melody being explored and `extra` adds labelled markers (uploads, neighbours).
    """
    fig = go.Figure()
    collection = np.asarray(collection)
    hover = np.asarray(hover)
    if color_values is None:
        for name in dict.fromkeys(collection.tolist()):
            m = collection == name
            fig.add_trace(go.Scattergl(x=x[m], y=y[m], mode="markers", name=name, customdata=ids[m], text=hover[m],
                                       hovertemplate="%{text}<extra></extra>",
                                       marker={"size": 4, "opacity": 0.6, "color": COLLECTION_COLORS.get(name)}))
    else:
        fig.add_trace(go.Scattergl(x=x, y=y, mode="markers", name=color_label, customdata=ids, text=hover,
                                   hovertemplate="%{text}<extra></extra>",
                                   marker={"size": 4, "opacity": 0.7, "color": color_values, "colorscale": "Viridis",
                                           "showscale": True, "colorbar": {"title": color_label, "thickness": 12}}))
    for label, (px, py) in (extra or {}).items():
        fig.add_trace(go.Scatter(x=[px], y=[py], mode="markers+text", text=[label], textposition="top center",
                                 name=label, hoverinfo="name",
                                 marker={"size": 11, "symbol": "diamond", "color": "#111", "line": {"width": 1, "color": "white"}}))
    if current is not None:
        fig.add_trace(go.Scatter(x=[current[0]], y=[current[1]], mode="markers", name="current melody",
                                 hoverinfo="name", marker={"size": 18, "symbol": "star", "color": "#ffd60a",
                                                           "line": {"width": 2, "color": "#111"}}))
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 10, "b": 10}, plot_bgcolor="white",
                      legend={"orientation": "h", "y": -0.02}, xaxis={"visible": False}, yaxis={"visible": False},
                      uirevision="map", clickmode="event", dragmode="pan", hovermode="closest")
    return fig


def strip(melodies: Sequence[Sequence[Note]], labels: Sequence[str], total_steps: int = 64, height: int = 300) -> go.Figure:
    """Several melodies side by side on one time axis (an interpolation strip or a composed piece)."""
    fig = go.Figure()
    xs, ys, text = [], [], []
    palette = ["#e4572e", "#f3a712", "#29335c", "#669bbc", "#a8c686"]
    for i, ns in enumerate(melodies):
        off = i * total_steps
        xs, ys, text = [], [], []
        for n in ns:
            xs += [(off + n.start) / STEPS_PER_BAR, (off + n.end - 0.15) / STEPS_PER_BAR, None]
            ys += [n.pitch, n.pitch, None]
            text += [f"{labels[i]} · {note_name(n.pitch)}"] * 2 + [None]
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line={"width": 7, "color": palette[i % len(palette)]},
                                 text=text, hovertemplate="%{text}<extra></extra>", name=labels[i]))
        fig.add_vrect(x0=off / STEPS_PER_BAR, x1=(off + total_steps) / STEPS_PER_BAR,
                      fillcolor="#f4f4f4" if i % 2 else "white", line_width=0, layer="below",
                      annotation_text=labels[i], annotation_position="top left", annotation_font_size=10)
    fig.update_layout(height=height, margin={"l": 50, "r": 10, "t": 25, "b": 30}, showlegend=False,
                      plot_bgcolor="white", xaxis={"title": "bars"}, yaxis={"gridcolor": "#eee"})
    return fig
