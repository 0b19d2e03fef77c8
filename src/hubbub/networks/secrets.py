"""Network credentials encrypted at rest: AES-256-GCM under a key that is
never in the database.

Where the key comes from, first match wins:

1. ``HUBBUB_ACCOUNTS_KEY``: 32 bytes, base64url (``hubbub account key`` prints one);
2. ``HUBBUB_ACCOUNTS_KEY_FILE``: a file holding such a key (created, mode 0600, if absent);
3. with SQLite, a file beside the database (``hubbub.db.accounts-key``), created
   on first use with mode 0600;
4. with PostgreSQL, nothing: a clear refusal (a key in the current folder
   would change from one start to the next and lock the accounts away).

Each ciphertext is bound (associated data) to its workspace, network and
account name, so a row copied onto another account does not decrypt.
``key_id`` (a fingerprint, not the key) is stored with each row so a wrong
key gives a clear error rather than a failed decryption deep in a source.

The session key's file (``hubbub.settings``) follows the same rules; this
module has its own small reader so the two keys can be rotated separately.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.engine import make_url

from hubbub.keyfiles import KeyFileError, read_or_create

KEY_BYTES = 32
NONCE_BYTES = 12
ENV_KEY = "HUBBUB_ACCOUNTS_KEY"
ENV_KEY_FILE = "HUBBUB_ACCOUNTS_KEY_FILE"


class AccountsKeyError(RuntimeError):
    """No usable accounts key; the message is one line for the operator."""


class SecretBox:
    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise AccountsKeyError(f"the accounts key must be {KEY_BYTES} bytes")
        self._aead = AESGCM(key)
        self.key_id = hashlib.sha256(b"hubbub-accounts-key\0" + key).hexdigest()[:16]

    def __repr__(self) -> str:  # never the key
        return f"SecretBox(key_id={self.key_id!r})"

    def seal(self, plaintext: str, context: str) -> bytes:
        nonce = secrets.token_bytes(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext.encode(), context.encode())

    def open(self, blob: bytes, context: str) -> str:
        try:
            plain = self._aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], context.encode())
        except (InvalidTag, ValueError):
            raise AccountsKeyError(
                "a stored secret does not decrypt with this accounts key"
            ) from None
        return plain.decode()


def new_key_text() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode().rstrip("=")


def _decode(text: str, where: str) -> bytes:
    text = text.strip()
    try:
        key = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise AccountsKeyError(f"{where} is not a {KEY_BYTES}-byte base64url key")
    return key


def default_key_path(db_url: str) -> Path | None:
    """The key file beside an SQLite database; None for other databases."""
    url = make_url(db_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    db = Path(url.database).expanduser()
    return db.with_name(db.name + ".accounts-key")


def load_box(db_url: str, environ: Mapping[str, str] | None = None) -> SecretBox:
    """The SecretBox for the database at ``db_url`` (see the module doc)."""
    env = os.environ if environ is None else environ
    if env.get(ENV_KEY):
        return SecretBox(_decode(env[ENV_KEY], ENV_KEY))
    path: Path | None
    if env.get(ENV_KEY_FILE):
        path = Path(env[ENV_KEY_FILE]).expanduser()
    else:
        path = default_key_path(db_url)
    if path is None:
        raise AccountsKeyError(
            f"no accounts key: with this database set {ENV_KEY} or {ENV_KEY_FILE} "
            "(the key must not live in the database)"
        )
    try:
        text = read_or_create(path, new_key_text, "accounts key file")
    except KeyFileError as exc:
        raise AccountsKeyError(str(exc)) from None
    except OSError as exc:
        raise AccountsKeyError(f"accounts key file {path}: {exc.strerror or exc}") from None
    return SecretBox(_decode(text, f"accounts key file {path}"))
