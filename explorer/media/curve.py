"""The learning curve of a fine-tune (Learn my style) as a Plotly JSON dict: accuracy against minutes trained."""

from __future__ import annotations

from collections.abc import Sequence

MINE_COLOR, FOLK_COLOR = "#e4572e", "#29335c"


def learning_curve(points: Sequence[dict], budget: float | None = None, held_out: bool = True,
                   height: int = 280) -> dict:
    """Held-out note-event accuracy of the collection and of the folk corpus against minutes trained.

    points: {"minutes", "collection", "base"} (accuracies in [0, 1], a missing one left out), the first usually
    the model before training (minute 0); budget: where the run ends (a dotted line), None for none;
    held_out: False when the collection was too small to hold songs out (the line then says "seen")."""
    mine = "your collection" + (" (held-out songs)" if held_out else " (songs it learns from)")
    data = []
    for key, name, color in (("collection", mine, MINE_COLOR), ("base", "folk corpus (what it knew)", FOLK_COLOR)):
        rows = [p for p in points if p.get(key) is not None]
        data.append({"type": "scatter", "mode": "lines+markers", "name": name,
                     "x": [round(float(p["minutes"]), 2) for p in rows], "y": [round(float(p[key]), 4) for p in rows],
                     "line": {"color": color, "width": 2}, "marker": {"size": 6},
                     "hovertemplate": "%{x:.1f} min: %{y:.3f}<extra>" + name + "</extra>"})
    shapes = [{"type": "line", "xref": "x", "yref": "paper", "x0": budget, "x1": budget, "y0": 0, "y1": 1,
               "line": {"dash": "dot", "color": "#999", "width": 1}}] if budget else []
    layout = {"height": height, "margin": {"l": 55, "r": 10, "t": 30, "b": 40}, "plot_bgcolor": "white",
              "title": {"text": "Note events decoded right from z alone", "font": {"size": 13}},
              "xaxis": {"title": {"text": "minutes trained"}, "rangemode": "tozero", "gridcolor": "#eee"},
              "yaxis": {"title": {"text": "accuracy"}, "range": [0, 1], "gridcolor": "#eee"},
              "legend": {"orientation": "h", "y": -0.25}, "shapes": shapes}
    return {"data": data, "layout": layout}


__all__ = ["learning_curve"]
