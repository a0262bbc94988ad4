"""Channel credentials are encrypted at rest with Fernet (key from WARTA_ENCRYPTION_KEY)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from cryptography.fernet import Fernet, InvalidToken


class CredentialBox:
    def __init__(self, key: str) -> None:
        try:
            self._fernet = Fernet(key.encode() if isinstance(key, str) else key)
        except (ValueError, TypeError):
            raise ValueError("WARTA_ENCRYPTION_KEY is not a valid Fernet key (generate one with "
                             "python -c 'from cryptography.fernet import Fernet; "
                             "print(Fernet.generate_key().decode())').") from None

    def seal(self, credentials: Mapping[str, Any]) -> bytes:
        return self._fernet.encrypt(json.dumps(dict(credentials), sort_keys=True).encode())

    def open(self, token: bytes) -> dict[str, Any]:
        try:
            return json.loads(self._fernet.decrypt(bytes(token)))
        except InvalidToken:
            raise ValueError("The channel's credentials cannot be decrypted: "
                             "WARTA_ENCRYPTION_KEY changed since they were saved.") from None
