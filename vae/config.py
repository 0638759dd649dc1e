"""Configuration dataclasses (data, model, training) and the named presets built from them."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from vae.constants import STEPS_PER_BAR, VOCAB_SIZE


@dataclass(frozen=True)
class DataConfig:
    """How the corpus is cut into training windows."""

    window_bars: int = 4  # window length in 16-step bars (64 steps)
    hop_bars: int = 1  # minimum distance between window starts, in 16-step bars; starts sit on bar lines
    min_notes: int = 2  # windows with fewer note onsets are dropped (counted in the report)
    valid_share: float = 0.05  # share of tune groups held out for validation
    test_share: float = 0.05  # share of tune groups held out for testing
    split_salt: str = "melody-explorer-1"  # changing it reshuffles the split deterministically
    collections: tuple[str, ...] = ("essen", "oneills", "ryans", "airds", "bach")

    @property
    def window_steps(self) -> int:
        return self.window_bars * STEPS_PER_BAR

    @property
    def hop_steps(self) -> int:
        return self.hop_bars * STEPS_PER_BAR


@dataclass(frozen=True)
class ModelConfig:
    """MusicVAE-style model: bidirectional GRU encoder, (hierarchical) GRU decoder fed z at every step."""

    vocab_size: int = VOCAB_SIZE
    seq_len: int = 64  # steps per window
    bar_steps: int = STEPS_PER_BAR  # steps decoded per conductor output
    embed_dim: int = 64  # token embedding size
    enc_hidden: int = 256  # per direction
    enc_layers: int = 1
    latent_dim: int = 64
    hierarchical: bool = True  # conductor RNN gives one vector per bar; a shared bar RNN decodes it
    conductor_hidden: int = 128
    dec_hidden: int = 256
    dec_layers: int = 1
    dropout: float = 0.0

    @property
    def num_bars(self) -> int:
        return self.seq_len // self.bar_steps


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation, KL schedule and bookkeeping."""

    batch_size: int = 64
    lr: float = 1e-3
    lr_min: float = 1e-4  # exponential decay floor
    lr_decay: float = 0.99995  # per step
    beta_max: float = 0.2  # final KL weight (MusicVAE: 0.2-0.5)
    beta_warmup_steps: int = 10000  # linear ramp of beta from 0
    free_bits: float = 64.0  # nats of KL (whole z) that cost nothing: ~20 notes need more than 48
    sampling_rate_max: float = 0.0  # scheduled sampling: max share of steps fed the model's own guess
    sampling_warmup_steps: int = 20000
    transpose: int = 0  # random transposition augmentation range in semitones (0 = off)
    anticipate: float = 0.0  # share of training windows given pop-style anticipations (vae.augment; 0 = off)
    anticipate_offbeats: bool = False  # also anticipate eighth off-beats by a sixteenth (16th-note syncopation)
    bf16: bool = False  # bf16 autocast: for GPUs; measured ~15x slower for GRUs on this CPU (torch 2.13)
    grad_clip: float = 1.0
    valid_every_minutes: float = 5.0
    valid_windows: int = 2048  # validation subset size (fixed, deterministic)
    log_every_steps: int = 50
    seed: int = 0
    # Attribute regularisation (AR-VAE, Pati & Lerch 2020): latent dim k orders a batch as attribute k does.
    attr_names: tuple[str, ...] = ()  # attributes regularised on mu dims 0..len-1, in this order (() = off)
    attr_weight: float = 0.0  # weight of each attribute's loss (mean |tanh(s dz) - sign(da)| over pairs)
    attr_scale: float = 10.0  # tanh scale s: a gap of 0.1 in z already counts as ordered


@dataclass(frozen=True)
class Preset:
    """A named bundle of the three configs."""

    name: str
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)


# The nine attributes with their own slider, in slider order (definitions in vae/attributes.py).
REGULARISED = ("minorness", "mean_pitch", "pitch_range", "note_density", "rhythmic_complexity", "syncopation",
               "stepwise", "rest_share", "contour")

# The shipped recipe since round 5 (bench/trials-r5.md): half the windows syncopated, eighth off-beats too, and
# KL weight 0.1, so the decoder says more of a melody from z (pop and ragtime uploads come back closer).
_DEFAULT = Preset("default", train=TrainConfig(attr_names=REGULARISED, attr_weight=0.05, anticipate=0.5,
                                               anticipate_offbeats=True, beta_max=0.1))
_TINY = Preset(
    "tiny",
    model=replace(_DEFAULT.model, embed_dim=16, enc_hidden=32, latent_dim=16, conductor_hidden=32, dec_hidden=48),
    train=replace(_DEFAULT.train, batch_size=32, beta_warmup_steps=200, free_bits=4.0, valid_every_minutes=0.2,
                  valid_windows=256, log_every_steps=10, bf16=False, anticipate=0.0, anticipate_offbeats=False,
                  beta_max=0.2),
)
PRESETS: dict[str, Preset] = {"default": _DEFAULT, "tiny": _TINY}


def get_preset(name: str) -> Preset:
    """Look up a preset by name; raises ValueError listing the known ones."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose from {', '.join(PRESETS)}")
    return PRESETS[name]
