"""Your own notes in: a monophonic 4-bar melody edited cell by cell on the 16th grid (the note editor).

A click on an empty cell adds a note there (a beat long, or up to the next note); a click on a sounding note
removes it; a drag along a row sets one note over exactly the cells dragged. The melody stays monophonic:
a new note cuts the note sounding where it starts and replaces the notes it covers. Every function takes a
note list and returns a new one (sorted by start), so the editor's state is just that list.
"""

from __future__ import annotations

from collections.abc import Sequence

from explorer.errors import UserError
from vae.constants import MAX_PITCH, MIN_PITCH
from vae.format import DEFAULT_FORMAT
from vae.tokenizer import Note

CLICK_STEPS = 4  # a clicked note lasts a beat (a quarter note), or up to the next note
VIEW_LOW, VIEW_HIGH = 55, 84  # the rows the editor shows at least: G3 .. C6 (a singer's range and more)


def _check(step: int, pitch: int, steps: int) -> tuple[int, int]:
    try:
        step, pitch = int(step), int(pitch)
    except (TypeError, ValueError):
        raise UserError("Click a cell of the note grid.") from None
    if not 0 <= step < steps:
        raise UserError(f"A note must start inside the {steps} sixteenths of the melody, not at {step}.")
    if not MIN_PITCH <= pitch <= MAX_PITCH:
        raise UserError(f"A note's pitch must be a piano key (MIDI {MIN_PITCH}-{MAX_PITCH}), not {pitch}.")
    return step, pitch


def sorted_notes(notes: Sequence) -> list[Note]:
    return sorted((Note(*map(int, n)) for n in notes), key=lambda n: (n.start, n.pitch))


def sounding(notes: Sequence[Note], step: int, pitch: int | None = None) -> Note | None:
    """The note sounding at `step` (of `pitch`, when given), or None."""
    return next((n for n in notes if n.start <= step < n.end and (pitch is None or n.pitch == pitch)), None)


def place(notes: Sequence[Note], new: Note) -> list[Note]:
    """Notes with `new` added, monophonic: the note sounding at new.start ends there, notes starting inside
    new are removed."""
    out = []
    for n in sorted_notes(notes):
        if new.start <= n.start < new.end:
            continue  # covered by the new note
        if n.start < new.start < n.end:
            n = Note(n.pitch, n.start, new.start)
        out.append(n)
    return sorted_notes([*out, new])


def click(notes: Sequence[Note], step: int, pitch: int, steps: int = DEFAULT_FORMAT.window_steps) -> list[Note]:
    """A click on cell (step, pitch): removes the note of that pitch sounding there, else adds a note there
    lasting CLICK_STEPS or up to the next onset (whichever is sooner)."""
    step, pitch = _check(step, pitch, steps)
    notes = sorted_notes(notes)
    hit = sounding(notes, step, pitch)
    if hit is not None:
        return [n for n in notes if n != hit]
    nxt = min((n.start for n in notes if n.start > step), default=steps)
    return place(notes, Note(pitch, step, min(step + CLICK_STEPS, nxt, steps)))


def span(notes: Sequence[Note], first: int, last: int, pitch: int,
         steps: int = DEFAULT_FORMAT.window_steps) -> list[Note]:
    """A drag over cells first..last (inclusive, either order) of one row: one note exactly over them."""
    first, pitch = _check(first, pitch, steps)
    last, _ = _check(last, pitch, steps)
    first, last = min(first, last), max(first, last)
    return place(notes, Note(pitch, first, last + 1))


def view_range(notes: Sequence[Note]) -> tuple[int, int]:
    """The rows the editor shows: VIEW_LOW..VIEW_HIGH, widened to hold every note with a row to spare."""
    pitches = [n.pitch for n in notes]
    low = max(MIN_PITCH, min([VIEW_LOW, *[p - 2 for p in pitches]]))
    high = min(MAX_PITCH, max([VIEW_HIGH, *[p + 2 for p in pitches]]))
    return low, high


def parse_gesture(value: str) -> tuple[str, list[int]]:
    """The browser's message for one gesture: 'click|step,pitch|time' or 'span|first,last,pitch|time' ->
    (kind, numbers). UserError for anything else."""
    parts = str(value or "").split("|")
    kinds = {"click": 2, "span": 3}
    if len(parts) < 2 or parts[0] not in kinds:
        raise UserError("Click or drag on the note grid.")
    try:
        nums = [int(float(v)) for v in parts[1].split(",")]  # inf and nan raise here: the grid is finite
    except (ValueError, OverflowError):
        raise UserError("Click or drag on the note grid.") from None
    if len(nums) != kinds[parts[0]]:
        raise UserError("Click or drag on the note grid.")
    return parts[0], nums


MAX_NOTES_TEXT = 20_000  # characters: 64 notes of "[127, 63, 64]" need under 1,000


def notes_text(notes: Sequence[Note]) -> str:
    """The draft as the page's editor script holds it: JSON [[pitch, start, end], ...] sorted by start."""
    return "[" + ",".join(f"[{n.pitch},{n.start},{n.end}]" for n in sorted_notes(notes)) + "]"


def parse_notes(value: str, steps: int = DEFAULT_FORMAT.window_steps) -> list[Note]:
    """The notes drawn in the page, sent at once (notes_text's JSON) -> Note list sorted by start, checked by the
    editor's own rules: whole 16th steps inside the `steps` of the window, piano keys, one note at a time.
    UserError with one sentence otherwise."""
    import json

    text = str(value or "").strip()
    if len(text) > MAX_NOTES_TEXT:
        raise UserError(f"The drawn notes must fit in {steps} sixteenths: that list is far too long.")
    try:
        raw = json.loads(text or "[]")
        if not isinstance(raw, list) or not all(isinstance(n, list) and len(n) == 3 for n in raw):
            raise ValueError
        if not all(isinstance(v, int) and not isinstance(v, bool) for n in raw for v in n):
            raise ValueError  # 4.5 is not a step of the 16th grid; true is not a pitch
    except (ValueError, RecursionError):
        raise UserError("Draw the notes on the note grid: each is a cell (or a run of cells) of one row.") from None
    out = []
    for pitch, start, end in raw:
        start, pitch = _check(start, pitch, steps)
        if not start < end <= steps:
            raise UserError(f"A note must end after it starts and inside the {steps} sixteenths, not at {end}.")
        out.append(Note(pitch, start, end))
    out = sorted_notes(out)
    for a, b in zip(out, out[1:], strict=False):
        if b.start < a.end:
            raise UserError("The melody plays one note at a time: two drawn notes overlap at sixteenth "
                            f"{b.start + 1}.")
    return out
