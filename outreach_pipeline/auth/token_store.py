"""Where the grant lives between runs: a small store interface and a JSON file behind it.

The file is separate from the analytical DuckDB file, mode 0600, replaced atomically (temp
file, fsync, rename, fsync of the directory) so a crash leaves the old grant or the new one,
never half of each. With a passphrase it is encrypted at rest (see :mod:`.encryption`). A store
(or its lock file) found readable or writable by others is made private again, with a warning
that its tokens may have been read; one whose mode cannot be repaired is refused.

``lock()`` serialises refreshes across threads and processes: whoever holds it may spend the
stored refresh token. :mod:`.postgres_store` implements the same four methods on PostgreSQL
(``lock`` as ``SELECT ... FOR UPDATE``), for workers on several hosts.
"""

from __future__ import annotations

import logging
import os
import stat
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Protocol

from filelock import FileLock

from outreach_pipeline.auth.encryption import StoreCipher
from outreach_pipeline.auth.errors import TokenStoreError, login_command
from outreach_pipeline.auth.grant import Grant
from outreach_pipeline.auth.store_document import GrantDocument
from outreach_pipeline.postgres_url import PostgresUrl
from outreach_pipeline.settings import (
    DEFAULT_GRANT,
    GRANTS_FOLDER,
    Secret,
    Settings,
    grant_file,
    grant_name_problem,
)

log = logging.getLogger(__name__)

FILE_MODE = 0o600


class TokenStore(Protocol):
    """Where the grant lives between runs. ``load`` gives None when there is none, ``delete``
    says whether there was one, and ``lock`` is held by whoever spends the stored refresh
    token until its successor is saved (single-use rotation allows one spender)."""

    def load(self) -> Grant | None: ...

    def save(self, grant: Grant) -> None: ...

    def delete(self) -> bool: ...

    def lock(self) -> AbstractContextManager[None]:
        """Held while a refresh token is spent and its successor saved."""
        ...


class FileTokenStore:
    """The grant ``grant`` as one JSON document in ``path`` (encrypted when ``cipher`` is
    given)."""

    def __init__(
        self, path: Path, cipher: StoreCipher | None = None, grant: str = DEFAULT_GRANT
    ) -> None:
        self.path = Path(path)
        self._document = GrantDocument(str(self.path), cipher, grant)
        self._thread_lock = threading.Lock()
        self._file_lock = FileLock(str(self.path) + ".lock", mode=FILE_MODE, thread_local=False)

    def __repr__(self) -> str:
        return f"FileTokenStore({str(self.path)!r}, encrypted={self._document.cipher is not None})"

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Held by one thread of one process at a time (a thread lock, then a file lock)."""
        with self._thread_lock:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._file_lock.acquire()
            except OSError as error:
                raise self._unwritable(error) from None
            try:
                # A lock file made by an older version or another tool may be world-readable.
                keep_private(Path(self._file_lock.lock_file))
                yield
            finally:
                self._file_lock.release()

    def _unwritable(self, error: OSError) -> TokenStoreError:
        """A read-only or missing folder is the user's to fix: say which, not a traceback."""
        return TokenStoreError(
            f"cannot write the token store {self.path} ({error.strerror}); point "
            "OUTREACH_TOKEN_STORE to a writable folder and try again"
        )

    def load(self) -> Grant | None:
        raw = self._read()
        return None if raw is None else self._document.decode(raw)

    def _read(self) -> bytes | None:
        """The file's bytes (None when there is none), after making sure it is a private file."""
        try:
            # Non-blocking: a FIFO put in its place must not hang the reader.
            descriptor = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)
        except FileNotFoundError:
            return None
        except OSError as error:
            raise self._unreadable(error) from None
        try:
            if not stat.S_ISREG(os.fstat(descriptor).st_mode):
                raise TokenStoreError(
                    f"the token store {self.path} is not a file; point OUTREACH_TOKEN_STORE at "
                    f"a file path (`{login_command(self._document.grant)}` creates it)"
                )
            keep_private(self.path, descriptor, self._document.grant)
            with os.fdopen(descriptor, "rb", closefd=False) as handle:
                return handle.read()
        except OSError as error:
            raise self._unreadable(error) from None
        finally:
            os.close(descriptor)

    def _unreadable(self, error: OSError) -> TokenStoreError:
        return TokenStoreError(
            f"cannot read the token store {self.path} ({error.strerror}); make it readable "
            "by this user or point OUTREACH_TOKEN_STORE elsewhere"
        )

    def save(self, grant: Grant) -> None:
        try:
            write_atomically(self.path, self._document.encode(grant))
        except OSError as error:
            raise self._unwritable(error) from None

    def delete(self) -> bool:
        try:
            self.path.unlink()
        except FileNotFoundError:
            return False
        except OSError as error:
            raise self._unwritable(error) from None
        return True


def keep_private(path: Path, descriptor: int | None = None, grant: str = DEFAULT_GRANT) -> None:
    """Make ``path`` (open as ``descriptor``, if given: the store of ``grant`` itself) mode
    0600 again if others may read or write it, with a warning; :class:`TokenStoreError` when
    that is not allowed."""
    try:
        info = path.stat() if descriptor is None else os.fstat(descriptor)
        mode = stat.S_IMODE(info.st_mode)
        if not mode & 0o077:
            return
        if descriptor is None:
            os.chmod(path, FILE_MODE)
        else:
            os.fchmod(descriptor, FILE_MODE)
    except OSError as error:
        raise TokenStoreError(
            f"{path} is open to other users and cannot be made private ({error.strerror}); "
            f"run `chmod 600 {path}` as its owner"
        ) from None
    exposed = (
        ""
        if descriptor is None
        else "; if others can log in here, its tokens may have been read: run "
        f"`{login_command(grant)}` for a new grant"
    )
    log.warning(
        "%s was open to other users (mode %03o); made it private (600)%s", path, mode, exposed
    )


def write_atomically(path: Path, content: bytes) -> None:
    """Replace ``path`` with ``content``: readers see the old file or the new one, mode 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.fchmod(descriptor, FILE_MODE)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def open_token_store(settings: Settings) -> TokenStore:
    """The store the settings name for their grant: the grant's JSON file, or its row on
    PostgreSQL when ``OUTREACH_TOKEN_STORE`` is a ``postgresql://`` URL; encrypted when
    ``OUTREACH_TOKEN_ENCRYPTION_KEY`` is set."""
    key = settings.token_encryption_key
    cipher = StoreCipher(Secret(key.get_secret_value())) if key is not None else None
    location = settings.token_store_path
    if isinstance(location, PostgresUrl):
        # Imported here: the file store's users never load the PostgreSQL driver.
        from outreach_pipeline.auth.postgres_store import PostgresTokenStore

        return PostgresTokenStore(location, settings.grant, cipher)
    return FileTokenStore(grant_file(location, settings.grant), cipher, settings.grant)


def stored_grant_names(settings: Settings) -> list[str]:
    """The grants the settings' store holds, sorted, ``default`` first when it is stored: on
    PostgreSQL the rows holding a grant; in files the default grant's file, then each
    ``grants/<name>/`` folder holding a token file."""
    default_path = settings.token_store_path
    if isinstance(default_path, PostgresUrl):
        from outreach_pipeline.auth.postgres_store import stored_names

        return stored_names(default_path)
    names = [DEFAULT_GRANT] if default_path.is_file() else []
    folder = default_path.parent / GRANTS_FOLDER
    if folder.is_dir():
        names += sorted(
            entry.name
            for entry in folder.iterdir()
            if grant_name_problem(entry.name) is None
            and entry.name != DEFAULT_GRANT
            and (entry / default_path.name).is_file()
        )
    return names
