"""LatentSpace: one read-only object holding the model, encoded corpus and every latent-space service.

The UI calls these plain methods (numpy arrays, note lists, dicts in and out); all the work is
delegated to the modules named in each method. Built once per process and shared between users: it
keeps no per-user state.
"""

from __future__ import annotations

import copy
import os
import time
from pathlib import Path

import numpy as np

from explorer.latent import generation
from explorer.latent.batching import DecodeBatcher
from explorer.latent.cache import cache_root, corpus_digest, load_arrays, save_arrays
from explorer.latent.directions import Sliders, sliders_for
from explorer.latent.encoded import EncodedCorpus, Progress, index_key, load_or_build_index
from explorer.latent.mapping import CorpusMap, fit_map, tune_means
from explorer.latent.neighbours import ApproxIndex, NeighbourIndex, neighbour_index
from explorer.latent.originality import OriginalityIndex, originality_report
from explorer.latent.styles import StyleModel, StyleNames, book_aliases, genre, steer_style
from explorer.latent.vectors import AttributeVectors
from vae.attributes import ATTRIBUTES, compute_attributes, corpus_attributes, tune_keys
from vae.config import REGULARISED
from vae.constants import FIRST_NOTE_ON, HOLD, NOTE_OFF
from vae.controls import corpus_std, fit_pca
from vae.corpus import TRAIN, Corpus
from vae.fidelity import DETAIL_FOLLOW, KEEP_DETAIL, DetailFollow, fit_melodies
from vae.format import DEFAULT_FORMAT
from vae.meter import Meter
from vae.split import SPLIT_NAMES
from vae.sweep import steer
from vae.tokenizer import Note
from vae.voice import VoiceLimits

FEATURES_VERSION = 2  # bump when the cached corpus features change


def corpus_features(corpus: Corpus, cache_dir: Path | str | None = None, bar_steps: int = DEFAULT_FORMAT.steps_per_bar,
                    ) -> tuple[dict[str, np.ndarray], OriginalityIndex, dict]:
    """Model-independent features of a corpus, cached: (attributes name -> [N], originality index, tune keys).

    The attributes are the ones training used (vae.attributes.corpus_attributes, cached beside the corpus);
    the originality hash table (~2 s for 90k windows; its n-grams one bar of `bar_steps`, the model's format) and
    the tune keys are kept in the explorer's cache.
    """
    bars = "" if bar_steps == DEFAULT_FORMAT.steps_per_bar else f"-bar{bar_steps}"  # the 4/4 cache keeps its name
    path = cache_root(cache_dir) / f"features-v{FEATURES_VERSION}-{corpus_digest(corpus)}{bars}.npz"
    train_rows = np.nonzero(corpus.split == TRAIN)[0]
    cached = load_arrays(path)
    if cached is None:
        orig = OriginalityIndex.build(corpus.tokens[train_rows], train_rows, bar_steps)
        keys = tune_keys(corpus.tokens, corpus.tune, len(corpus.tunes))
        cached = {"orig_keys": orig.keys, "orig_window": orig.window, "orig_offset": orig.offset,
                  **{f"key_{k}": v for k, v in keys.items()}}
        save_arrays(path, cached)
    attrs = corpus_attributes(corpus)
    orig = OriginalityIndex(cached["orig_keys"], cached["orig_window"], cached["orig_offset"],
                            corpus.tokens[train_rows], train_rows, bar_steps)
    keys = {k[4:]: v for k, v in cached.items() if k.startswith("key_")}
    return attrs, orig, keys


MIN_MAP_NOTES = 4  # a window with fewer onsets, or ...
MAX_MAP_REST = 0.5  # ... more than half silent, never stands for its tune on the map


def representative_windows(corpus: Corpus, mu: np.ndarray, attrs: dict[str, np.ndarray], tune_mu: np.ndarray,
                           corpus_map: CorpusMap) -> np.ndarray:
    """Per tune, the window a map point stands for [num_tunes] (-1 for a tune without windows): of the windows
    that are not mostly rest (all of them if none qualifies), the one placed nearest the tune's mean."""
    n = len(corpus.tunes)
    xy = corpus_map.place(mu)
    centre = corpus_map.place(np.nan_to_num(tune_mu))[corpus.tune]
    dist = np.linalg.norm(xy - centre, axis=1).astype(np.float64)
    notes = (corpus.tokens >= FIRST_NOTE_ON).sum(axis=1)
    rest = np.nan_to_num(attrs["rest_share"], nan=1.0) if "rest_share" in attrs else np.zeros(len(mu))
    poor = (notes < MIN_MAP_NOTES) | (rest > MAX_MAP_REST)
    order = np.lexsort((dist, poor, corpus.tune))  # by tune, good windows first, nearest first
    first = np.ones(len(order), bool)
    first[1:] = corpus.tune[order][1:] != corpus.tune[order][:-1]
    out = np.full(n, -1, np.int64)
    out[corpus.tune[order][first]] = order[first]
    return out


def typical_distances(mu: np.ndarray, pairs: int = 4000, seed: int = 0) -> np.ndarray:
    """Sorted distances between `pairs` random pairs of corpus windows [pairs] (the scale for similarity)."""
    if len(mu) < 2:
        return np.zeros(0, np.float32)
    rng = np.random.default_rng(seed)
    i, j = rng.integers(0, len(mu), pairs), rng.integers(0, len(mu), pairs)
    keep = i != j
    return np.sort(np.linalg.norm(mu[i[keep]] - mu[j[keep]], axis=1)).astype(np.float32)


def _vectors(index: EncodedCorpus, attrs: dict[str, np.ndarray], sliders: Sliders) -> AttributeVectors:
    """Attribute vectors fitted on the training windows' mu, along the sliders where they have one."""
    train = index.train
    return AttributeVectors.fit(index.mu[train], {k: v[train] for k, v in attrs.items()}).along_sliders(
        sliders.controls, corpus_std(attrs))


class LatentSpace:
    """Everything the explorer UI needs from a trained model and its corpus (see `build`)."""

    def __init__(self, model, corpus: Corpus, index: EncodedCorpus, attrs: dict[str, np.ndarray],
                 originality_index: OriginalityIndex, keys: dict, sliders: Sliders, vectors: AttributeVectors,
                 styles: StyleModel, window_style: np.ndarray, corpus_map: CorpusMap, tune_mu: np.ndarray,
                 knn: NeighbourIndex | ApproxIndex):
        """Only holds the parts; `build` loads them and `fit` derives the fitted ones."""
        self.model = model
        self.corpus = corpus
        self.index = index
        self.attrs = attrs
        self.originality_index = originality_index
        self.tune_key = keys
        self.sliders = sliders
        self.labels = sliders.labels()
        self.vectors = vectors
        self.styles = styles
        self.window_style = window_style
        self.tune_style = [genre(t) for t in corpus.tunes]  # each tune's style name (what the map and neighbours say)
        self.map = corpus_map
        self.tune_mu = tune_mu
        self.tune_window = representative_windows(corpus, index.mu, attrs, tune_mu, corpus_map)
        ok = self.tune_window >= 0
        self.tune_xy = corpus_map.place(np.nan_to_num(tune_mu))
        self.tune_xy[ok] = corpus_map.place(index.mu[self.tune_window[ok]])
        self.knn = knn
        self.pair_distances = typical_distances(index.mu)
        # Random melodies come from the Gaussian of the training windows' latents (the aggregate posterior), where
        # the decoder has been: with the KL weighted 0.1 they match held-out melodies better than N(0, I) draws
        # (bench quality, side by side: Yang-Lerch overlap 0.891 vs 0.869 at temperature 0.5).
        train = index.split == TRAIN
        self.latent_gaussian = generation.gaussian_fit(index.mu[train] if train.sum() > index.latent_dim else index.mu)
        # Greedy decodes from concurrent requests share one batch (explorer.latent.batching); sampled ones run alone.
        self.batcher = DecodeBatcher(lambda x, d: self.model.decode(x, detail=d))
        self.build_seconds = 0.0  # set by build()
        self.base: LatentSpace = self  # the space without the collections joined to it (explorer.latent.collections)
        self.collections: tuple = ()  # those collections, in order
        self.checkpoint: Path | None = None  # the model's checkpoint folder, when built from one (set by build)
        self._map_data: dict | None = None  # built on first use, then shared read-only

    @classmethod
    def fit(cls, model, corpus: Corpus, index: EncodedCorpus, attrs: dict[str, np.ndarray],
            originality_index: OriginalityIndex, keys: dict, sliders: Sliders) -> LatentSpace:
        """Fit attribute vectors, styles, the map and the neighbour index on the training windows' mu."""
        train = index.train
        mu_tr = index.mu[train]
        vectors = _vectors(index, attrs, sliders)
        # styles are what the tunes are (reels, jigs, chorales ...: explorer.latent.styles.genre), and a
        # collection of your own (or Pop) is a style of its own; the old book names stay accepted as aliases
        tune_names = [genre(t) for t in corpus.tunes]
        names = sorted(set(tune_names))
        tune_style = np.array([names.index(n) for n in tune_names], dtype=np.int64)
        window_style = tune_style[corpus.tune] if len(corpus.tune) else np.zeros(0, np.int64)
        aliases = book_aliases([t.get("collection", "") for t in corpus.tunes], tune_names,
                               [t.get("windows", 1) for t in corpus.tunes])
        styles = StyleModel.fit(mu_tr, window_style[train], names, aliases)
        style_ids = np.array([styles.names.index(n) if n in styles.names else -1 for n in names])
        window_style = style_ids[window_style]
        # The map's candidate projections: the top two principal axes of mu and the styles' LDA.
        pca_mean, pca_axes, _, _ = fit_pca(mu_tr, 2)
        projections = {"pca": (pca_mean, pca_axes)}
        if len(styles.names) >= 3:
            projections["lda"] = (mu_tr.mean(axis=0), styles.axes(2))
        corpus_map = fit_map(index.mu, index.split, window_style, len(styles.names), projections=projections)
        return cls(model, corpus, index, attrs, originality_index, keys, sliders, vectors, styles, window_style,
                   corpus_map, tune_means(index.mu, corpus.tune, len(corpus.tunes)),
                   neighbour_index(index.mu, corpus.tune))

    def swapped(self, model, sliders: Sliders | None = None, index: EncodedCorpus | None = None) -> LatentSpace:
        """This space served by another model with the same encoder (a fine-tuned decoder: explorer.latent.swap
        checks), every encoding and fitted part kept: the map, styles and neighbours depend on mu alone. With
        `sliders` (the same directions, names measured again) the attribute vectors follow them; `index`: the
        same encodings filed under the new model's cache key."""
        out = copy.copy(self)
        out.model = model
        out.index = index or self.index
        if sliders is not None:
            out.sliders, out.labels = sliders, sliders.labels()
            out.vectors = _vectors(self.index, self.attrs, sliders)
        out.batcher = DecodeBatcher(lambda x, d: out.model.decode(x, detail=d))
        return out

    @classmethod
    def build(cls, checkpoint: Path | str, corpus: Corpus | None = None, cache_dir: Path | str | None = None,
              progress: bool = True, callback: Progress | None = None, threads: int | None = None,
              model=None, sweep_n: int = 60, sweep_pairs: int = 6000, builtins: bool | None = None) -> LatentSpace:
        """Load the model from `checkpoint`, the corpus (default: the one its data settings describe), and
        build or load every index. `callback(fraction, message)` reports progress to a UI. builtins: join the
        collections shipped with the package (Pop: explorer.latent.collections.builtin_collections); None joins
        them to the default corpus only, not to one handed in."""
        from vae.checkpoint import data_config
        from vae.corpus import load_or_build
        from vae.inference import TrainedModel

        t0 = time.perf_counter()

        def report(frac: float, msg: str) -> None:
            if callback:
                callback(frac, msg)

        report(0.0, "loading model")
        model = model or TrainedModel.load(checkpoint)
        report(0.02, "loading corpus")
        corpus_given = corpus
        if corpus is None:
            corpus = load_or_build(data_config(model.meta), progress=progress)
        report(0.05, "encoding corpus")
        index = load_or_build_index(model, corpus, checkpoint, cache_dir, threads=threads, progress=progress,
                                    callback=lambda f, m: report(0.05 + 0.8 * f, m))
        report(0.86, "corpus features")
        attrs, orig, keys = corpus_features(corpus, cache_dir, model.format.steps_per_bar)
        report(0.9, "sliders (measured once per model, then cached)")
        names = tuple(model.meta.get("train", {}).get("attr_names", ())) or REGULARISED
        sliders = sliders_for(model, corpus, checkpoint,
                              cache_root(cache_dir) / f"controls-{index_key(checkpoint, corpus)}.json",
                              names, index.latent_dim, n=sweep_n, pairs=sweep_pairs)
        report(0.95, "styles and map")
        services = cls.fit(model, corpus, index, attrs, orig, keys, sliders)
        services.build_seconds = time.perf_counter() - t0
        services.checkpoint = Path(checkpoint)
        if (corpus_given is None) if builtins is None else builtins:
            from explorer.latent.collections import builtin_collections, join

            shipped = builtin_collections(model.format, cache_dir)
            if shipped:
                report(0.97, "the built-in collections (Pop)")
                t1 = time.perf_counter()
                services = join(services, shipped, threads=threads)
                services.build_seconds = time.perf_counter() - t1 + services.base.build_seconds
        report(1.0, "ready")
        return services

    # --- model verbs -------------------------------------------------------------------------------
    @property
    def format(self):
        """The model's melody format (vae.format.MelodyFormat)."""
        return self.model.format

    @property
    def detail_shape(self) -> tuple[int, int]:
        """(units, context size) of a melody's per-bar detail (vae.fidelity)."""
        return tuple(self.model.detail_shape)

    @property
    def latent_dim(self) -> int:
        return self.index.latent_dim

    @property
    def style_names(self) -> list[str]:
        """The styles' names (what a menu lists); `in` also accepts an old name (StyleModel.aliases)."""
        return StyleNames(self.styles.names, self.styles.aliases)

    @property
    def attribute_names(self) -> list[str]:
        return list(self.vectors.names)

    def encode(self, melody) -> np.ndarray:
        """Posterior mean of one melody (tokens [T] or a Note list) -> [Z], or of a batch (tokens [B, T]) -> [B, Z]."""
        is_notes = isinstance(melody, list | tuple) and (not melody or isinstance(melody[0], Note))
        if is_notes:  # an empty note list is a silent melody, not an empty batch
            tokens = self.model.tokenizer.encode([Note(*n) for n in melody], self.model.seq_len)[None]
        else:
            tokens = self.model.to_tokens(melody)
        mu = self.model.encode(tokens)[0]
        single = is_notes or (isinstance(melody, np.ndarray) and melody.ndim == 1) or (
            isinstance(melody, list | tuple) and isinstance(melody[0], int | np.integer))
        return mu[0] if single else mu

    def fit_melody(self, tokens: np.ndarray, progress=None) -> dict:
        """The model's hold on one melody [T] (vae.fidelity.fit_melodies): z fitted from mu, and the per-bar
        detail that z alone cannot say (None when z brings the melody back whole). {"z" [Z], "detail" [U, C] or
        None, "tokens" [T] (their greedy decoding), "f1" (its exact-note F1), "f1_encoder" (of mu's decoding),
        "f1_z" (of z's alone)}."""
        fit = fit_melodies(self.model, np.asarray(tokens, np.int64), progress=progress)
        return {"z": fit.z[0], "detail": fit.detail_of(0), "tokens": fit.tokens[0], "f1": float(fit.f1[0]),
                "f1_encoder": float(fit.f1_encoder[0]), "f1_z": float(fit.f1_z[0])}

    def decode(self, z: np.ndarray, temperature: float = 0.0, seed: int | None = None,
               detail: np.ndarray | None = None) -> np.ndarray:
        """z [Z] -> tokens [T], or z [B, Z] -> tokens [B, T]; temperature 0 is greedy, a seed repeats a sample.
        detail: the melody's per-bar detail [U, C] (every row) or [B, U, C], None for none (vae.fidelity)."""
        z = np.asarray(z, dtype=np.float32)
        tokens = self._greedy(z, detail) if temperature <= 0 else self.model.decode(z, temperature, seed, detail)
        return tokens[0] if z.ndim == 1 else tokens

    def _greedy(self, z: np.ndarray, detail: np.ndarray | None = None) -> np.ndarray:
        """Greedy tokens [B, T] for z [B, Z]: through the batcher, or alone when batching is off (None)."""
        if self.batcher is not None:
            return self.batcher.decode(z, detail)
        return self.model.decode(z, detail=detail)

    def _greedy_with(self, detail: np.ndarray | None):
        """decode(z [B, Z]) -> tokens [B, T] with one melody's detail on every row (for steered moves)."""
        return lambda z: self._greedy(z, detail)

    def notes(self, tokens: np.ndarray) -> list[Note]:
        """Tokens [T] -> Note list (pitch, start step, end step)."""
        return self.model.tokenizer.decode(tokens)

    def attributes_of(self, tokens: np.ndarray) -> dict[str, float]:
        """Every attribute of one melody [T] -> name -> value (NaN when undefined)."""
        return {k: float(v[0]) for k, v in compute_attributes(np.asarray(tokens)[None]).items()}

    def window(self, i: int) -> dict:
        """Corpus window i: tokens [T], its mu [Z] and metadata (tune, title, collection: its style's name, book: the
        collection it was read from, meter, start, split ...)."""
        return {"tokens": self.corpus.tokens[i].astype(np.int64), "mu": self.index.mu[i], **self._window_meta(i)}

    def _window_meta(self, i: int) -> dict:
        t = int(self.corpus.tune[i])
        meta = self.corpus.tunes[t]
        return {"window": int(i), "tune": t, "title": meta.get("title", ""), "collection": self.tune_style[t],
                "book": meta.get("collection", ""),
                "meter": meta.get("meter", ""), "key": str(self.tune_key["name"][t]) if len(self.tune_key) else "",
                "source": meta.get("source", ""), "number": meta.get("number", ""),
                "start_bar": Meter.parse(meta.get("meter")).bar_of(self.corpus.start[i]),
                "split": SPLIT_NAMES[int(self.corpus.split[i])]}

    # --- sliders -----------------------------------------------------------------------------------
    def direction_labels(self) -> list[dict]:
        """Per slider: index, label ('Mood: major ← → minor' or 'Direction 12 (no single effect)'), info, name,
        fitted, spearman, specificity, effect, variance_share (explorer.latent.directions.Sliders.labels)."""
        return [dict(d) for d in self.labels]

    def slider_sweep(self) -> list[dict]:
        """The measured sweep behind the labels: per slider, the effect on every attribute (vae.sweep.sweep)."""
        return [dict(r) for r in self.sliders.sweep]

    def sliders_of(self, z: np.ndarray) -> np.ndarray:
        """Slider values [K] of z [Z]."""
        return self.sliders.coords(z)

    def z_from_sliders(self, z: np.ndarray, values: np.ndarray, current: np.ndarray | None = None,
                       detail: np.ndarray | None = None) -> np.ndarray:
        """z [Z] moved from slider values `current` (default: its own) to `values` [K]; a melody's detail [U, C]
        stays as it is and is decoded with every candidate (slider_move with KEEP_DETAIL).

        With steered sliders (vae.sweep.steer) the decoded melody follows the attribute sliders and holds
        the other attributes, and the attribute sliders' own values land near the request; otherwise the move
        is linear and every slider's value becomes exactly what was asked.
        """
        return self.slider_move(z, values, current, detail, KEEP_DETAIL)[0]

    def slider_move(self, z: np.ndarray, values: np.ndarray, current: np.ndarray | None = None,
                    detail: np.ndarray | None = None,
                    follow: DetailFollow = DETAIL_FOLLOW) -> tuple[np.ndarray, np.ndarray | None]:
        """A slider move of the melody (z [Z], detail [U, C] or None) from slider values `current` (default: z's
        own) to `values` [K] -> (z [Z], detail or None). The detail follows the move as `follow` says (faded by
        the distance moved, in slider units: vae.fidelity.DetailFollow), and the steered search (vae.sweep.steer)
        decodes every candidate with the detail it will play with, aiming from the melody as heard now: so
        the attributes asked for change by what was asked from what the user heard, detail or none."""
        z = np.asarray(z, np.float32)
        values = np.asarray(values, np.float32)
        cur = self.sliders_of(z) if current is None else np.asarray(current, np.float32)
        if np.array_equal(values, cur):  # nothing moved (Render pressed again): no candidates to decode
            return z, detail
        after = follow.apply(detail, float(np.linalg.norm(values.astype(np.float64) - cur)))
        if not self.sliders.steered:
            return (z + (values - cur) @ self.sliders.controls.basis).astype(np.float32), after
        std = self.sliders.attr_std or corpus_std(self.attrs)
        heard = None if after is detail else self._greedy(z[None], detail)
        moved = steer(self._greedy_with(after), self.sliders.controls, z[None], cur[None], values[None], std,
                      before=heard)
        return moved[0], after

    # --- neighbours and map ------------------------------------------------------------------------
    def neighbours(self, z: np.ndarray, k: int = 10, exclude_tune: int | None = None) -> list[dict]:
        """The k corpus windows nearest to z [Z]: dicts with window, distance and tune metadata, nearest first."""
        idx, dist = self.knn.query(z, k, exclude_group=exclude_tune)
        return [{**self._window_meta(int(i)), "distance": float(d), "similarity": self.similarity(float(d))}
                for i, d in zip(idx, dist, strict=True)]

    def similarity(self, distance: float) -> float:
        """A latent distance as a share a person can read: the fraction of random pairs of corpus melodies
        that lie farther apart (1.0 = closer than any pair, 0.5 = a typical pair, 0 = farther than all)."""
        d = self.pair_distances
        return float(1.0 - np.searchsorted(d, distance) / len(d)) if len(d) else float("nan")

    def place(self, z: np.ndarray) -> tuple[float, float] | np.ndarray:
        """Map position of z [Z] -> (x, y), or of z [B, Z] -> [B, 2]."""
        xy = self.map.place(z)
        return (float(xy[0]), float(xy[1])) if xy.ndim == 1 else xy

    def map_figure_data(self) -> dict:
        """One point per tune with windows: x, y, collection (its style's name), book (the collection it was read
        from), title, meter, key, split, tune, windows, and the tune-mean of every attribute (attr_<name>) for
        colouring; plus method and axis scores."""
        if self._map_data is None:
            self._map_data = self._build_map_data()
        return dict(self._map_data)

    def _build_map_data(self) -> dict:
        has = np.bincount(self.corpus.tune, minlength=len(self.corpus.tunes)) > 0
        tunes = np.nonzero(has)[0]
        meta = [self.corpus.tunes[t] for t in tunes]
        out = {"x": self.tune_xy[tunes, 0], "y": self.tune_xy[tunes, 1], "tune": tunes,
               "collection": np.array([self.tune_style[t] for t in tunes]),  # the style (the legend's name)
               "book": np.array([m.get("collection", "") for m in meta]),
               "title": np.array([m.get("title", "") for m in meta]),
               "meter": np.array([m.get("meter", "") for m in meta]),
               "split": np.array([m.get("split", "") for m in meta]),
               "windows": np.array([m.get("windows", 0) for m in meta]),
               "key": self.tune_key["name"][tunes] if len(self.tune_key) else np.array([""] * len(tunes)),
               "method": self.map.method, "scores": dict(self.map.scores)}
        for name in ATTRIBUTES:
            if name in self.attrs:
                out[f"attr_{name}"] = tune_means(self.attrs[name], self.corpus.tune, len(self.corpus.tunes))[tunes]
        return out

    # --- generation --------------------------------------------------------------------------------
    def interpolate(self, z_a: np.ndarray, z_b: np.ndarray, steps: int = 7) -> np.ndarray:
        """Slerp strip [steps, Z] from z_a to z_b (endpoints exact)."""
        return generation.interpolate(z_a, z_b, steps)

    def grid(self, corners: np.ndarray, size: int = 5) -> np.ndarray:
        """4-corner blend [size, size, Z] (corners: top-left, top-right, bottom-left, bottom-right)."""
        return generation.grid(corners, size)

    def sample(self, n: int = 1, temperature: float = 0.5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """n new melodies drawn from the Gaussian of the training windows' latents: (z [n, Z], tokens [n, T])."""
        z = generation.gaussian_draw(n, *self.latent_gaussian, seed=seed)
        return z, self.model.decode(z, temperature, seed)

    def similar(self, z: np.ndarray, n: int = 4, similarity: float = 0.8, temperature: float = 0.5,
                seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """n variations of z (similarity 1 = identical, 0 = unrelated): (z [n, Z], tokens [n, T])."""
        zs = generation.similar(z, n, similarity, seed)
        return zs, self.model.decode(zs, temperature, seed)

    def sample_in_style(self, style: str, n: int = 1, temperature: float = 0.5,
                        seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """n melodies drawn from the Gaussian of one collection's mu: (z [n, Z], tokens [n, T])."""
        z = self.styles.sample_z(style, n, seed)
        return z, self.model.decode(z, temperature, seed)

    def push_attribute(self, z: np.ndarray, attribute: str, amount: float, detail: np.ndarray | None = None,
                       limits: VoiceLimits | None = None) -> np.ndarray:
        """z [Z] (or [B, Z]) moved along an attribute; amount 1 = the gap between its top and bottom quartile.
        detail: the melody's per-bar detail [U, C], kept and decoded with every candidate; limits: a voice's
        range and leap (vae.voice) that the pushed melody keeps to where it can, None for no limit.

        An attribute with a steered slider moves like that slider (the decoded melody follows the push and
        holds the other attributes, vae.sweep.steer); any other along its attribute vector."""
        ctl = self.sliders.controls
        z = np.asarray(z, np.float32)
        if not (self.sliders.steered and attribute in ctl.attributes):
            return self.vectors.push(z, attribute, amount)
        k = ctl.attributes.index(attribute)
        attr_std = self.sliders.attr_std or corpus_std(self.attrs)
        gap = float(self.vectors.gap[self.vectors.names.index(attribute)])
        z2 = np.atleast_2d(z)
        cur = np.atleast_2d(self.sliders_of(z2))
        values = cur.copy()
        values[:, k] += float(amount) * gap / attr_std[attribute] / ctl.unit(k)
        if float(amount) == 0.0:
            return z
        out = steer(self._greedy_with(detail), ctl, z2, cur, values, attr_std, limits=limits)
        return out[0] if z.ndim == 1 else out

    def move_to_style(self, z: np.ndarray, to_style: str, amount: float = 1.0,
                      detail: np.ndarray | None = None) -> np.ndarray:
        """z moved toward to_style inside the styles' discriminant subspace, steered (explorer.latent.styles.steer_style):
        at amount 1 the least move whose decoded melody the classifier recognises as to_style; amount in [0, 1]
        goes part of the way; the rest of z (and the melody's detail [U, C]) is kept."""
        return steer_style(self.model, self.styles, z, to_style, amount, detail=detail)

    def style_of(self, z: np.ndarray) -> dict[str, float]:
        """Style probabilities of z [Z] (LDA with equal priors): name -> probability."""
        return {n: float(p) for n, p in zip(self.styles.names, self.styles.probabilities(z), strict=True)}

    def compose_path(self, waypoints: np.ndarray, bars: int = 16, form: str = "through") -> np.ndarray:
        """z [sections, Z] of consecutive 4-bar sections through waypoints [k, Z] in a form (generation.FORMS;
        bars rounded up to 4)."""
        per = self.format.bars
        return generation.form_path(waypoints, generation.sections_for_bars(bars, per), form)

    def compose(self, waypoints: np.ndarray, bars: int = 16, temperature: float = 0.0,
                seed: int = 0, form: str = "through",
                details: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """A longer piece through waypoints [k, Z] (details [k, U, C]: each waypoint's, zero for none): (z
        [sections, Z], tokens [sections * T] joined section by section, details [sections, U, C] or None); the
        details follow the same path as z."""
        z = self.compose_path(waypoints, bars, form)
        d = generation.along_path(details, lambda flat: self.compose_path(flat, bars, form))
        return z, join_sections(self.model.decode(z, temperature, seed, d)), d

    def originality(self, tokens: np.ndarray) -> dict:
        """Copy check of one melody [T]: longest transposition-invariant run shared with a training window.

        dict(steps, bars, notes (note-ons in the run), likely_copy (>= 2 bars and >= 4 notes), title,
        collection, tune, window, tune_step, query_start, match_start, transposition).
        """
        return originality_report(self.originality_index, tokens, self.corpus.tunes, self.corpus.tune,
                                  self.corpus.start)


def join_sections(tokens: np.ndarray) -> np.ndarray:
    """Concatenate windows [S, T] into one token line [S * T].

    A window that starts silent begins with HOLD, which after a sounding note would extend that note;
    such a start becomes NOTE_OFF.
    """
    t = np.asarray(tokens, dtype=np.int64).copy()
    for s in range(1, len(t)):
        events = t[s - 1][t[s - 1] != HOLD]
        sounding = len(events) and events[-1] >= FIRST_NOTE_ON
        if t[s, 0] == HOLD and sounding:
            t[s, 0] = NOTE_OFF
    return t.reshape(-1)


def default_threads() -> None:
    """Serving single requests is fastest with one torch thread (measured); set once at start-up."""
    import torch

    torch.set_num_threads(int(os.environ.get("MELODY_TORCH_THREADS", 1)))
