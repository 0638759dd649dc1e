"""Child process of the `training` section: training steps of a preset, timed; prints one JSON line.

Runs in its own process because OMP_WAIT_POLICY must be set before torch loads. Each step is
vae.train.train_step, the one training runs (forward with beta and free bits, the attribute regulariser,
backward, clip, Adam), on random training batches at the end of the KL warm-up.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from contextlib import nullcontext


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--corpus", required=True)
    p.add_argument("--preset", default="default")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--bf16", action="store_true")
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--max-seconds", type=float, default=60.0, help="stop timing after this long, whatever the steps")
    a = p.parse_args()

    import numpy as np
    import torch

    from vae.config import get_preset
    from vae.corpus import TRAIN, Corpus
    from vae.model import MelodyVAE
    from vae.train import attribute_targets, train_step

    torch.set_num_threads(a.threads)
    preset = get_preset(a.preset)
    tcfg = preset.train
    corpus = Corpus.load(a.corpus)
    train = torch.from_numpy(corpus.subset(TRAIN).astype(np.int64))
    attrs = torch.from_numpy(attribute_targets(corpus, tcfg.attr_names, TRAIN))
    torch.manual_seed(0)
    model = MelodyVAE(preset.model).train()
    opt = torch.optim.Adam(model.parameters(), lr=tcfg.lr)
    autocast = (lambda: torch.autocast(device_type="cpu", dtype=torch.bfloat16)) if a.bf16 else nullcontext
    gen = torch.Generator().manual_seed(0)

    def step():
        idx = torch.randint(len(train), (tcfg.batch_size,), generator=gen)
        train_step(model, opt, train[idx], attrs[idx], tcfg, tcfg.beta_warmup_steps, autocast)

    t0 = time.perf_counter()
    done = 0
    while done < a.warmup and time.perf_counter() - t0 < a.max_seconds / 3:
        step()
        done += 1
    warm = time.perf_counter() - t0
    steps, t0 = 0, time.perf_counter()
    while steps < a.steps and (steps == 0 or time.perf_counter() - t0 < a.max_seconds):
        step()
        steps += 1
    s = time.perf_counter() - t0
    print(json.dumps({"steps": steps, "seconds": round(s, 3), "warmup_seconds": round(warm, 3),
                      "windows_per_s": round(steps * tcfg.batch_size / s, 1), "batch_size": tcfg.batch_size,
                      "threads": torch.get_num_threads(), "bf16": a.bf16,
                      "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "(unset)")}))


if __name__ == "__main__":
    main()
