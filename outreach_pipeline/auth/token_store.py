"""Where the grant lives between runs: a small store interface and a JSON file behind it.

The file is separate from the analytical DuckDB file, mode 0600, replaced atomically (temp
file, fsync, rename, fsync of the directory) so a crash leaves the old grant or the new one,
never half of each. With a passphrase it is encrypted at rest (see :mod:`.encryption`).

``lock()`` serialises refreshes across threads and processes: whoever holds it may spend the
stored refresh token. A SQL backend would implement the same four methods (``lock`` as an
advisory lock or ``SELECT ... FOR UPDATE``).
"""

from __future__ import annotations

import base64
import json
import os
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Protocol

from filelock import FileLock

from outreach_pipeline.auth.encryption import StoreCipher
from outreach_pipeline.auth.errors import TokenStoreError
from outreach_pipeline.auth.grant import Grant
from outreach_pipeline.settings import Settings

FORMAT_VERSION = 1
FILE_MODE = 0o600


class TokenStore(Protocol):
    def load(self) -> Grant | None: ...

    def save(self, grant: Grant) -> None: ...

    def delete(self) -> bool: ...

    def lock(self) -> AbstractContextManager[None]:
        """Held while a refresh token is spent and its successor saved."""
        ...


class FileTokenStore:
    """The grant as one JSON document in ``path`` (encrypted when ``cipher`` is given)."""

    def __init__(self, path: Path, cipher: StoreCipher | None = None) -> None:
        self.path = Path(path)
        self._cipher = cipher
        self._salt: bytes | None = None
        self._thread_lock = threading.Lock()
        self._file_lock = FileLock(str(self.path) + ".lock", thread_local=False)

    def __repr__(self) -> str:
        return f"FileTokenStore({str(self.path)!r}, encrypted={self._cipher is not None})"

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
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            document = json.loads(raw)
            if "encrypted" in document:
                document = self._decrypted(document)
            return Grant.from_dict(document["grant"])
        except (ValueError, KeyError, TypeError) as error:
            raise TokenStoreError(
                f"the token store {self.path} is not a readable grant ({type(error).__name__})"
            ) from None

    def _decrypted(self, envelope: dict[str, Any]) -> dict[str, Any]:
        if self._cipher is None:
            raise TokenStoreError(
                f"the token store {self.path} is encrypted; set OUTREACH_TOKEN_ENCRYPTION_KEY"
            )
        salt = base64.b64decode(envelope["salt"])
        self._salt = salt
        plaintext = self._cipher.decrypt(envelope["encrypted"].encode(), salt)
        return dict(json.loads(plaintext))

    def save(self, grant: Grant) -> None:
        document: dict[str, Any] = {"format": FORMAT_VERSION, "grant": grant.to_dict()}
        if self._cipher is not None:
            if self._salt is None:
                self._salt = StoreCipher.new_salt()
            ciphertext = self._cipher.encrypt(json.dumps(document).encode(), self._salt)
            document = {
                "format": FORMAT_VERSION,
                "salt": base64.b64encode(self._salt).decode(),
                "encrypted": ciphertext.decode(),
            }
        try:
            write_atomically(self.path, json.dumps(document, indent=1).encode())
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


def open_token_store(settings: Settings) -> FileTokenStore:
    """The store the settings name, encrypted when ``OUTREACH_TOKEN_ENCRYPTION_KEY`` is set."""
    key = settings.token_encryption_key
    return FileTokenStore(settings.token_store_path, StoreCipher(key) if key else None)
