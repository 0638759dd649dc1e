"""Command line: `python -m vae {corpus build, train, evaluate, sample, interpolate}`."""

import os

# Before torch loads: without it, 2 torch threads on 2 shared cores can run 30x slower.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from vae.cli import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())
