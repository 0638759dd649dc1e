"""The Transform screen: attribute pushes, style moves, fitting the melody to your chords, drawing in a style."""

from __future__ import annotations

import math

import numpy as np

from explorer.errors import UserError
from explorer.media import figures
from explorer.media.files import Playback
from explorer.session.history import current
from explorer.session.melody import MelodyActions, Rendered
from explorer.session.slider_move import hold_locked, quantise
from explorer.session.state import Drawn, Session
from vae.attributes import compute_attributes
from vae.chord_fit import fit_as_played
from vae.chords import parse_progression
from vae.controls import WORDS, corpus_std
from vae.corpus import COLLECTION_LABELS
from vae.harmony import melody_fit
from vae.infill import LockError, bar_mask
from vae.meter import Meter
from vae.mode import mood, more_minor
from vae.music import estimate_key, key_name
from vae.scales import apply_key
from vae.voice import VoiceLimits, range_and_leap, within

FIT_DRIFT_WEIGHT = 0.05  # melody_fit given up per SD the attributes drift on average: the chords lead, the sliders hold

MOOD = "minorness"  # the Mood attribute: toward minor, a minor tune gets darker on its notes (vae.mode)


class TransformActions(MelodyActions):
    """Moves of the whole melody along attribute and style directions."""

    @staticmethod
    def _known(name: str, names: list[str], what: str) -> None:
        if name not in names:
            raise UserError(f"There is no {what} called {str(name)[:40]!r}; choose from {', '.join(names)}.")

    def _lock_mask(self, locked_bars) -> np.ndarray | None:
        """Locked bars (0-based indices or a bool mask) as a mask [bars]; None when none is locked. UserError with a
        sentence when every bar is locked or a lock names a bar the melody does not have."""
        if locked_bars is None or len(locked_bars) == 0:
            return None
        try:
            mask = bar_mask(locked_bars, self.s.format.bars)
        except LockError as e:
            raise UserError(str(e)) from None
        if mask.all():
            raise UserError("Every bar is locked: unlock a bar for the push to change it.")
        return mask if mask.any() else None

    def _transform(self, state: Session, key: str, move, play: Playback, words: str = "",
                   locked_bars=None) -> tuple[Session, Rendered, np.ndarray]:
        """Apply move(base_z, detail) -> z. Moves stack: a new move (another attribute or style: `key`) starts from
        the current melody, so it keeps what earlier moves did; changing the amount of the same move again starts
        from where that move began, so its amounts don't accumulate. Reset still returns to the origin.

        locked_bars (0-based indices or a bool mask [bars]; None or none: every bar moves): the move acts on the
        other bars only, the locked ones stay token for token as heard now, as a slider move with bars locked does
        (explorer.session.slider_move.hold_locked)."""
        mask = self._lock_mask(locked_bars)
        same = state.transform_base is not None and state.transform_key == key
        base = state.transform_base if same else state.z
        if mask is None:
            state = state.but(transform_base=base, transform_key=key, z=quantise(move(base, state.detail)),
                              sliders=None, move=key, made_by=words, move_from=None)
            return (*self.shown(state, play), base)
        # the same move again starts from where it began: with the detail that melody had (a locked move changes it)
        detail = start_detail(state) if same else state.detail
        heard = self.s.decode(state.z, play.temperature, play.seed, state.detail)
        z, detail, tokens = hold_locked(self.s, state.z, state.detail, quantise(move(base, detail)), detail, heard,
                                        mask, play.temperature, play.seed)
        state = state.but(transform_base=base, transform_key=key, z=z, detail=detail, sliders=None,
                          move=key, made_by=words, move_from=None)
        return (*self.shown(state, play, tokens=tokens), base)

    def push(self, state: Session, attribute: str, amount: float, play: Playback,
             limits: VoiceLimits | None = None, locked_bars=None) -> tuple[Session, Rendered, dict]:
        """Move the melody along an attribute vector from where the transform started, within a voice's limits
        when given (vae.voice), on the unlocked bars only when bars are locked (locked_bars: 0-based indices; they
        stay token for token); report the change and whether the result is singable."""
        self._known(attribute, self.s.attribute_names, "attribute")
        name = WORDS[attribute][0] if attribute in WORDS else attribute
        if attribute == MOOD and float(amount) > 0:
            return self._more_minor(state, float(amount), play, limits, f"{name} {float(amount):+.1f} (push)",
                                    locked_bars)
        state, r, base = self._transform(state, f"attribute:{attribute}",
                                         lambda z, d: self.s.push_attribute(z, attribute, float(amount), d, limits),
                                         play, f"{name} {float(amount):+.1f} (push)", locked_bars)
        before = self.s.attributes_of(self.s.decode(base, play.temperature, play.seed, state.detail))
        after = self.s.attributes_of(r.tokens)
        span, leap = range_and_leap(r.tokens)
        return state, r, {"attribute": attribute, "before": before.get(attribute), "after": after.get(attribute),
                          "range": int(span[0]), "leap": int(leap[0]),
                          "singable": None if limits is None else bool(within(r.tokens, limits)[0])}

    def _more_minor(self, state: Session, amount: float, play: Playback, limits: VoiceLimits | None,
                    words: str, locked_bars=None) -> tuple[Session, Rendered, dict]:
        """Mood toward minor by `amount`, as the Mood slider's post-step does it (mood_slider_step): the push along
        the Mood slider is kept where it makes the melody more minor (its Mood reading rises; a minor melody keeps
        its tonic and minor key); otherwise the melody gets ceil(amount) steps darker on its notes
        (vae.mode.more_minor: a minor one keeps its tonic and minor key, a major one takes its parallel minor),
        held by the model as an upload is (hold_notes); where neither is possible it stays as it is, never
        turned major. Re-doing the move starts again from where it began. With bars locked (locked_bars) those stay
        token for token as heard now, the others move (hold_locked)."""
        mask = self._lock_mask(locked_bars)
        key = f"attribute:{MOOD}"
        same = state.transform_base is not None and state.transform_key == key
        base = state.transform_base if same else state.z
        base_detail = start_detail(state) if same else state.detail
        heard = self.s.decode(base, play.temperature, play.seed, base_detail)
        notes = self.s.notes(heard)
        bar_steps = Meter.parse(state.meter).bar_steps
        before = self.s.attributes_of(heard).get(MOOD)
        z, detail = base, base_detail
        tonic, mode = estimate_key(notes, bar_steps) if notes else (0, "major")

        def latent_push() -> list[str]:
            """The push along the Mood slider, kept when Mood rises (and a minor melody keeps its key)."""
            nonlocal z
            pushed = quantise(self.s.push_attribute(base, MOOD, amount, base_detail, limits))
            tokens = self.s.decode(pushed, play.temperature, play.seed, base_detail)
            if not self.s.attributes_of(tokens).get(MOOD, -1) > before or (
                    mode == "minor" and estimate_key(self.s.notes(tokens), bar_steps) != (tonic, "minor")):
                return []
            z = pushed
            return ["the Mood slider's direction"]

        taken = latent_push() if notes else []
        if notes and not taken:
            dark, taken = more_minor(notes, math.ceil(amount), bar_steps)
            if taken:
                z, detail = self.hold_notes(self.s.model.tokenizer.encode(dark, len(heard)), base)
        z, held = quantise(z), None
        if mask is not None:
            now = self.s.decode(state.z, play.temperature, play.seed, state.detail)
            z, detail, held = hold_locked(self.s, state.z, state.detail, z, detail, now, mask, play.temperature,
                                          play.seed)
        state = state.but(transform_base=base, transform_key=key, z=z, detail=detail, sliders=None,
                          move=key, made_by=words, move_from=None)
        state, r = self.shown(state, play, tokens=held)
        span, leap = range_and_leap(r.tokens)
        return state, r, {"attribute": MOOD, "before": before, "after": self.s.attributes_of(r.tokens).get(MOOD),
                          "range": int(span[0]), "leap": int(leap[0]), "darker": taken,
                          "note": darker_words(taken, notes, bar_steps),
                          "singable": None if limits is None else bool(within(r.tokens, limits)[0])}

    def mood_slider_step(self, z: np.ndarray, detail: np.ndarray | None, current, values, moved: np.ndarray,
                         moved_detail: np.ndarray | None, meter: str = "4/4") -> tuple[np.ndarray, np.ndarray | None]:
        """After a slider move from `current` to `values` [K] took the melody (z [Z], detail) to (moved,
        moved_detail): where the Mood slider was raised on a minor melody and the moved melody is not more minor
        with its tonic and minor key kept, the melody as heard gets ceil(raise) steps darker on its notes instead
        (vae.mode.more_minor, held at `moved` by hold_notes); where nothing darker keeps its key, the melody stays
        as it was rather than turn major. Any other move comes back as it is. Returns (z, detail)."""
        k = next((i for i, lab in enumerate(self.labels) if lab.get("name") == MOOD), None)
        up = 0.0 if k is None else float(np.asarray(values)[k] - np.asarray(current)[k])
        if up <= 1e-6:
            return moved, moved_detail
        bar_steps = Meter.parse(meter).bar_steps
        heard = self.s.decode(z, 0.0, None, detail)
        notes = self.s.notes(heard)
        if not notes or estimate_key(notes, bar_steps)[1] != "minor":
            return moved, moved_detail
        tonic = estimate_key(notes, bar_steps)[0]
        after = self.s.notes(self.s.decode(moved, 0.0, None, moved_detail))
        if after and estimate_key(after, bar_steps) == (tonic, "minor") and mood(after) > mood(notes):
            return moved, moved_detail
        dark, taken = more_minor(notes, math.ceil(up), bar_steps)
        if not taken:
            return z, detail
        return self.hold_notes(self.s.model.tokenizer.encode(dark, len(heard)), moved)

    def move_style(self, state: Session, to_style: str, amount: float, play: Playback,
                   locked_bars=None) -> tuple[Session, Rendered, dict]:
        """Move the melody from its nearest style toward `to_style` by `amount` in [0, 1] (on the unlocked bars
        only when bars are locked: locked_bars, 0-based); report probabilities."""
        self._known(to_style, self.s.style_names, "style")
        state, r, base = self._transform(state, f"style:{to_style}",
                                         lambda z, d: self.s.move_to_style(z, to_style, float(amount), d), play,
                                         f"Toward {COLLECTION_LABELS.get(to_style, to_style)}"
                                         + ("" if float(amount) >= 1 else f" ({float(amount):.0%})"), locked_bars)
        return state, r, {"before": self.s.style_of(base), "after": self.s.style_of(state.z)}

    def fit_to_chords(self, state: Session, play: Playback, candidates: int = 24,
                      seed: int = 0) -> tuple[Session, Rendered, dict]:
        """Steer the melody over the composer's chords (play.progression): the melody as heard and candidates near
        z (variations at a few similarities) each get their beat notes moved onto the chords (vae.chord_fit, rhythm
        and contour kept), then are scored by the share of strong-beat melody on chord tones (vae.harmony.melody_fit)
        minus how far their attributes moved from the melody's (in corpus SDs, so the sliders' settings hold); the
        best is kept, held note for note by the model (hold_notes), when it fits better than the melody did."""
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
        def as_heard(t: np.ndarray) -> tuple[list, list, list]:
            """A melody's notes, the same through the key setting, and the chords under them."""
            notes = self.s.notes(t)
            played = apply_key(notes, play.key, play.scale)[0]
            return notes, played, self.files.chords(played, play, state.meter) if played else []

        fitted = []
        for t in tokens:  # every candidate's beat notes moved onto the chords (vae.chord_fit)
            notes, played, chords = as_heard(t)
            moved = fit_as_played(notes, played, chords, state.meter) if played else notes
            fitted.append(self.s.model.tokenizer.encode(moved, len(t)))
        fitted = np.stack(fitted)
        std = self.s.sliders.attr_std or corpus_std(self.s.attrs)
        attrs = compute_attributes(np.concatenate([tokens[:1], fitted]))  # row 0: the melody as heard, unfitted
        names = [a for a in std if a in attrs]
        drift = np.nansum([np.abs(attrs[a][1:] - attrs[a][0]) / std[a] for a in names], axis=0) / max(len(names), 1)
        fits = np.array([melody_fit(p, c, state.meter) if p else 0.0 for _, p, c in map(as_heard, fitted)])
        _, played, chords = as_heard(tokens[0])
        before = melody_fit(played, chords, state.meter) if played else 0.0
        best = int(np.argmax(fits - FIT_DRIFT_WEIGHT * drift))
        info = {"before": float(before), "after": float(fits[best]), "candidates": len(z),
                "changed": bool(fits[best] > before), "drift_sd": float(drift[best])}
        if fits[best] <= before:
            return (*self.shown(state, play), info)
        z_best, detail = self.hold_notes(fitted[best], z[best])
        state = self.set_z(state, z_best, state.title, as_origin=False, detail=detail)
        state = state.but(move="chords", made_by="Fit to your chords")
        return (*self.shown(state, play), info)

    def draw_in_style(self, state: Session, style: str, n: int, play: Playback, seed: int) -> tuple[Session, dict]:
        """n new melodies from one collection's distribution. Returns the state holding them (state.drawn, for
        the pick) and {"z", "tokens", "notes", "figure" (a strip of them)}."""
        self._known(style, self.s.style_names, "style")
        z, tokens = self.s.sample_in_style(style, int(n), max(play.temperature, 0.0), seed)
        notes = [self.s.notes(t) for t in tokens]
        return state.but(drawn=Drawn(z, style)), {"z": z, "tokens": tokens, "notes": notes,
                                                  "figure": figures.strip(notes, [f"{i + 1}" for i in range(len(notes))])}

    def load_drawn(self, state: Session, k: int, play: Playback) -> tuple[Session, Rendered]:
        """Melody `k` (1-based, clamped) of the last ones drawn in a style (state.drawn) as the current melody."""
        if not state.drawn:
            raise UserError("Draw some melodies first.")
        zs, style = state.drawn.z, state.drawn.style
        i = min(max(int(k) - 1, 0), len(zs) - 1)
        state = self.set_z(state, zs[i], f"New melody in the style of {COLLECTION_LABELS.get(style, style)} (#{i + 1})")
        return self.shown(state, play)


def start_detail(state: Session) -> np.ndarray | None:
    """The detail of the melody the current transform began from: the parent history entry's, when that entry is
    the move's starting z (a Mood move may change the detail); else the current detail, which pushes keep."""
    entry = current(state)
    parent = next((e for e in state.history if entry is not None and e.id == entry.parent), None)
    if parent is not None and state.transform_base is not None and np.array_equal(parent.z, state.transform_base):
        return parent.detail
    return state.detail


def darker_words(taken: list[str], notes, bar_steps: int = 16) -> str:
    """What a Mood move toward minor did to the notes, in words: 'Darker on its notes: the natural minor, then the
    Phrygian 2nd (G minor kept).'; for a minor melody with nothing darker left, that sentence; else ''."""
    if not notes:
        return ""
    tonic, mode = estimate_key(notes, bar_steps)
    if not taken:
        return (f"Nothing darker keeps it in {key_name(tonic, True)}: no major 3rd, raised 6th or 7th, or 2nd is "
                "left to lower."
                if mode == "minor" else "")
    if taken == ["the Mood slider's direction"]:
        return ""
    return f"Darker on its notes: {', then '.join(taken)} ({key_name(tonic, True)} kept)."
