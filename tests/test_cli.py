"""The `python -m vae` commands: evaluate's scores, sample and interpolate writing MIDI, clear errors."""

import json

import numpy as np
import pretty_midi
import pytest

from vae.cli import main
from vae.constants import HOLD
from vae.corpus import TEST
from vae.inference import TrainedModel
from vae.midi_export import notes_to_midi
from vae.tokenizer import MelodyTokenizer, Note

KEYS = {"windows", "teacher_forced_accuracy", "greedy_accuracy", "greedy_event_accuracy", "always_hold_baseline",
        "kl_nats", "active_units", "files_read", "files_failed", "greedy_event_accuracy_shuffled_z"}
STEP_SECONDS = 60 / 120 / 4  # one 16th step at the commands' default tempo


def midi_notes(path) -> list[Note]:
    """The notes of a written MIDI file back on the step grid (at 120 bpm)."""
    pm = pretty_midi.PrettyMIDI(str(path))
    return sorted(Note(n.pitch, round(n.start / STEP_SECONDS), round(n.end / STEP_SECONDS))
                  for inst in pm.instruments for n in inst.notes)


def test_evaluate_json_on_corpus_split(lively_checkpoint, small_corpus, capsys):
    assert main(["evaluate", "--checkpoint", str(lively_checkpoint), "--corpus", str(small_corpus.path),
                 "--split", "test", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert KEYS <= set(out)
    # the scores, computed here straight from the model on the test windows
    x = small_corpus.tokens[small_corpus.split == TEST].astype(np.int64)
    model = TrainedModel.load(lively_checkpoint)
    rec = model.reconstruct(x)
    events = x != HOLD
    assert out["windows"] == len(x) > 0
    assert out["always_hold_baseline"] == pytest.approx(float((x == HOLD).mean()), abs=1e-6)
    assert out["greedy_accuracy"] == pytest.approx(float((rec == x).mean()), abs=1e-6)
    event_acc = float(((rec == x) & events).sum() / events.sum())
    assert out["greedy_event_accuracy"] == pytest.approx(event_acc, abs=1e-6) and event_acc > 0
    mu, sigma = model.encode(x)
    kl = 0.5 * (mu.astype(np.float64) ** 2 + sigma.astype(np.float64) ** 2 - 1 - 2 * np.log(sigma)).sum(1).mean()
    assert out["kl_nats"] == pytest.approx(kl, rel=1e-4)
    assert out["files_read"] == small_corpus.report["files"] == 36
    assert out["files_failed"] == len(small_corpus.report["failures"])


def test_evaluate_midi_folder(tiny_checkpoint, tmp_path, capsys):
    for i in range(3):
        notes_to_midi([Note(60 + (j * (i + 2)) % 12, 4 * j, 4 * j + 3) for j in range(32)], tmp_path / f"t{i}.mid")
    (tmp_path / "bad.mid").write_bytes(b"not midi at all")
    assert main(["evaluate", "--checkpoint", str(tiny_checkpoint), "--midi", str(tmp_path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["files_read"] == 3 and out["files_failed"] == 1 and out["windows"] > 0


def test_sample_and_interpolate_write_midi(tiny_checkpoint, lively_checkpoint, tmp_path):
    tok = MelodyTokenizer()
    assert main(["sample", "--checkpoint", str(tiny_checkpoint), "-n", "2", "--out", str(tmp_path / "s")]) == 0
    files = sorted((tmp_path / "s").glob("*.mid"))
    assert [f.name for f in files] == ["sample_0_00.mid", "sample_0_01.mid"]
    _, sampled = TrainedModel.load(tiny_checkpoint).sample(2, 0.5, 0)  # the command's defaults
    for f, tokens in zip(files, sampled, strict=True):
        expected = sorted(tok.decode(tokens))
        assert expected and midi_notes(f) == expected

    a_notes = [Note(60 + j % 5, 4 * j, 4 * j + 2) for j in range(16)]
    b_notes = [Note(72 - j % 7, 2 * j, 2 * j + 2) for j in range(32)]
    a, b = tmp_path / "a.mid", tmp_path / "b.mid"
    notes_to_midi(a_notes, a)
    notes_to_midi(b_notes, b)
    out = tmp_path / "blend.mid"
    assert main(["interpolate", str(a), str(b), "--checkpoint", str(lively_checkpoint), "--steps", "3",
                 "--out", str(out)]) == 0
    # the file holds the model's 3 interpolation steps one after another, 4 bars (64 steps) each
    _, tokens = TrainedModel.load(lively_checkpoint).interpolate(tok.encode(a_notes, 64), tok.encode(b_notes, 64), 3)
    sections = [tok.decode(t) for t in tokens]
    assert all(sections) and sections[0] != sections[-1]
    expected = sorted(Note(n.pitch, n.start + 64 * i, n.end + 64 * i) for i, s in enumerate(sections) for n in s)
    assert midi_notes(out) == expected


def test_errors_are_one_sentence(tmp_path, capsys):
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"MThd\x00\x00\x00\x06garbage")
    assert main(["interpolate", str(bad), str(bad), "--checkpoint", str(tmp_path)]) == 2
    assert main(["evaluate", "--checkpoint", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert "no checkpoint" in err and err.count("error:") == 2


def test_train_a_fresh_model_with_another_latent_size(small_corpus, tmp_path):
    from vae.checkpoint import read_meta

    out = tmp_path / "z16"
    args = ["train", "--preset", "tiny", "--corpus", str(small_corpus.path), "--max-steps", "2", "--threads", "1"]
    assert main([*args, "--out", str(out), "--latent-dim", "16"]) == 0
    assert read_meta(out / "last")["model"]["latent_dim"] == 16
    assert main([*args, "--out", str(tmp_path / "z4"), "--latent-dim", "4"]) == 2  # fewer dims than attributes
