"""The house's one direction: ui -> serve -> session -> media, latent -> vae, read from every module's imports.

Each module's imports (at the top, inside functions and under TYPE_CHECKING alike) are parsed, not run. A
module may import its own room and any room below it; nothing in vae/ imports explorer/, and only explorer/ui/
imports gradio.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# room -> rank: a module may import a room of a lower rank, or its own room
RANKS = {"vae": 0, "errors": 1, "latent": 2, "media": 2, "session": 3, "serve": 4, "tools": 4, "ui": 5}


def room(module: str) -> str | None:
    """The room of a dotted module name of this repository, None for anything else (numpy, gradio, ...)."""
    parts = module.split(".")
    if parts[0] == "vae":
        return "vae"
    if parts[0] != "explorer":
        return None
    if len(parts) == 1 or parts[1] in ("__init__", "__main__", "report"):
        return "tools"  # the package's lazy exports and the command line (python -m explorer report)
    if parts[1] == "errors":
        return "errors"  # UserError: a sentence for a musician, raised in every room
    return parts[1] if parts[1] in RANKS else "tools"


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, dotted module) of every import in a file; `from pkg import mod` names the submodule when it is one."""
    out = []
    package = module_name(path).rsplit(".", 1)[0] if path.name != "__init__.py" else module_name(path)[:-9]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the file's package
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for a in node.names:
                sub = f"{base}.{a.name}"
                as_path = ROOT.joinpath(*sub.split("."))
                out.append((node.lineno, sub if as_path.with_suffix(".py").exists() or as_path.is_dir() else base))
    return out


def violations(files: dict[str, list[tuple[int, str]]]) -> list[str]:
    """Every import against the direction: {module: [(line, imported module)]} -> sentences."""
    bad = []
    for module, found in files.items():
        mine = room(module)
        for line, target in found:
            theirs = room(target)
            if target.split(".")[0] == "gradio" and not module.startswith("explorer.ui"):
                bad.append(f"{module}:{line} imports gradio outside explorer/ui/")
            if mine is None or theirs is None or theirs == mine:
                continue
            if RANKS[theirs] >= RANKS[mine]:
                bad.append(f"{module}:{line} ({mine}) imports {target} ({theirs}): against ui -> serve -> session "
                           f"-> media, latent -> vae")
    return bad


def repository_imports() -> dict[str, list[tuple[int, str]]]:
    paths = sorted((ROOT / "explorer").rglob("*.py")) + sorted((ROOT / "vae").rglob("*.py"))
    return {module_name(p): imports(p) for p in paths}


def test_every_import_follows_the_direction():
    found = repository_imports()
    assert len(found) > 60 and any(m.startswith("explorer.session.") for m in found)
    assert violations(found) == []


def test_benchmarks_build_their_gradio_apps_through_the_ui_package():
    """bench/ builds Gradio apps (an echo floor, the old drag wiring) from explorer.ui.levers, never with gradio itself."""
    found = {module_name(p): imports(p) for p in sorted((ROOT / "bench").rglob("*.py"))}
    assert len(found) > 20
    assert [b for b in violations(found) if "gradio" in b] == []


def test_every_module_is_in_a_room():
    unplaced = [m for m in repository_imports() if m.startswith("explorer.") and room(m) == "tools"
                and m not in ("explorer.__init__", "explorer.__main__", "explorer.report")]
    assert unplaced == [], "a module of explorer/ outside latent, media, session, serve and ui"


@pytest.mark.parametrize("module, target", [
    ("explorer.latent.space", "explorer.session.state"),  # shared code reaching into a user's session
    ("explorer.media.figures", "explorer.latent.space"),  # siblings stay apart
    ("explorer.session.handlers", "explorer.serve.drag"),  # the old cycle: Handlers built the drags
    ("explorer.serve.routes", "explorer.ui.page"),
    ("vae.corpus", "explorer.latent.encoded"),
    ("explorer.session.melody", "gradio"),
])
def test_an_import_against_the_direction_is_caught(module, target):
    assert len(violations({module: [(1, target)]})) == 1


@pytest.mark.parametrize("module, target", [
    ("explorer.ui.page", "explorer.serve.routes"), ("explorer.serve.drag", "explorer.session.slider_move"),
    ("explorer.session.melody", "explorer.media.files"), ("explorer.session.melody", "explorer.latent.space"),
    ("explorer.latent.space", "vae.format"), ("explorer.media.files", "explorer.errors"),
    ("explorer.ui.page", "gradio"), ("explorer.report", "explorer.session.handlers"),
])
def test_an_import_along_the_direction_passes(module, target):
    assert violations({module: [(1, target)]}) == []


def test_the_checker_reads_imports_inside_functions():
    found = [t for _, t in imports(ROOT / "explorer" / "latent" / "space.py")]
    assert "explorer.latent.generation" in found  # `from explorer.latent import generation`
    assert "torch" in found  # inside default_threads
