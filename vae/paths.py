"""Where things live: the shipped model, the committed resume point, the repository (no heavy imports)."""

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
REPO = PACKAGE.parent
SHIPPED = PACKAGE / "pretrained" / "default"  # the model that ships with the package
RESUME = REPO / "checkpoints" / "default-last"  # weights + Adam state to continue training the shipped model


def portable(path: Path | str) -> str:
    """A path as recorded in a checkpoint or a score file: relative to the repository when inside it, else its
    name only (never a machine's absolute path)."""
    p = Path(path).resolve()
    try:
        return str(p.relative_to(REPO))
    except ValueError:
        return p.name
