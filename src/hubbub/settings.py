"""One Settings object for the whole app, read from ``HUBBUB_*`` variables.

Zero configuration works: an SQLite file in the current folder, the
``default`` workspace, loopback on port 8000, and a secret key generated on
first start and kept in a file beside the database (so sessions survive a
restart). The key is never logged or shown in ``repr``.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from sqlalchemy.engine import make_url

from hubbub.store.engine import resolve_db_url


def _env_bool(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


@dataclass(slots=True, frozen=True)
class Settings:
    db: str | None = None  # path or SQLAlchemy URL; None → $HUBBUB_DB → ./hubbub.db
    workspace: str = "default"
    host: str = "127.0.0.1"
    port: int = 8000
    # repr=False: printing Settings (logs, tracebacks) must never show the key.
    secret_key: str | None = field(default=None, repr=False)
    secret_file: str | None = None  # where a generated key is kept; default beside the DB
    guest_posts_per_minute: float = 6.0  # web guests, per client address and room
    sources: tuple[str, ...] = ()  # source specs: "sim:TAG?rate=2", "replay:FILE"
    # Extra origins allowed to open WebSockets (a reverse proxy's public name).
    allowed_origins: tuple[str, ...] = ()
    # Mark cookies Secure even if the request looks like plain http (behind TLS proxies).
    secure_cookies: bool = False
    # Spike alerts are POSTed here as JSON (http/https only). repr=False: a
    # webhook URL usually carries a token.
    alert_webhook: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from ``HUBBUB_<FIELD>`` variables, then ``overrides`` (None = unset)."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get("HUBBUB_" + f.name.upper())
            if raw is None or raw == "":
                continue
            if f.name == "port":
                values[f.name] = int(raw)
            elif f.name == "guest_posts_per_minute":
                values[f.name] = float(raw)
            elif f.name in ("sources", "allowed_origins"):
                values[f.name] = tuple(s.strip() for s in raw.split(",") if s.strip())
            elif f.name == "secure_cookies":
                values[f.name] = _env_bool(raw)
            else:
                values[f.name] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        return replace(cls(), **values)  # type: ignore[arg-type]

    @property
    def db_url(self) -> str:
        return resolve_db_url(self.db)

    def secret_path(self) -> Path:
        if self.secret_file:
            return Path(self.secret_file).expanduser()
        url = make_url(self.db_url)
        if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
            return Path(url.database).expanduser().with_name(Path(url.database).name + ".secret")
        return Path("hubbub.secret")

    def resolved_secret(self) -> str:
        """The signing key: given, or read from / generated into the secret file."""
        if self.secret_key:
            return self.secret_key
        path = self.secret_path()
        if path.is_file():
            key = path.read_text(encoding="utf-8").strip()
            if key:
                return key
        key = secrets.token_urlsafe(48)
        # Create with owner-only permissions from the start (no window where
        # another local user could read it).
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(key + "\n")
        return key
