"""The Blend screen: melodies kept in slots A-D, interpolated between A and B or on the A-D grid."""

from __future__ import annotations

import numpy as np

from explorer.errors import UserError
from explorer.latent import generation
from explorer.latent.generation import blend_details, detail_row
from explorer.latent.space import join_sections
from explorer.media import figures
from explorer.media.files import EXPORT_RATE, Playback
from explorer.session.melody import MelodyActions, Rendered
from explorer.session.state import Session, Slot


class BlendActions(MelodyActions):
    """Slots, blends and the grid."""

    def set_slot(self, state: Session, slot: str) -> Session:
        """Remember the current melody in slot A/B/C/D (for blends and grids)."""
        if state.z is None:
            raise UserError("Load or create a melody first.")
        return state.but(slots={**state.slots, slot: Slot(state.z, state.title, state.detail)})

    def blend_kept(self, state: Session, steps: int, play: Playback) -> tuple[Session, dict]:
        """blend, its steps kept in the session (state.blend_z, blend_detail: what load_blend_step loads)."""
        b = self.blend(state, steps, play)
        return state.but(blend_z=b["z"], blend_detail=b["detail"]), b

    def blend(self, state: Session, steps: int, play: Playback) -> dict:
        """Interpolate slot A -> slot B in `steps` steps: z's, notes per step, a strip figure, whole-blend files."""
        slots = state.slots
        if "A" not in slots or "B" not in slots:
            raise UserError("Set melody A and melody B first (load a melody, then press 'Use as A' / 'Use as B').")
        z = self.s.interpolate(slots["A"].z, slots["B"].z, int(steps))
        detail = blend_details([slots["A"].detail, slots["B"].detail], self.s.detail_shape,
                               lambda d: self.s.interpolate(d[0], d[1], int(steps)))
        tokens = self.s.decode(z, play.temperature, play.seed, detail)
        notes = [self.s.notes(t) for t in tokens]
        labels = ["A"] + [f"{i}" for i in range(1, len(z) - 1)] + ["B"]
        fig = figures.strip(notes, labels, self.s.format.window_steps)
        whole = self.s.notes(join_sections(tokens))
        wav, mid = self.files.write_outputs(whole, play, "blend", sample_rate=EXPORT_RATE)
        return {"z": z, "detail": detail, "tokens": tokens, "notes": notes, "figure": fig, "wav": wav, "midi": mid}

    def grid_point(self, state: Session, x: float, y: float, play: Playback) -> tuple[Session, Rendered]:
        """Beat-Blender style: the melody at (x, y) in [0, 1]^2 between corners A (top-left), B, C, D."""
        slots = state.slots
        missing = [s for s in "ABCD" if s not in slots]
        if missing:
            raise UserError(f"Set corners {', '.join(missing)} first.")
        z = generation.grid_point(np.stack([slots[s].z for s in "ABCD"]), float(x), float(y))
        detail = blend_details([slots[s].detail for s in "ABCD"], self.s.detail_shape,
                               lambda d: generation.grid_point(d, float(x), float(y))[None])
        state = self.set_z(state, z, f"Grid blend at ({x:.2f}, {y:.2f})", as_origin=False,
                           detail=None if detail is None else detail[0])
        return self.shown(state, play)

    def load_blend_step(self, state: Session, step: int, play: Playback) -> tuple[Session, Rendered]:
        """Step `step` (1-based, clamped to the blend) of the last blend (state.blend_z) as the current melody."""
        if state.blend_z is None:
            raise UserError("Blend two melodies first.")
        i = min(max(int(step) - 1, 0), len(state.blend_z) - 1)
        state = self.set_z(state, state.blend_z[i], f"Blend step {i + 1} of {len(state.blend_z)}", as_origin=False,
                           detail=detail_row(state.blend_detail, i))
        return self.shown(state, play)
