"""Virtual environments for peer connectors, built once per machine and reused.

Peers are installed from PyPI with uv into a cache folder outside the repository, each with the
Python it supports (Airbyte's connector needs 3.10), so their dependencies never meet ours.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path

CACHE_ROOT = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "outreach-pipeline"


class PeerUnavailable(RuntimeError):
    """The peer cannot be installed here (no suitable Python, or its install failed)."""


def find_python(version: str) -> Path:
    """A local interpreter of ``version`` (e.g. ``3.10``): pyenv's, then one on PATH."""
    pyenv_root = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
    installed = sorted(glob.glob(f"{pyenv_root}/versions/{version}.*/bin/python"))
    if installed:
        return Path(installed[-1])
    on_path = shutil.which(f"python{version}")
    if on_path and subprocess.run([on_path, "-V"], capture_output=True).returncode == 0:
        return Path(on_path)
    raise PeerUnavailable(f"no Python {version} found (pyenv or python{version} on PATH)")


def peer_venv(name: str, python_version: str, requirements: list[str]) -> Path:
    """The venv for ``name`` with ``requirements`` installed, created on first use."""
    venv = CACHE_ROOT / "peers" / name
    marker = venv / ".installed"
    wanted = "\n".join(requirements)
    if marker.is_file() and marker.read_text() == wanted:
        return venv
    uv = shutil.which("uv")
    if uv is None:
        raise PeerUnavailable("uv is not on PATH")
    python = find_python(python_version)
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    env.pop("VIRTUAL_ENV", None)
    steps = [
        [uv, "venv", "--quiet", "--clear", "--python", str(python), str(venv)],
        [uv, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), *requirements],
    ]
    for step in steps:
        done = subprocess.run(step, env=env, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise PeerUnavailable(f"{' '.join(step[:3])} failed: {done.stderr[-2000:]}")
    marker.write_text(wanted)
    return venv
