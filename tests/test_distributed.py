"""Training on two processes with torchrun (DDP over gloo on this CPU): both ranks hold the same weights after
every run, the checkpoint holds them, and a resumed run continues from it."""

import os
import subprocess
import sys

import pytest

from vae.checkpoint import load_checkpoint, read_meta
from vae.distributed import weights_digest


def torchrun(corpus_dir, out, steps: int, resume: bool) -> None:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "vae", "train",
           "--preset", "tiny", "--corpus", str(corpus_dir), "--out", str(out), "--max-steps", str(steps),
           "--threads", "1", "--device", "cpu", *(["--resume"] if resume else [])]
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def digests(out) -> tuple[str, str]:
    return tuple((out / f"weights-rank{r}.sha256").read_text().strip() for r in (0, 1))


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_two_ranks_train_in_step_and_resume(small_corpus, tmp_path):
    out = tmp_path / "ddp"
    torchrun(small_corpus.path, out, 12, resume=False)
    first = digests(out)
    assert first[0] == first[1]  # the ranks agree after 12 steps on different windows
    model, meta = load_checkpoint(out / "last")
    assert meta["step"] == 12 and weights_digest(model) == first[0]  # and the checkpoint holds those weights
    run = [h for h in meta["extra"]["history"] if h.get("event") == "run"][-1]
    assert run["processes"] == 2
    torchrun(small_corpus.path, out, 20, resume=True)
    second = digests(out)
    assert second[0] == second[1] != first[0]
    assert read_meta(out / "last")["step"] == 20
