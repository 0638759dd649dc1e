"""Section `quality`: held-out reconstruction, Yang–Lerch feature match of prior samples, interpolation smoothness."""

from __future__ import annotations

import numpy as np

from bench.context import Context, Section, Stopwatch
from bench.quality import always_hold_baseline, interpolation_smoothness, random_token_baseline, yang_lerch


def run(ctx: Context) -> Section:
    from vae.corpus import TEST, TRAIN
    from vae.evaluate import evaluate

    sec = Section("quality")
    t = Stopwatch()
    limit = 1000 if ctx.quick else None
    scores = evaluate(ctx.checkpoint, corpus_dir=ctx.full_corpus_dir, split="test", limit=limit)
    sec.data["evaluate"] = scores
    note = f"{scores['windows']} test windows"
    sec.add("teacher-forced token accuracy", scores["teacher_forced_accuracy"], ge=0.95, note=note)
    sec.add("greedy token accuracy (from mu)", scores["greedy_accuracy"], ge=0.90, note=note)
    sec.add("greedy note-event accuracy", scores["greedy_event_accuracy"], ge=0.75, note=note)
    sec.add("  same, decoded from a shuffled z", scores["greedy_event_accuracy_shuffled_z"],
            note="what a decoder ignoring z scores")
    sec.add("always-hold baseline accuracy", scores["always_hold_baseline"])
    sec.add("KL (nats) / active units", f"{scores['kl_nats']:.1f} / {scores['active_units']}/{scores['latent_dim']}")

    # Yang & Lerch: prior samples against held-out windows, with a ceiling (training windows) and two floors.
    n = 300 if ctx.quick else 1000
    model = ctx.model()
    corpus = ctx.full_corpus()
    rng = np.random.default_rng(0)
    test = corpus.subset(TEST).astype(np.int64)
    train = corpus.subset(TRAIN).astype(np.int64)
    ref = test[rng.choice(len(test), size=min(n, len(test)), replace=False)]
    steps = ref.shape[1]
    sets = {"corpus: training windows (ceiling)": train[rng.choice(len(train), size=n, replace=False)],
            "model: reconstructions of the test windows": model.reconstruct(ref)}
    for temp in (1.0, 0.5, 0.0):
        sets[f"model: prior samples, temperature {temp:g}"] = model.sample(n, temperature=temp, seed=1)[1]
    # what Random plays (explorer.latent.space.LatentSpace.sample), side by side with the prior: draws from the Gaussian of the
    # training windows' latents.
    from explorer.latent.generation import gaussian_draw, gaussian_fit

    fit_rows = train[rng.choice(len(train), size=min(20480, len(train)), replace=False)]
    gauss = gaussian_fit(np.concatenate([model.encode(fit_rows[i : i + 1024])[0] for i in range(0, len(fit_rows), 1024)]))
    for temp in (0.5, 0.0):
        z = gaussian_draw(n, *gauss, seed=1)
        sets[f"model: the latents' Gaussian (Random), temperature {temp:g}"] = model.decode(z, temp, 1)
    sets["baseline: random tokens"] = random_token_baseline(n, steps, seed=2)
    sets["baseline: always hold"] = always_hold_baseline(n, steps)
    yl = {}
    for i, (name, gen) in enumerate(sets.items()):
        yl[name] = yang_lerch(ref, gen)
        m = yl[name]["mean"]
        sec.add(f"Yang–Lerch {name}", f"OA {m['overlap_area']:.3f} / KL {m['kl']:.3f}",
                note="" if i else f"mean of 7 features; {n} melodies vs {len(ref)} held-out test windows; "
                                  "OA near 1 and KL near 0 = distributed like held-out melodies")
    sec.data["yang_lerch"] = {"n": n, "reference": f"{len(ref)} test windows", "sets": yl}

    pairs = 10 if ctx.quick else 50
    smooth = interpolation_smoothness(model, test, pairs=pairs, steps=9)
    sec.data["interpolation"] = smooth
    sec.add("interpolation: share of monotonic blends", smooth["monotonic_share"], note=f"{pairs} test pairs, 9 steps")
    sec.add("interpolation: mean Spearman(distance, step)", smooth["mean_spearman"])
    sec.add("interpolation: endpoint token accuracy", smooth["endpoint_token_accuracy"])
    sec.data["seconds"] = round(t.s, 1)
    return sec
