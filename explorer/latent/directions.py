"""The sliders (16 on the shipped model: MelodyActions.slider_count): the model's controls (vae.controls) with
labels a musician reads and the figures behind them.

A slider is named for a musical attribute only when sweeping it over -2..+2 on held-out melodies moved
that attribute monotonically and at least twice as far as any other (vae.sweep.NAME_RULE); the label
says what it does ("Mood: major ← → minor") and its info line gives the measured figures. The
controls and their sweep come with the checkpoint (controls.json, written by `python -m vae controls`)
or, for a checkpoint without one, are fitted and measured once and cached.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vae.attributes import ATTRIBUTES
from vae.controls import CONTROLS_FILE, WORDS, Controls, load_controls, save_controls, slider_words
from vae.sweep import NAME_RULE, measure_controls

NUM_DIRECTIONS = 16


def _what(attr: str) -> str:
    return ATTRIBUTES[attr].split(" (")[0]


@dataclass(frozen=True)
class Sliders:
    """The controls plus, per slider, its measured sweep (vae.sweep.sweep rows)."""

    controls: Controls
    sweep: list[dict]
    steered: bool = False  # moves go through vae.sweep.steer (as when the sweep was measured)
    attr_std: dict | None = None  # the attributes' corpus SDs the steering aims in

    @property
    def k(self) -> int:
        return self.controls.k

    def coords(self, z: np.ndarray) -> np.ndarray:
        return self.controls.coords(z)

    def with_coords(self, z: np.ndarray, values: np.ndarray) -> np.ndarray:
        return self.controls.with_coords(z, values)

    def labels(self) -> list[dict]:
        """Per slider: index, label, info (the measured figures in words), name (attribute earned or None),
        fitted (attribute it was fitted for or None), spearman, specificity, effect, variance_share."""
        out = []
        named: dict[str, int] = {}  # attribute -> the slider that carries its name (the first to earn it)
        for i, row in enumerate(self.sweep):
            name, fitted, target = row["name"], row["attribute"], row["target"]
            eff = row["effect"][target]
            if name and name in named:  # a second slider that earned the same name: no two labels alike
                label = f"Direction {i + 1} (also {slider_words(name).split(':')[0].lower()})"
                info = (f"Also moves {_what(name)} (-2 → +2: {eff:+.2f} SD, {row['specificity']:.1f}× any other "
                        f"attribute, Spearman {row['spearman']:.2f}), like slider {named[name] + 1}, "
                        f"along another direction of the latent space.")
            elif name:
                named[name] = i
                others = sorted(((abs(v), a) for a, v in row["effect"].items() if a != name), reverse=True)
                runner = f"; next most: {_what(others[0][1])} {others[0][0]:.2f} SD" if others else ""
                label = slider_words(name)
                each = row.get("specificity_per_melody")
                per = (f"; melody by melody {each['median']:.1f}× the largest side effect (median)" if each else "")
                info = (f"Measured on held-out melodies, -2 → +2 moves {_what(name)} by {eff:+.2f} SD, "
                        f"{row['specificity']:.1f}× any other attribute on average{per} "
                        f"(Spearman {row['spearman']:.2f}{runner}).")
            else:
                label = f"Direction {i + 1} (no single effect)"
                if fitted:
                    why = []
                    if row["spearman"] < NAME_RULE["spearman"]:
                        why.append(f"not steadily enough (Spearman {row['spearman']:.2f} < {NAME_RULE['spearman']})")
                    if row["specificity"] < NAME_RULE["specificity"]:
                        other = max((a for a in row["effect"] if a != fitted), key=lambda a: abs(row["effect"][a]))
                        why.append(f"not on its own ({_what(other)} moves {abs(row['effect'][other]):.2f} SD too: "
                                   f"{row['specificity']:.1f}×, where {NAME_RULE['specificity']:g}× is needed)")
                    info = (f"Fitted to {_what(fitted)}: its sweep moves it by {eff:+.2f} SD, but "
                            f"{' and '.join(why)}, so it is not named.")
                else:
                    info = (f"A free direction of the latent space; it changes {_what(target)} most "
                            f"({eff:+.2f} SD, Spearman {row['spearman']:.2f}), not specifically enough to be named.")
            out.append({"index": i, "label": label, "info": info, "name": name, "fitted": fitted,
                        "spearman": float(row["spearman"]), "specificity": float(row["specificity"]),
                        "effect": float(eff), "variance_share": float(self.controls.variance_share[i])})
        return out


def sliders_for(model, corpus, checkpoint: Path | str | None, cache_file: Path, names: tuple[str, ...],
                latent_dim: int, n: int = 60, pairs: int = 6000) -> Sliders:
    """The checkpoint's own controls.json when it fits this latent size, else the cached or newly measured ones
    (fitted from `pairs` decoded nudges and swept on n held-out melodies: a minute or two for the default
    model on 2 cores, once per checkpoint; `python -m vae controls` measures more for a shipped model)."""
    for candidate in ([Path(checkpoint) / CONTROLS_FILE] if checkpoint else []) + [cache_file]:
        got = load_controls(candidate)
        if got is not None and got[0].mean.shape == (latent_dim,):
            settings = got[2].get("settings", {})
            return Sliders(got[0], got[1], bool(settings.get("steered")), settings.get("attr_std"))
    m = measure_controls(model, corpus, names, n=n, pairs=pairs)
    save_controls(cache_file, m["controls"], m["sweep"], {"summary": m["summary"], "settings": m["settings"]})
    return Sliders(m["controls"], m["sweep"], m["settings"]["steered"], m["settings"]["attr_std"])


__all__ = ["NUM_DIRECTIONS", "Sliders", "sliders_for", "WORDS"]
