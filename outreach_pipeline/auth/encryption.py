"""Encryption at rest for the token store: Fernet (AES-128-CBC + HMAC-SHA256) with its key
derived by scrypt from ``OUTREACH_TOKEN_ENCRYPTION_KEY`` and a random salt kept beside the
ciphertext, so any passphrase works and the same passphrase gives different keys per file."""

from __future__ import annotations

import base64
import os
import threading

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from outreach_pipeline.auth.errors import TokenStoreError
from outreach_pipeline.settings import Secret

SALT_BYTES = 16
# scrypt cost: ~50 ms per derivation; derived keys are cached per salt for the process.
SCRYPT_N = 2**14


class StoreCipher:
    def __init__(self, passphrase: Secret) -> None:
        self._passphrase = passphrase
        self._lock = threading.Lock()
        self._keys: dict[bytes, Fernet] = {}

    def __repr__(self) -> str:
        return "StoreCipher(***)"

    @staticmethod
    def new_salt() -> bytes:
        return os.urandom(SALT_BYTES)

    def _fernet(self, salt: bytes) -> Fernet:
        with self._lock:
            if salt not in self._keys:
                kdf = Scrypt(salt=salt, length=32, n=SCRYPT_N, r=8, p=1)
                key = kdf.derive(self._passphrase.reveal().encode())
                self._keys[salt] = Fernet(base64.urlsafe_b64encode(key))
            return self._keys[salt]

    def encrypt(self, plaintext: bytes, salt: bytes) -> bytes:
        return self._fernet(salt).encrypt(plaintext)

    def decrypt(self, ciphertext: bytes, salt: bytes) -> bytes:
        try:
            return self._fernet(salt).decrypt(ciphertext)
        except InvalidToken:
            raise TokenStoreError(
                "the token store does not decrypt with OUTREACH_TOKEN_ENCRYPTION_KEY "
                "(wrong key, or the file was altered)"
            ) from None
