"""Styles: each collection's centroid and Gaussian in latent space, moves between them, and a classifier.

The classifier is linear discriminant analysis with equal priors (a shared, shrunk covariance and one
mean per collection): closed-form, deterministic, and not swamped by Essen's majority of windows. Its
discriminant axes also serve as the corpus map's projection (see explorer/latent/mapping.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from vae.constants import FIRST_NOTE_ON

# How far past the target centroid a style move goes (in the discriminant subspace, from the average of all
# styles): 0.5 beat 0 and 1 on decoded-and-re-encoded recognition (explorer report, "move to style").
EMPHASIS = 0.5


def class_stats(x: np.ndarray, labels: np.ndarray, num: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One pass over x [N, D] with integer labels in [0, num) (others ignored) -> (counts [num],
    means [num, D], covariances [num, D, D]); a class with fewer than 2 rows gets a zero covariance."""
    x = np.asarray(x, dtype=np.float64)
    d = x.shape[1]
    counts = np.zeros(num, np.int64)
    means = np.zeros((num, d))
    covs = np.zeros((num, d, d))
    for c in range(num):
        xc = x[labels == c]
        counts[c] = len(xc)
        if len(xc):
            means[c] = xc.mean(axis=0)
        if len(xc) >= 2:
            xc = xc - means[c]
            covs[c] = xc.T @ xc / (len(xc) - 1)
    return counts, means, covs


def pooled_covariance(counts: np.ndarray, covs: np.ndarray, shrink: float = 0.05) -> np.ndarray:
    """Average of the class covariances [S, D, D] with >= 2 rows (each class weighs the same), shrunk
    toward a scaled identity by `shrink` so collapsed latent dimensions do not make it singular -> [D, D]."""
    used = counts >= 2
    d = covs.shape[-1]
    cov = covs[used].mean(axis=0) if used.any() else np.eye(d)
    scale = np.trace(cov) / d if np.trace(cov) > 0 else 1.0
    return (1 - shrink) * cov + shrink * scale * np.eye(d)


def discriminant_axes(means: np.ndarray, pooled: np.ndarray, k: int = 2) -> np.ndarray:
    """Top-k linear discriminant axes [k, D] (unit rows) from class means [S, D] and the pooled covariance.

    Maximises between-class spread (equal class weights) over within-class spread; at most S - 1 axes
    carry information, and k may not exceed that.
    """
    if len(means) - 1 < k:
        raise ValueError(f"{len(means)} styles give at most {len(means) - 1} discriminant axes, not {k}")
    sb = np.cov(np.asarray(means, np.float64).T, bias=True)
    # Whiten by the pooled covariance; the eigenvectors of the whitened between-class scatter are the axes.
    evals, evecs = np.linalg.eigh(np.asarray(pooled, np.float64))
    w = evecs / np.sqrt(np.maximum(evals, 1e-12))
    vals, vecs = np.linalg.eigh(w.T @ sb @ w)
    axes = (w @ vecs[:, np.argsort(vals)[::-1][:k]]).T
    axes /= np.linalg.norm(axes, axis=1, keepdims=True)
    flip = np.sign(axes[np.arange(k), np.abs(axes).argmax(axis=1)])
    return axes * flip[:, None]


def fisher_axes(x: np.ndarray, labels: np.ndarray, num: int, k: int = 2) -> np.ndarray:
    """Top-k linear discriminant axes of x [N, D] for integer labels in [0, num) -> [k, D] (unit rows)."""
    counts, means, covs = class_stats(x, labels, num)
    present = counts >= 2
    return discriminant_axes(means[present], pooled_covariance(counts, covs), k)


@dataclass(frozen=True)
class StyleModel:
    """names [S]; centroids [S, Z] (mean training mu); chol [S, Z, Z] (each style's Gaussian); LDA weights."""

    names: list[str]
    centroids: np.ndarray
    chol: np.ndarray
    weights: np.ndarray  # [S, Z] linear discriminant weights
    bias: np.ndarray  # [S]
    counts: np.ndarray  # [S] training windows per style
    pooled: np.ndarray  # [Z, Z] shrunk within-style covariance
    aliases: dict = field(default_factory=dict)  # another name a style is known by (an old book name) -> its name

    @classmethod
    def fit(cls, mu_train: np.ndarray, labels: np.ndarray, names: list[str],
            aliases: dict[str, str] | None = None) -> StyleModel:
        """Styles from training mu [N, Z] and a style index per window [N] into `names` (-1: none); `aliases`:
        other names -> a style's name (those naming a dropped style are dropped).

        Styles with fewer than 2 training windows are dropped.
        """
        counts, means, covs = class_stats(mu_train, np.asarray(labels), len(names))
        keep = np.nonzero(counts >= 2)[0]
        if not len(keep):
            raise ValueError("no style has at least 2 training windows")
        dim = means.shape[1]
        chol = np.stack([np.linalg.cholesky(covs[c] + 1e-5 * np.eye(dim)) for c in keep])
        pooled = pooled_covariance(counts[keep], covs[keep])
        cents = means[keep]
        weights = cents @ np.linalg.inv(pooled)
        bias = -0.5 * np.einsum("sd,sd->s", weights, cents)
        kept = [names[c] for c in keep]
        return cls(kept, cents.astype(np.float32), chol.astype(np.float32), weights.astype(np.float32),
                   bias.astype(np.float32), counts[keep], pooled.astype(np.float32),
                   {k: v for k, v in (aliases or {}).items() if v in kept and k not in kept})

    def axes(self, k: int = 2) -> np.ndarray:
        """The top-k discriminant axes [k, Z] of the styles (LDA), e.g. for a map that separates them."""
        return discriminant_axes(self.centroids, self.pooled, k)

    def index(self, name: str) -> int:
        """The style's row; an alias (an old book name such as 'bach') names the style it now belongs to."""
        name = name if name in self.names else self.aliases.get(name, name)
        if name not in self.names:
            raise ValueError(f"unknown style {name!r}; choose from {', '.join(self.names)}")
        return self.names.index(name)

    def resolve(self, name: str) -> str:
        """A style's name for a name or alias (ValueError for neither)."""
        return self.names[self.index(name)]

    def nearest(self, z: np.ndarray) -> np.ndarray:
        """Index of the nearest centroid (Euclidean) for z [Z] -> int, or [B, Z] -> [B]."""
        z = np.asarray(z, dtype=np.float32)
        d = ((z[..., None, :] - self.centroids) ** 2).sum(-1)
        return d.argmin(-1)

    def move(self, z: np.ndarray, to_style: str, amount: float = 1.0, from_style: str | None = None) -> np.ndarray:
        """z [Z] or [B, Z] + amount * (centroid[to] - centroid[from]); from = nearest centroid when None.

        amount 0 keeps z, 1 moves it by the whole centroid difference (a melody at the `from` centroid
        lands on the `to` centroid); amounts outside [0, 1] are clipped.
        """
        z = np.asarray(z, dtype=np.float32)
        amount = float(np.clip(amount, 0.0, 1.0))
        src = self.nearest(z) if from_style is None else self.index(from_style)
        return (z + amount * (self.centroids[self.index(to_style)] - self.centroids[src])).astype(np.float32)

    def discriminant_projector(self) -> np.ndarray:
        """P [Z, Z]: the oblique projection onto the span of the styles' discriminant directions (in the pooled
        covariance's geometry), so z - P z keeps everything the styles share and P z is what tells them apart."""
        evals, evecs = np.linalg.eigh(self.pooled.astype(np.float64))
        root = evecs * np.sqrt(np.maximum(evals, 1e-12))
        inv_root = evecs / np.sqrt(np.maximum(evals, 1e-12))
        white = (self.centroids.astype(np.float64) - self.centroids.mean(axis=0)) @ inv_root  # [S, Z] whitened means
        u, sv, _ = np.linalg.svd(white.T, full_matrices=False)
        u = u[:, sv > 1e-9 * max(sv.max(), 1e-12)]  # at most S - 1 directions
        return root @ u @ u.T @ inv_root.T

    def move_subspace(self, z: np.ndarray, to_style: str, amount: float = 1.0,
                      emphasis: float = EMPHASIS) -> np.ndarray:
        """z moved inside the styles' discriminant subspace only: amount 1 gives it the target centroid's
        discriminant coordinates (however typical of its own style it was), pushed `emphasis` times further
        from the average of all styles; the rest of z is kept."""
        z = np.asarray(z, dtype=np.float64)
        amount = float(np.clip(amount, 0.0, 1.0))
        p = self.discriminant_projector()
        cents = self.centroids.astype(np.float64)
        target = cents[self.index(to_style)]
        target = target + emphasis * (target - cents.mean(axis=0))
        delta = (target - z) @ p.T
        return (z + amount * delta).astype(np.float32)

    def scores(self, z: np.ndarray) -> np.ndarray:
        """Linear discriminant scores [B, S] (or [S]) for z; higher means more like that style."""
        return np.asarray(z, dtype=np.float32) @ self.weights.T + self.bias

    def predict(self, z: np.ndarray) -> np.ndarray:
        """Most likely style index for z [Z] -> int, or [B, Z] -> [B] (equal priors)."""
        return self.scores(z).argmax(-1)

    def probabilities(self, z: np.ndarray) -> np.ndarray:
        """Style probabilities under the LDA model with equal priors: [S] or [B, S]."""
        s = self.scores(z).astype(np.float64)
        e = np.exp(s - s.max(-1, keepdims=True))
        return (e / e.sum(-1, keepdims=True)).astype(np.float32)

    def sample_z(self, name: str, n: int, seed: int = 0) -> np.ndarray:
        """n latent vectors [n, Z] from the full-covariance Gaussian fitted to that style's training mu."""
        c = self.index(name)
        eps = np.random.default_rng(seed).standard_normal((n, self.centroids.shape[1])).astype(np.float32)
        return (self.centroids[c] + eps @ self.chol[c].T).astype(np.float32)


# Emphases a steered style move tries (StyleModel.move_subspace): the least one whose decoded melody is
# recognised as the target is kept, so a melody moves no further than it needs to.
STEER_EMPHASES = (0.0, 0.5, 1.0, 1.5, 2.5, 4.0, 6.0)
CENTROID_AMOUNTS = (1.0, 1.5, 2.0)  # centroid moves tried after the subspace moves
# (10 candidates since step 49452, whose Bach soprano moves arrived less often with the 8 before; see the
# style table of `python -m explorer report`.)


def steer_style(model, styles: StyleModel, z: np.ndarray, to_style: str, amount: float = 1.0,
                emphases: tuple[float, ...] = STEER_EMPHASES, detail: np.ndarray | None = None) -> np.ndarray:
    """A style move that arrives: z [Z] or [B, Z] moved `amount` of the way to the first candidate whose
    decoding, re-encoded, the style classifier recognises as `to_style` (else the most probable). Candidates,
    in order: the subspace moves by increasing emphasis (they keep the rest of z), then the whole-z centroid
    moves (CENTROID_AMOUNTS), which reach some targets the subspace cannot (O'Neill from Ryan's).

    Decodes len(emphases) + len(CENTROID_AMOUNTS) candidates per melody (one batch). Amounts in (0, 1) go part of the way along the
    same line, so a small amount changes the melody a little. `model` needs decode and encode (TrainedModel).
    detail: one melody's per-bar detail [U, C] (vae.fidelity), decoded with every candidate; None for none.
    """
    z = np.asarray(z, dtype=np.float32)
    single = z.ndim == 1
    z2 = np.atleast_2d(z)
    amount = float(np.clip(amount, 0.0, 1.0))
    t = styles.index(to_style)
    b, e = len(z2), len(emphases) + len(CENTROID_AMOUNTS)
    subspace = [styles.move_subspace(z2, to_style, 1.0, em) for em in emphases]
    # and the whole-z centroid moves, which sometimes arrive where the subspace moves do not (O'Neill vs Ryan)
    centroid = [styles.move(z2, to_style, 1.0) + (a - 1.0) * (styles.move(z2, to_style, 1.0) - z2)
                for a in CENTROID_AMOUNTS]
    cands = np.stack(subspace + centroid, axis=1)  # [B, E, Z]
    flat = cands.reshape(b * e, -1)
    decoded = model.decode(np.concatenate([flat, z2])) if detail is None else model.decode(
        np.concatenate([flat, z2]), detail=detail)
    tokens, start = decoded[: b * e], decoded[b * e:]
    again = model.encode(tokens)[0]
    prob = styles.probabilities(again)[:, t].reshape(b, e)
    # a move must leave a melody: "toward Bach" once turned a tune into two 2-bar C5s (and the classifier
    # still said Bach); candidates that keep too little are taken only when none keeps enough
    musical = keeps_a_melody(tokens, start).reshape(b, e)
    ok = (styles.predict(again) == t).reshape(b, e) & musical
    prob = np.where(musical, prob, prob - 2.0)
    pick = np.where(ok.any(axis=1), ok.argmax(axis=1), prob.argmax(axis=1))
    end = cands[np.arange(b), pick]
    out = (z2 + amount * (end - z2)).astype(np.float32)
    return out[0] if single else out


MIN_NOTES_KEPT = 0.4  # a style move keeps at least this share of the melody's notes (and MIN_NOTES)
MIN_NOTES, MIN_PITCHES = 4, 3


def keeps_a_melody(tokens: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Per candidate [B*E, T] of each of B melodies [B, T] (candidates grouped per melody): whether it still is a
    melody: at least MIN_NOTES notes and MIN_NOTES_KEPT of the starting melody's, and MIN_PITCHES pitches."""
    tokens, start = np.atleast_2d(tokens), np.atleast_2d(start)
    per = len(tokens) // max(len(start), 1)
    onsets = (tokens >= FIRST_NOTE_ON).sum(1)
    before = np.repeat((start >= FIRST_NOTE_ON).sum(1), per)
    pitches = np.array([len(np.unique(row[row >= FIRST_NOTE_ON])) for row in tokens])
    return (onsets >= np.maximum(MIN_NOTES, np.ceil(MIN_NOTES_KEPT * before))) & (pitches >= MIN_PITCHES)


def onset_f1(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Rhythm kept: F1 of onset steps (whatever the pitch) of token windows b [B, T] against a [B, T] -> [B]."""
    oa, ob = np.asarray(a) >= FIRST_NOTE_ON, np.asarray(b) >= FIRST_NOTE_ON
    both = (oa & ob).sum(axis=1)
    total = oa.sum(axis=1) + ob.sum(axis=1)
    return np.where(total > 0, 2 * both / np.maximum(total, 1), 1.0)


def balanced_accuracy(pred: np.ndarray, labels: np.ndarray, num: int) -> float:
    """Mean over classes present in labels of the share predicted right."""
    accs = [float((pred[labels == c] == c).mean()) for c in range(num) if (labels == c).any()]
    return float(np.mean(accs)) if accs else float("nan")


def measure_style_moves(model, styles: StyleModel, mu: np.ndarray, labels: np.ndarray, n: int = 200,
                        amount: float = 1.0, seed: int = 0) -> dict[str, dict]:
    """For each target style: share of melodies from other styles recognised as the target, before and after a move.

    Takes n windows' mu [N, Z] (with style index [N]) not of the target style, decodes them as they are
    (before), moved from their own style's centroid to the target's by `amount` (after), moved inside
    the discriminant subspace (after_subspace, StyleModel.move_subspace) and by the steered move the app
    makes (after_steered, steer_style), re-encodes all, and classifies the new mu. steered_rhythm_kept: mean
    onset F1 (onset steps, any pitch) of the steered melody against the unmoved one. `model` needs decode(z) -> tokens and encode(tokens) -> (mu, sigma).
    """
    rng = np.random.default_rng(seed)
    out = {}
    for t, name in enumerate(styles.names):
        pool = np.nonzero(labels != t)[0]
        if not len(pool):
            continue
        rows = rng.choice(pool, size=min(n, len(pool)), replace=False)
        z0 = np.asarray(mu[rows], dtype=np.float32)
        src = labels[rows]
        moved = z0 + amount * (styles.centroids[t] - styles.centroids[src])
        sub = styles.move_subspace(z0, name, amount)
        steered = steer_style(model, styles, z0, name, amount)
        z = np.concatenate([z0, moved, sub, steered])
        decoded = model.decode(z)
        again = model.encode(decoded)[0]
        pred = styles.predict(again)
        m = len(z0)
        rhythm = onset_f1(decoded[:m], decoded[3 * m :])
        out[name] = {"before": float((pred[:m] == t).mean()), "after": float((pred[m : 2 * m] == t).mean()),
                     "after_subspace": float((pred[2 * m : 3 * m] == t).mean()),
                     "after_steered": float((pred[3 * m :] == t).mean()),
                     "steered_rhythm_kept": float(rhythm.mean()),
                     "moved_latent": float((styles.predict(moved) == t).mean()),
                     "moved_latent_subspace": float((styles.predict(sub) == t).mean()), "n": m}
    return out


# --- what a tune is: its style's name --------------------------------------------------------------------
# Styles are named by what the tunes are (step 22), not by the books they come from: a title that says what it
# is ("Miss Kelly's -- Reel", "Mrs Bell's Strathspey") decides; else the book's own numbering where it groups
# tunes by kind (O'Neill's 1850), else the meter. Each rule is (words in the title, style).
REELS, JIGS, HORNPIPES, STRATHSPEYS, MARCHES, AIRS = "Reels", "Jigs", "Hornpipes", "Strathspeys", "Marches", "Airs"
GERMAN_FOLK, CHINESE_FOLK, CHORALES = "German folk songs", "Chinese folk songs", "Chorales"
GENRES = (REELS, JIGS, HORNPIPES, STRATHSPEYS, MARCHES, AIRS, GERMAN_FOLK, CHINESE_FOLK, CHORALES)
TITLE_WORDS = (  # first match wins: "Clog Hornpipe" is a hornpipe, "The Jig of Slurs" a jig
    (("hornpipe", "hornpipes", "clog", "clogs"), HORNPIPES),
    (("strathspey", "strathsy", "strathspy", "fling"), STRATHSPEYS),
    (("jig", "jigs", "slipjig", "slide"), JIGS),
    (("reel", "reels", "rant"), REELS),
    (("march", "quickstep"), MARCHES),
    (("air", "lament", "song", "waltz", "planxty", "lullaby", "minuet"), AIRS),
)
# O'Neill's Music of Ireland (1850 melodies) numbers its tunes by kind; its titles rarely say it. Read from the
# book's `R:` fields where it has them (1,016 of 2,009 tunes): (last number of the section, style).
ONEILLS_SECTIONS = ((699, AIRS), (1175, JIGS), (1555, REELS), (1780, HORNPIPES), (1850, MARCHES))
JIG_METERS = ("6/8", "9/8", "12/8", "6/4", "9/4", "12/16")
SLOW_METERS = ("3/4", "3/8", "3/2", "5/4")
DANCE_BOOKS = ("oneills", "ryans", "airds")  # the music21 books of fiddle tunes and airs


WORD = re.compile(r"[a-z]+")


def genre(meta: dict) -> str:
    """The style a corpus tune belongs to, from its metadata (collection, title, meter, number, source): 'Reels',
    'Jigs', 'Hornpipes', 'Strathspeys', 'Marches', 'Airs', 'German folk songs', 'Chinese folk songs' (the Essen
    collection's Han songs), 'Chorales' (Bach); a tune of any other collection (your own, Pop, a MIDI folder)
    keeps its collection's name."""
    coll = meta.get("collection", "")
    if coll == "bach":
        return CHORALES
    if coll == "essen":  # the Essen collection's Han songs are Chinese; the rest German-language folk songs
        return CHINESE_FOLK if str(meta.get("source", "")).replace("\\", "/").rsplit("/", 1)[-1].startswith(
            "han") else GERMAN_FOLK
    if coll not in DANCE_BOOKS:
        return coll
    words = set(WORD.findall(str(meta.get("title", "")).lower()))
    for keys, style in TITLE_WORDS:
        if words.intersection(keys):
            return style
    meter = str(meta.get("meter", ""))
    if coll == "oneills":
        number = re.match(r"\d+", str(meta.get("number", "")))
        if number:
            for last, style in ONEILLS_SECTIONS:
                if int(number.group()) <= last:
                    return style
    if coll == "airds" or meter in SLOW_METERS:  # Aird's untitled tunes are its airs and songs
        return AIRS
    if meter in JIG_METERS:
        return JIGS
    return HORNPIPES if meter == "2/4" and coll == "ryans" else REELS


# Map colours of the styles (Pop and your own collections too), one each; a name not listed takes one of PALETTE
STYLE_COLORS = {REELS: "#2ca02c", JIGS: "#bcbd22", HORNPIPES: "#8c564b", STRATHSPEYS: "#e377c2",
                MARCHES: "#7f7f7f", AIRS: "#9467bd", GERMAN_FOLK: "#1f77b4", CHINESE_FOLK: "#17becf",
                CHORALES: "#d62728", "Pop": "#ff7f0e", "midi": "#17becf"}
PALETTE = ("#e4572e", "#29335c", "#f3a712", "#669bbc", "#a8c686", "#6a4c93", "#1982c4", "#8ac926")


def style_color(name: str) -> str:
    """The map colour of a style or collection name: its own (STYLE_COLORS), else one of PALETTE picked by the
    name (the same name always gets the same colour)."""
    if name in STYLE_COLORS:
        return STYLE_COLORS[name]
    import zlib

    return PALETTE[zlib.crc32(str(name).encode()) % len(PALETTE)]


# The names styles had before step 22 (the music21 books): still accepted wherever a style is named (an old link,
# a script), each meaning the style most of that book's tunes now belong to (StyleModel.aliases).
OLD_NAMES = {"essen": "Essen (German folk)", "oneills": "O'Neill's 1850 (Irish)",
             "ryans": "Ryan's Mammoth (American/Irish)",
             "airds": "Aird's Airs (Scottish)", "bach": "Bach chorales (soprano)"}


def book_aliases(collections: list[str], styles: list[str], counts: np.ndarray | None = None) -> dict[str, str]:
    """Old style names -> new: each book name (and its old label) -> the style holding most of its tunes (or windows,
    `counts` [N] per tune). collections [N] and styles [N]: each tune's collection and style."""
    weight = np.ones(len(collections)) if counts is None else np.asarray(counts, np.float64)
    tally: dict[str, dict[str, float]] = {}
    for c, s, w in zip(collections, styles, weight, strict=True):
        if c in OLD_NAMES:
            tally.setdefault(c, {}).setdefault(s, 0.0)
            tally[c][s] += w
    out = {}
    for c, t in tally.items():
        best = max(sorted(t), key=lambda s: t[s])
        out[c] = out[OLD_NAMES[c]] = best
    return out


class StyleNames(list):
    """The style names (what menus list) that also answer `in` for an old name (StyleModel.aliases), so a check
    like `name in space.style_names` accepts what an old link or script sends."""

    def __init__(self, names, aliases: dict[str, str] | None = None):
        super().__init__(names)
        self.aliases = dict(aliases or {})

    def __contains__(self, name) -> bool:
        return list.__contains__(self, name) or list.__contains__(self, self.aliases.get(name, None))
