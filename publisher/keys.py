"""Make a fresh install work without setup: generate missing keys once, into ``var/``.

An explicit WARTA_SECRET_KEY / WARTA_ENCRYPTION_KEY always wins; production should set both.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet

from publisher.config import Settings


def _read_or_create(path: Path, make: callable) -> str:  # type: ignore[valid-type]
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = make()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
    return value


def ensure_keys(settings: Settings, var_dir: Path = Path("var")) -> Settings:
    secret = settings.secret_key or _read_or_create(var_dir / "secret.key",
                                                    lambda: secrets.token_urlsafe(48))
    enc = settings.encryption_key or _read_or_create(var_dir / "encryption.key",
                                                     lambda: Fernet.generate_key().decode())
    return settings.with_(secret_key=secret, encryption_key=enc)
