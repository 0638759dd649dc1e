"""The melody VAE: corpus, tokenizer, model, training, evaluation. Public names are importable from here
(`from vae import TrainedModel`); each is loaded on first use, so `import vae` stays cheap."""

from importlib import import_module

_EXPORTS = {
    "MelodyFormat": "vae.format", "DEFAULT_FORMAT": "vae.format", "Note": "vae.tokenizer",
    "MelodyTokenizer": "vae.tokenizer", "MelodyVAE": "vae.model", "TrainedModel": "vae.inference",
    "slerp": "vae.inference", "Corpus": "vae.corpus", "load_or_build": "vae.corpus", "train": "vae.train",
    "train_step": "vae.train", "Preset": "vae.config", "get_preset": "vae.config", "REGULARISED": "vae.config",
    "ATTRIBUTES": "vae.attributes", "compute_attributes": "vae.attributes", "Controls": "vae.controls",
    "fit_controls": "vae.controls", "measure_controls": "vae.sweep", "steer": "vae.sweep", "extract_melodies": "vae.midi_import",
    "notes_to_midi": "vae.midi_export", "estimate_key": "vae.music", "pitch_name": "vae.music",
    "MusicReadError": "vae.errors", "CheckpointError": "vae.errors", "SHIPPED": "vae.paths",
    "Chord": "vae.chords", "ChordError": "vae.chords", "chord_name": "vae.chords", "parse_chord": "vae.chords",
    "parse_progression": "vae.chords", "harmonise": "vae.harmony", "backing": "vae.harmony",
    "chord_line": "vae.harmony", "melody_fit": "vae.harmony",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'vae' has no attribute {name!r}")
