"""Folders the reliability cases break on purpose (root only): a tiny tmpfs to fill, and a
read-only bind mount that binds root too, unlike file modes. Skipped with the reason when the
machine does not allow mounting."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest


@contextmanager
def mounted(folder: Path, *mount_args: str) -> Iterator[Path]:
    """``mount MOUNT_ARGS FOLDER`` for the duration of the block."""
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", *mount_args, str(folder)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount {' '.join(mount_args)}: {done.stderr.strip()}")
    try:
        yield folder
    finally:
        # Lazily: a child that outlived its test must not leave the mount behind.
        subprocess.run(["umount", "--lazy", str(folder)], check=True)


def small_disk(folder: Path, size: str) -> AbstractContextManager[Path]:
    """A tmpfs of ``size`` (e.g. ``"6m"``) at ``folder``; grow it with a remount."""
    return mounted(folder, "-t", "tmpfs", "-o", f"size={size}", "tmpfs")


def read_only_folder(folder: Path) -> AbstractContextManager[Path]:
    """``folder`` as a read-only bind mount of itself."""
    return mounted(folder, "--bind", "-o", "ro", str(folder))
