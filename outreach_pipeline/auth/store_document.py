"""The stored form of a grant, shared by every token store: one JSON document, encrypted at
rest when a cipher is given (``{"format", "salt", "encrypted"}``, see :mod:`.encryption`).

A file and a PostgreSQL row hold the same bytes, so a grant moves between them as it is."""

from __future__ import annotations

import base64
import json
from typing import Any

from outreach_pipeline.auth.encryption import StoreCipher
from outreach_pipeline.auth.errors import TokenStoreError, login_command
from outreach_pipeline.auth.grant import Grant
from outreach_pipeline.settings import DEFAULT_GRANT

FORMAT_VERSION = 1


class GrantDocument:
    """Encodes and decodes one store's grant; ``where`` names the store in errors, and
    ``grant`` (its name) the login command they advise. The salt read is kept for the next
    save, so the key derived from it is derived once."""

    def __init__(
        self, where: str, cipher: StoreCipher | None = None, grant: str = DEFAULT_GRANT
    ) -> None:
        self.where = where
        self.cipher = cipher
        self.grant = grant
        self._salt: bytes | None = None

    def decode(self, raw: bytes | str) -> Grant:
        try:
            document = json.loads(raw)
            if "encrypted" in document:
                document = self._decrypted(document)
            return Grant.from_dict(document["grant"])
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise TokenStoreError(
                f"the token store {self.where} is not a readable grant "
                f"({type(error).__name__}); run `{login_command(self.grant)}` to store a new one"
            ) from None

    def _decrypted(self, envelope: dict[str, Any]) -> dict[str, Any]:
        if self.cipher is None:
            raise TokenStoreError(
                f"the token store {self.where} is encrypted; set OUTREACH_TOKEN_ENCRYPTION_KEY"
            )
        salt = base64.b64decode(envelope["salt"])
        self._salt = salt
        plaintext = self.cipher.decrypt(envelope["encrypted"].encode(), salt)
        return dict(json.loads(plaintext))

    def encode(self, grant: Grant) -> bytes:
        document: dict[str, Any] = {"format": FORMAT_VERSION, "grant": grant.to_dict()}
        if self.cipher is not None:
            if self._salt is None:
                self._salt = StoreCipher.new_salt()
            ciphertext = self.cipher.encrypt(json.dumps(document).encode(), self._salt)
            document = {
                "format": FORMAT_VERSION,
                "salt": base64.b64encode(self._salt).decode(),
                "encrypted": ciphertext.decode(),
            }
        return json.dumps(document, indent=1).encode()
