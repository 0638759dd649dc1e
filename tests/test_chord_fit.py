"""vae.chord_fit: beat notes land on chord tones, rhythm and contour kept, passing notes resolve by step."""

import pytest

from vae.chord_fit import fit_notes
from vae.chords import Chord, parse_progression
from vae.harmony import melody_fit, spans_from_bars
from vae.tokenizer import Note


def line(pitches, step=2, start=0):
    """Notes of equal length `step`, one after another."""
    return [Note(p, start + i * step, start + (i + 1) * step) for i, p in enumerate(pitches)]


SCALE_RUN = line([62, 64, 65, 67, 69, 67, 65, 64, 62, 60, 62, 64, 65, 67, 69, 71,
                  72, 71, 69, 67, 65, 64, 62, 60, 59, 60, 62, 64, 65, 64, 62, 60])
C_F_G_C = spans_from_bars(parse_progression("C F G C"))


def sign(x):
    return (x > 0) - (x < 0)


@pytest.mark.parametrize("progression", ["C F G C", "Am F C G", "| C | Dm G7 | Em Am | F G |", "I vi IV V7 in C"])
def test_every_beat_note_lands_on_a_chord_tone(progression):
    chords = spans_from_bars(parse_progression(progression))
    assert melody_fit(SCALE_RUN, chords) < 0.6
    assert melody_fit(fit_notes(SCALE_RUN, chords), chords) == 1.0


def test_rhythm_is_kept_and_only_pitches_move():
    out = fit_notes(SCALE_RUN, C_F_G_C)
    assert [(n.start, n.end) for n in out] == [(n.start, n.end) for n in SCALE_RUN]
    assert max(abs(a.pitch - b.pitch) for a, b in zip(out, SCALE_RUN, strict=True)) <= 3


def test_chord_tones_are_left_alone():
    arpeggio = line([60, 64, 67, 72, 65, 69, 72, 77, 67, 71, 74, 79, 72, 67, 64, 60], step=4)
    assert fit_notes(arpeggio, C_F_G_C) == arpeggio


def test_contour_of_beat_notes_is_kept():
    # quarter notes, every one on a beat: the line rises then falls, and so must the fitted line (or repeat)
    rise_fall = line([62, 65, 69, 72, 74, 71, 67, 64, 62, 65, 69, 72, 71, 67, 64, 62], step=4)
    out = fit_notes(rise_fall, C_F_G_C)
    for a, b, x, y in zip(rise_fall, rise_fall[1:], out, out[1:], strict=False):
        assert sign(y.pitch - x.pitch) in (sign(b.pitch - a.pitch), 0)


def test_passing_note_resolves_by_step():
    leap = [Note(60, 0, 4), Note(76, 4, 6), Note(62, 6, 8), Note(69, 8, 12)]
    out = fit_notes(leap, [(0, 16, Chord(0))])
    assert out[3].pitch in (67, 72)  # the beat note A moved to a C-major tone...
    assert abs(out[2].pitch - out[3].pitch) <= 2  # ...and the off-beat D, a non-chord tone, now leads into it


def test_held_note_over_a_chord_change_takes_a_common_tone():
    held = [Note(62, 8, 24)]  # D over the bar line from C to Am: beats 8, 12 on C and 16, 20 on Am
    out = fit_notes(held, [(0, 16, Chord(0)), (16, 32, Chord(9, "min"))])
    assert out[0].pitch % 12 in {0, 4}  # C or E: tones of both chords


def test_key_and_nothing_to_do():
    assert fit_notes([], C_F_G_C) == []
    assert fit_notes(SCALE_RUN, []) == SCALE_RUN
    minor = fit_notes(SCALE_RUN, C_F_G_C, key=(9, True))
    assert melody_fit(minor, C_F_G_C) == 1.0


def test_input_is_not_changed():
    mel = list(SCALE_RUN)
    fit_notes(mel, C_F_G_C)
    assert mel == SCALE_RUN


def test_fit_as_played_moves_the_model_notes_by_the_key_offset():
    from vae.chord_fit import fit_as_played

    played = [n._replace(pitch=n.pitch + 2) for n in SCALE_RUN]  # heard a tone up (in D) over D G A D
    chords = spans_from_bars(parse_progression("D G A D"))
    held = fit_as_played(SCALE_RUN, played, chords)
    assert [n.pitch + 2 for n in held] == [n.pitch for n in fit_notes(played, chords)]
    assert melody_fit([n._replace(pitch=n.pitch + 2) for n in held], chords) == 1.0
    with pytest.raises(ValueError):
        fit_as_played(SCALE_RUN, played[:-1], chords)
