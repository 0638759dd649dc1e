"""A non-editable install (a wheel) carries the shipped model; importing the packages does no work."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_wheel_ships_the_default_model(tmp_path):
    src = tmp_path / "src"  # a copy, so the build's scratch folders never land in the repository
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    for d in ("vae", "explorer"):
        shutil.copytree(ROOT / d, src / d, ignore=skip)
    for f in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / f, src / f)
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path)], check=True, capture_output=True, cwd=src)
    wheel = next(tmp_path.glob("melody_explorer-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for f in ("checkpoint.json", "model.safetensors", "controls.json"):
        assert f"vae/pretrained/default/{f}" in names, f"{f} missing from {wheel.name}"
    assert not any(n.startswith(("runs/", "checkpoints/", ".cache/")) for n in names)


def test_importing_the_packages_loads_neither_torch_nor_gradio():
    code = ("import sys, vae, explorer; assert 'torch' not in sys.modules and 'gradio' not in sys.modules; "
            "from vae import SHIPPED, MelodyFormat; from explorer import UserError; print(SHIPPED.name)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "default"
