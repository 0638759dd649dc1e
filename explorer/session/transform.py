"""The Transform screen: attribute pushes, style moves, fitting the melody to your chords, drawing in a style."""

from __future__ import annotations

import numpy as np

from explorer.errors import UserError
from explorer.media import figures
from explorer.media.files import Playback
from explorer.session.melody import MelodyActions, Rendered
from explorer.session.slider_move import quantise
from explorer.session.state import Session
from vae.attributes import compute_attributes
from vae.chords import parse_progression
from vae.controls import WORDS, corpus_std
from vae.corpus import COLLECTION_LABELS
from vae.harmony import melody_fit
from vae.scales import apply_key
from vae.voice import VoiceLimits, range_and_leap, within

FIT_DRIFT_WEIGHT = 0.05  # melody_fit given up per SD the attributes drift on average: the chords lead, the sliders hold


class TransformActions(MelodyActions):
    """Moves of the whole melody along attribute and style directions."""

    @staticmethod
    def _known(name: str, names: list[str], what: str) -> None:
        if name not in names:
            raise UserError(f"There is no {what} called {str(name)[:40]!r}; choose from {', '.join(names)}.")

    def _transform(self, state: Session, key: str, move, play: Playback,
                   words: str = "") -> tuple[Session, Rendered, np.ndarray]:
        """Apply move(base_z) -> z. Moves stack: a new move (another attribute or style: `key`) starts from the
        current melody, so it keeps what earlier moves did; changing the amount of the same move again starts
        from where that move began, so its amounts don't accumulate. Reset still returns to the origin."""
        same = state.transform_base is not None and state.transform_key == key
        base = state.transform_base if same else state.z
        state = state.but(transform_base=base, transform_key=key, z=quantise(move(base, state.detail)), sliders=None,
                          move=key, made_by=words, move_from=None)
        return state, self.render(state, play), base

    def push(self, state: Session, attribute: str, amount: float, play: Playback,
             limits: VoiceLimits | None = None) -> tuple[Session, Rendered, dict]:
        """Move the melody along an attribute vector from where the transform started, within a voice's limits
        when given (vae.voice); report the change and whether the result is singable."""
        self._known(attribute, self.s.attribute_names, "attribute")
        name = WORDS[attribute][0] if attribute in WORDS else attribute
        state, r, base = self._transform(state, f"attribute:{attribute}",
                                         lambda z, d: self.s.push_attribute(z, attribute, float(amount), d, limits),
                                         play, f"{name} {float(amount):+.1f} (push)")
        before = self.s.attributes_of(self.s.decode(base, play.temperature, play.seed, state.detail))
        after = self.s.attributes_of(r.tokens)
        span, leap = range_and_leap(r.tokens)
        return state, r, {"attribute": attribute, "before": before.get(attribute), "after": after.get(attribute),
                          "range": int(span[0]), "leap": int(leap[0]),
                          "singable": None if limits is None else bool(within(r.tokens, limits)[0])}

    def move_style(self, state: Session, to_style: str, amount: float, play: Playback) -> tuple[Session, Rendered, dict]:
        """Move the melody from its nearest style toward `to_style` by `amount` in [0, 1]; report probabilities."""
        self._known(to_style, self.s.style_names, "style")
        state, r, base = self._transform(state, f"style:{to_style}",
                                         lambda z, d: self.s.move_to_style(z, to_style, float(amount), d), play,
                                         f"Toward {COLLECTION_LABELS.get(to_style, to_style)}"
                                         + ("" if float(amount) >= 1 else f" ({float(amount):.0%})"))
        return state, r, {"before": self.s.style_of(base), "after": self.s.style_of(state.z)}

    def fit_to_chords(self, state: Session, play: Playback, candidates: int = 24,
                      seed: int = 0) -> tuple[Session, Rendered, dict]:
        """Steer the melody over the composer's chords (play.progression): candidates near z (variations at a few
        similarities, decoded as played) are scored by the share of strong-beat melody on chord tones
        (vae.harmony.melody_fit) minus how far their attributes move from the melody's (in corpus SDs, so the
        sliders' settings hold); the best is kept when it fits better than the melody already does."""
        if not play.progression.strip():
            raise UserError("Type your chords first (e.g. 'Am F C G'), then fit the melody to them.")
        if state.z is None:
            raise UserError("Load or create a melody first.")
        parse_progression(play.progression)  # a sentence for a bad line before any work
        per = max(candidates // 3, 1)
        zs = [state.z[None]] + [self.s.similar(state.z, per, sim, 0.0, seed + i)[0]
                                for i, sim in enumerate((0.95, 0.85, 0.7))]
        z = np.concatenate(zs).astype(np.float32)
        heard = self.s.decode(state.z, 0.0, None, state.detail)  # the melody as heard now: row 0
        tokens = np.concatenate([np.atleast_2d(heard), np.atleast_2d(self.s.decode(z[1:], 0.0, None))])
        std = self.s.sliders.attr_std or corpus_std(self.s.attrs)
        attrs = compute_attributes(tokens)
        names = [a for a in std if a in attrs]
        drift = np.nansum([np.abs(attrs[a] - attrs[a][0]) / std[a] for a in names], axis=0) / max(len(names), 1)
        fits = np.array([melody_fit(n, self.files.chords(n, play, state.meter), state.meter) if n else 0.0
                         for n in (apply_key(self.s.notes(t), play.key, play.scale)[0] for t in tokens)])
        score = fits - FIT_DRIFT_WEIGHT * drift
        best = int(np.argmax(score))
        info = {"before": float(fits[0]), "after": float(fits[best]), "candidates": len(z), "changed": best != 0}
        if best == 0:
            return state, self.render(state, play), info
        state = self.set_z(state, z[best], state.title, as_origin=False)
        state = state.but(move="chords", made_by="Fit to your chords")
        return state, self.render(state, play), info

    def draw_in_style(self, state: Session, style: str, n: int, play: Playback, seed: int) -> dict:
        """n new melodies from one collection's distribution: z's, notes and a strip figure."""
        self._known(style, self.s.style_names, "style")
        z, tokens = self.s.sample_in_style(style, int(n), max(play.temperature, 0.0), seed)
        notes = [self.s.notes(t) for t in tokens]
        return {"z": z, "tokens": tokens, "notes": notes,
                "figure": figures.strip(notes, [f"{i + 1}" for i in range(len(notes))])}
