"""The `python -m vae` commands: evaluate's JSON keys, sample and interpolate writing MIDI, clear errors."""

import json

import pretty_midi

from vae.cli import main
from vae.midi_export import notes_to_midi
from vae.tokenizer import Note

KEYS = {"windows", "teacher_forced_accuracy", "greedy_accuracy", "greedy_event_accuracy", "always_hold_baseline",
        "kl_nats", "active_units", "files_read", "files_failed", "greedy_event_accuracy_shuffled_z"}


def test_evaluate_json_on_corpus_split(tiny_checkpoint, small_corpus, capsys):
    assert main(["evaluate", "--checkpoint", str(tiny_checkpoint), "--corpus", str(small_corpus.path),
                 "--split", "test", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert KEYS <= set(out)
    assert out["windows"] == int((small_corpus.split == 2).sum())
    assert 0 <= out["greedy_event_accuracy"] <= 1 and 0 < out["always_hold_baseline"] < 1


def test_evaluate_midi_folder(tiny_checkpoint, tmp_path, capsys):
    for i in range(3):
        notes_to_midi([Note(60 + (j * (i + 2)) % 12, 4 * j, 4 * j + 3) for j in range(32)], tmp_path / f"t{i}.mid")
    (tmp_path / "bad.mid").write_bytes(b"not midi at all")
    assert main(["evaluate", "--checkpoint", str(tiny_checkpoint), "--midi", str(tmp_path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["files_read"] == 3 and out["files_failed"] == 1 and out["windows"] > 0


def test_sample_and_interpolate_write_midi(tiny_checkpoint, tmp_path):
    assert main(["sample", "--checkpoint", str(tiny_checkpoint), "-n", "2", "--out", str(tmp_path / "s")]) == 0
    files = sorted((tmp_path / "s").glob("*.mid"))
    assert len(files) == 2
    a, b = tmp_path / "a.mid", tmp_path / "b.mid"
    notes_to_midi([Note(60 + j % 5, 4 * j, 4 * j + 2) for j in range(16)], a)
    notes_to_midi([Note(72 - j % 7, 2 * j, 2 * j + 2) for j in range(32)], b)
    out = tmp_path / "blend.mid"
    assert main(["interpolate", str(a), str(b), "--checkpoint", str(tiny_checkpoint), "--steps", "3", "--out", str(out)]) == 0
    pm = pretty_midi.PrettyMIDI(str(out))
    assert out.stat().st_size > 0 and pm.get_end_time() <= 3 * 8.0 + 0.01  # 3 sections of 4 bars at 120 bpm


def test_errors_are_one_sentence(tmp_path, capsys):
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"MThd\x00\x00\x00\x06garbage")
    assert main(["interpolate", str(bad), str(bad), "--checkpoint", str(tmp_path)]) == 2
    assert main(["evaluate", "--checkpoint", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert "no checkpoint" in err and err.count("error:") == 2
