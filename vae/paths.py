"""Where things live: the shipped model, the committed resume point, the repository (no heavy imports)."""

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
REPO = PACKAGE.parent
SHIPPED = PACKAGE / "pretrained" / "default"  # the model that ships with the package
RESUME = REPO / "checkpoints" / "default-last"  # weights + Adam state to continue training the shipped model
