"""The landing's files hold customer data (names, e-mail addresses, phone numbers): only their
owner may read them, whatever the umask.

DuckDB creates the database file, its write-ahead log and its spill folder with the process
umask (0644 under the usual 022) and has no setting for their mode. Creating them beforehand
does not help: DuckDB refuses an empty database file, and it deletes the write-ahead log at
every checkpoint and creates it again at the next commit. So while a landing connection is
open the process umask also masks group and others (:class:`OwnerOnlyUmask`); and files that
exist from before (created by an older version or another tool) are narrowed to the owner when
the writer opens them (:func:`narrow_to_owner`).
"""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700
_GROUP_AND_OTHERS = 0o077


def companions(db_path: Path) -> list[Path]:
    """The database file and what DuckDB keeps beside it: write-ahead log, spill folder."""
    return [db_path, Path(f"{db_path}.wal"), Path(f"{db_path}.tmp")]


def make_folder(folder: Path) -> None:
    """Create ``folder`` (0700) if missing; an existing one is the user's choice and kept."""
    folder.mkdir(parents=True, exist_ok=True, mode=PRIVATE_FOLDER)


def narrow_to_owner(db_path: Path) -> None:
    """Take group and others' access away from the landing's existing files."""
    for path in companions(db_path):
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            continue
        if stat.S_IMODE(mode) & _GROUP_AND_OTHERS:
            os.chmod(path, PRIVATE_FOLDER if stat.S_ISDIR(mode) else PRIVATE_FILE)


class OwnerOnlyUmask:
    """Keeps the process umask masking group and others while anyone holds it.

    The umask is the process's: holders (each open landing connection of this process) are
    counted, and the umask found before the first is put back after the last. Files other
    threads create meanwhile are owner-only too, which never loosens anything.
    """

    _lock = threading.Lock()
    _holders = 0
    _saved = 0

    @classmethod
    def hold(cls) -> None:
        with cls._lock:
            if cls._holders == 0:
                cls._saved = os.umask(_GROUP_AND_OTHERS)
                os.umask(cls._saved | _GROUP_AND_OTHERS)
            cls._holders += 1

    @classmethod
    def release(cls) -> None:
        with cls._lock:
            cls._holders -= 1
            if cls._holders == 0:
                os.umask(cls._saved)
