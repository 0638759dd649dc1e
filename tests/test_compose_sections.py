"""Compose: one section of a piece drawn anew (ComposeActions.regenerate_section), every other section note for note
as it was and its chords too; inside the section, bars can be kept (regenerate one bar). A piece through three
held-out corpus melodies of the shipped model (the tiny model composes silence at temperature 0)."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.errors import UserError
from explorer.latent.generation import detail_row
from explorer.media.files import Playback
from explorer.session.compose import kept
from explorer.session.state import new_state

HARMONY = Playback(accompaniment="Chords: block")  # harmony on: the piece is harmonised section by section
TYPED = Playback(progression="Am F C G")


@pytest.fixture(scope="module")
def h(shipped_handlers):
    return shipped_handlers  # built once per test session (conftest)



def _composed(h, st, play):
    piece = h.compose(st, 16, play, "through")
    return st.but(piece=kept(piece)), piece


def _section_notes(h, tokens):
    return [h.s.notes(t) for t in tokens]


def _chords_by_section(h, notes, play, n):
    steps = h.s.format.window_steps
    chords = h.files.chords(notes, play)
    return [[(s, e, str(c)) for s, e, c in chords if k * steps <= s < (k + 1) * steps] for k in range(n)]


@pytest.mark.parametrize("play", [HARMONY, TYPED], ids=["harmonised", "typed chords"])
@pytest.mark.parametrize("section", [1, 2, 4])
def test_one_section_anew_and_every_other_note_for_note(h, shipped_waypoints, play, section):
    st, piece = _composed(h, shipped_waypoints, play)
    n = piece["sections"]
    after, new = h.regenerate_section(st, section, play, seed=5)
    i = section - 1
    before_notes, after_notes = _section_notes(h, piece["tokens"]), _section_notes(h, new["tokens"])
    others = [k for k in range(n) if k != i]
    assert all(after_notes[k] == before_notes[k] for k in others)  # every other section note for note
    assert after_notes[i] != before_notes[i]  # the chosen one is new
    # tokens too: at most the first step of the next section turns HOLD into NOTE_OFF (no note runs on into it)
    same = np.array(new["tokens"]) == np.array(piece["tokens"])
    same[i] = True
    if i + 1 < n:
        same[i + 1, 0] = True
    assert same.all()
    # the piece's chords stay where it was not redrawn
    old_chords = _chords_by_section(h, piece["notes"], play, n)
    new_chords = _chords_by_section(h, new["notes"], play, n)
    assert all(old_chords) and all(new_chords[k] == old_chords[k] for k in others)
    # the session keeps the new piece: its section z (with its detail) plays what the piece plays, and loads so
    assert np.array_equal(after.piece.tokens, new["tokens"]) and "new" in after.piece.labels[i]
    assert h.s.notes(h.s.decode(after.piece.z[i], 0.0, None, detail_row(after.piece.detail, i))) == after_notes[i]
    assert all(np.array_equal(after.piece.z[k], st.piece.z[k]) for k in others)


def test_regenerate_one_bar_of_a_section(h, shipped_waypoints):
    st, piece = _composed(h, shipped_waypoints, HARMONY)
    bar = h.s.format.steps_per_bar
    _, new = h.regenerate_section(st, 2, HARMONY, seed=1, keep_bars=[0, 1, 3])
    old, now = np.array(piece["tokens"][1]), np.array(new["tokens"][1])
    keep = np.r_[0: 2 * bar, 3 * bar: 4 * bar]
    assert np.array_equal(now[keep], old[keep]) and not np.array_equal(now[2 * bar: 3 * bar], old[2 * bar: 3 * bar])
    assert new["labels"][1] == "bars 5-8 (new, bars 5, 6, 8 kept)"


def test_pressing_again_draws_another(h, shipped_waypoints):
    st, piece = _composed(h, shipped_waypoints, HARMONY)
    st, a = h.regenerate_section(st, 3, HARMONY, seed=11)
    _, b = h.regenerate_section(st, 3, HARMONY, seed=12)
    assert _section_notes(h, b["tokens"])[2] != _section_notes(h, a["tokens"])[2]


def test_bad_requests_get_a_sentence(h, shipped_waypoints):
    with pytest.raises(UserError, match="Compose a piece first"):
        h.regenerate_section(shipped_waypoints, 1, HARMONY, seed=0)
    st, piece = _composed(h, shipped_waypoints, HARMONY)
    with pytest.raises(UserError, match=f"has {piece['sections']} sections"):
        h.regenerate_section(st, piece["sections"] + 1, HARMONY, seed=0)
    with pytest.raises(UserError, match="[Ee]very bar"):
        h.regenerate_section(st, 1, HARMONY, seed=0, keep_bars=range(h.s.format.bars))


def test_the_compose_screen_wires_regenerate_this_section(explorer_server):
    """The page's own event functions: Compose keeps the sections as played and sets the section picker's range;
    "Regenerate this section" reads the section and the bars to keep and redraws only that section."""
    demo, hp = explorer_server.demo, explorer_server.handlers
    block = lambda b: demo.blocks[b if isinstance(b, int) else b._id]  # noqa: E731
    fn = lambda name: next(d for d in demo.fns.values() if d.api_name == name)  # noqa: E731
    by_id = {getattr(b, "elem_id", None): b for b in demo.blocks.values()}
    compose, regen = fn("compose"), fn("regenerate_section")
    assert by_id["regen-section"] in map(block, compose.outputs)
    assert {by_id["regen-section"], by_id["regen-section-keep"]} <= set(map(block, regen.inputs))
    st = new_state()
    for row in (10, 300):
        st = hp.add_waypoint(hp.load_window(st, row, Playback())[0])

    def data(event, st, **values):
        out = {b: (st if b.__class__.__name__ == "State" else b.value) for b in map(block, event.inputs)}
        out.update({by_id[k]: v for k, v in values.items()})
        return out

    state = block(compose.outputs[0])  # the page's session: both answers are keyed by component
    st = compose.fn(data(compose, st, **{"form-radio": "through"}))[state]
    before = np.array(st.piece.tokens)
    after = regen.fn(data(regen, st, **{"regen-section": 2, "regen-section-keep": [0]}))[state]
    now = np.array(after.piece.tokens)
    bar = hp.s.format.steps_per_bar
    assert np.array_equal(now[0], before[0]) and np.array_equal(now[2:, 1:], before[2:, 1:])
    assert np.array_equal(now[1, :bar], before[1, :bar]) and not np.array_equal(now[1], before[1])
