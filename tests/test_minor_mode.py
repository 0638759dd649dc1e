"""More minor: a minor tune gets darker with its tonic and minor key kept; a major tune takes its parallel minor."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from conftest import notes

from explorer.media.files import Playback
from explorer.session.state import new_state
from explorer.session.transform import MOOD
from vae.attributes import compute_attributes
from vae.mode import lower_degrees, mood, more_minor
from vae.music import estimate_key
from vae.tokenizer import MelodyTokenizer, Note

# G minor tunes (tonic 67), quarter notes, the last held: as bright minor tunes come.
G_MINOR = {
    "dorian": [67, 70, 72, 74, 76, 74, 72, 70, 69, 70, 72, 69, 67],  # E natural
    "harmonic": [67, 70, 74, 75, 74, 72, 70, 69, 66, 67, 70, 69, 66, 67],  # F# leading to G
    "melodic": [67, 69, 70, 72, 74, 76, 78, 79, 74, 70, 69, 67],  # E and F# on the way up
    "natural": [67, 69, 70, 72, 74, 75, 74, 72, 70, 69, 70, 69, 67],  # already Aeolian: only the 2nd is left
}


def tune(pitches: list[int], shift: int = 0) -> list[Note]:
    out = notes(*[(p + shift, 4 * i, 4 * i + 4) for i, p in enumerate(pitches)])
    out[-1] = Note(out[-1].pitch, out[-1].start, out[-1].start + 8)
    return out


@pytest.mark.parametrize("shift", [-7, -2, 0, 3, 5])
@pytest.mark.parametrize("name", list(G_MINOR))
@pytest.mark.parametrize("steps", [1, 2])
def test_minor_tune_gets_darker_and_keeps_its_key(name, steps, shift):
    before = tune(G_MINOR[name], shift)
    tonic = (7 + shift) % 12
    assert estimate_key(before) == (tonic, "minor")
    after, taken = more_minor(before, steps)
    assert taken and after != before  # "+1 changes nothing" was the complaint
    assert estimate_key(after) == (tonic, "minor") and mood(after) > 0  # never major
    assert [(n.start, n.end) for n in after] == [(n.start, n.end) for n in before]  # the rhythm is kept
    for a, b in zip(after, before, strict=True):
        assert a.pitch in (b.pitch, b.pitch - 1)  # only lowered, by a semitone
        if a.pitch != b.pitch:
            assert (b.pitch - tonic) % 12 in (2, 4, 9, 11)  # the 2nd, a major 3rd, the raised 6th or 7th


def test_steps_go_darker_in_order():
    before = tune(G_MINOR["melodic"])
    one, taken1 = more_minor(before, 1)
    two, taken2 = more_minor(before, 2)
    assert taken1 == ["the natural minor"] and taken2 == ["the natural minor", "the Phrygian 2nd"]
    assert {n.pitch % 12 for n in one} >= {3, 5}  # Eb and F: G natural minor
    assert 8 in {n.pitch % 12 for n in two} and 9 not in {n.pitch % 12 for n in two}  # Ab: Phrygian
    assert all(a.pitch <= b.pitch for a, b in zip(two, one, strict=True))


def test_dorian_tune_reads_more_minor():
    before = tune(G_MINOR["dorian"])
    after, _ = more_minor(before, 1)
    assert mood(after) > mood(before)


def test_major_tune_takes_its_parallel_minor():
    c_major = tune([60, 64, 67, 69, 67, 65, 64, 62, 60, 62, 64, 65, 67, 71, 72])
    after, taken = more_minor(c_major, 1)
    assert taken == ["the parallel minor"] and estimate_key(after) == (0, "minor")
    assert {n.pitch % 12 for n in after} & {4, 9, 11} == set()


def test_nothing_to_lower_is_left_alone():
    pentatonic = tune([67, 70, 72, 74, 77, 74, 72, 70, 67])  # G minor pentatonic: no 2nd, 6th or 7th to lower
    assert more_minor(pentatonic, 2) == (pentatonic, [])
    assert more_minor([], 1) == ([], []) and more_minor(pentatonic, 0) == (pentatonic, [])


def test_lower_degrees_keeps_the_piano_range():
    assert lower_degrees([Note(21, 0, 4)], 10, {11: 10}) == [Note(32, 0, 4)]  # A0 -> Ab0 is off the piano: Ab1


# --- the Transform screen's Mood push and the Mood slider's post-step -----------------------------------------


class FakeSpace:
    """A latent space whose z is the melody's tokens: decode plays them back, a fit holds any melody, and a push
    along Mood raises every minor 3rd to a major one (what the latent push did: G minor -> G major)."""

    attribute_names = [MOOD]

    def __init__(self):
        self.model = SimpleNamespace(tokenizer=MelodyTokenizer())

    def decode(self, z, temperature=0.0, seed=None, detail=None):
        return np.asarray(z).round().astype(np.int64)

    def notes(self, tokens):
        return self.model.tokenizer.decode(tokens)

    def attributes_of(self, tokens):
        return {k: float(v[0]) for k, v in compute_attributes(np.asarray(tokens)[None]).items()}

    def push_attribute(self, z, attribute, amount, detail=None, limits=None):
        notes = self.notes(self.decode(z))
        tonic = estimate_key(notes)[0]
        major = [Note(n.pitch + ((n.pitch - tonic) % 12 == 3), n.start, n.end) for n in notes]
        return self.model.tokenizer.encode(major, len(z)).astype(np.float32)

    def fit_melody(self, tokens):
        return {"z": np.asarray(tokens, np.float32), "detail": None}


@pytest.fixture
def actions(monkeypatch):
    """TransformActions over FakeSpace; a render is the decoded melody; fit_detail never holds (so a melody is
    fitted whole, as an upload)."""
    import explorer.session.melody as melody
    import explorer.session.transform as transform

    # hold_notes (explorer.session.melody, which TransformActions' moves call) fits a detail first
    monkeypatch.setattr(melody, "fit_detail", lambda model, t, z: (np.zeros((1, 1, 1)), -np.ones_like(t), None))
    a = object.__new__(transform.TransformActions)
    a.s = FakeSpace()
    a.labels = [{"name": "note_density"}, {"name": MOOD}]
    def render(state, play, tokens=None):  # the melody as heard: state.z decoded, or the locked move's own tokens
        tokens = a.s.decode(state.z) if tokens is None else tokens
        return SimpleNamespace(tokens=tokens, notes=a.s.notes(tokens))

    a.render = render
    return a


def z_of(melody: list[Note]) -> np.ndarray:
    return MelodyTokenizer().encode(melody, 64).astype(np.float32)


@pytest.mark.parametrize("amount", [0.5, 1.0, 2.0])
def test_mood_push_darkens_a_minor_tune_and_keeps_its_key(actions, amount):
    melody = tune(G_MINOR["melodic"])
    st = new_state().but(z=z_of(melody))
    st2, r, info = actions.push(st, MOOD, amount, Playback())
    want, taken = more_minor(melody, int(np.ceil(amount)))
    assert estimate_key(r.notes) == (7, "minor")  # the latent push alone made it G major
    assert r.notes == want and info["darker"] == taken
    assert "G minor kept" in info["note"]
    again, r2, _ = actions.push(st2, MOOD, 1.0, Playback())  # the same move again starts where it began
    assert r2.notes == more_minor(melody, 1)[0]


def test_mood_push_on_a_major_tune_the_push_left_major_takes_its_parallel_minor(actions):
    c_major = tune([60, 64, 67, 69, 67, 65, 64, 62, 60, 62, 64, 65, 67, 71, 72])
    st = new_state().but(z=z_of(c_major))
    _, r, info = actions.push(st, MOOD, 1.0, Playback())
    assert info["darker"] == ["the parallel minor"] and estimate_key(r.notes) == (0, "minor")


def test_mood_push_away_from_minor_is_the_latent_push(actions):
    melody = tune(G_MINOR["dorian"])
    st = new_state().but(z=z_of(melody))
    _, r, info = actions.push(st, MOOD, -1.0, Playback())
    assert "darker" not in info and r.notes == actions.s.notes(actions.s.push_attribute(z_of(melody), MOOD, -1.0))


@pytest.mark.parametrize("raise_by, steps", [(0.4, 1), (1.0, 1), (1.6, 2)])
def test_mood_slider_raised_on_a_minor_tune_gets_darker(actions, raise_by, steps):
    melody = tune(G_MINOR["melodic"])
    z = z_of(melody)
    moved = actions.s.push_attribute(z, MOOD, 1.0)  # the steered move turned it major
    current, values = np.zeros(2), np.array([0.0, raise_by])
    z2, detail = actions.mood_slider_step(z, None, current, values, moved, None)
    assert actions.s.notes(actions.s.decode(z2)) == more_minor(melody, steps)[0] and detail is None


def test_mood_slider_leaves_other_moves_alone(actions):
    melody = tune(G_MINOR["melodic"])
    z = z_of(melody)
    moved = actions.s.push_attribute(z, MOOD, 1.0)
    for values in (np.array([1.0, 0.0]), np.array([0.0, -1.0])):  # another slider; Mood toward major
        assert actions.mood_slider_step(z, None, np.zeros(2), values, moved, None)[0] is moved
    darker = z_of(more_minor(melody, 1)[0])  # the steered move got more minor itself: kept
    assert actions.mood_slider_step(z, None, np.zeros(2), np.array([0.0, 1.0]), darker, None)[0] is darker
    c_major = z_of(tune([60, 64, 67, 69, 67, 65, 64, 62, 60, 62, 64, 65, 67, 71, 72]))  # a major tune: as steered
    assert actions.mood_slider_step(c_major, None, np.zeros(2), np.array([0.0, 1.0]), moved, None)[0] is moved


def test_mood_push_never_turns_a_minor_tune_with_nothing_to_lower_major(actions):
    pentatonic = tune([67, 70, 72, 74, 77, 74, 72, 70, 67])  # the latent push would make its Bb a B: G major
    st = new_state().but(z=z_of(pentatonic))
    _, r, info = actions.push(st, MOOD, 1.0, Playback())
    assert r.notes == pentatonic and info["darker"] == [] and "Nothing darker keeps it in G minor" in info["note"]


def test_mood_push_keeps_the_model_move_when_it_is_more_minor_in_the_same_key(actions, monkeypatch):
    melody = tune(G_MINOR["dorian"])
    flat_sixth = lower_degrees(melody, 7, {9: 8})  # what the model's move gives here: Mood up, G minor kept
    monkeypatch.setattr(actions.s, "push_attribute", lambda z, *a, **k: z_of(flat_sixth))
    _, r, info = actions.push(new_state().but(z=z_of(melody)), MOOD, 1.0, Playback())
    assert r.notes == flat_sixth and info["darker"] == ["the Mood slider's direction"]
