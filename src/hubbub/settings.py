"""One Settings object for the whole app, read from ``HUBBUB_*`` variables.

Zero configuration works: an SQLite file in the current folder, the
``default`` workspace, loopback on port 8000, and a secret key generated on
first start and kept in a file beside the database (so sessions survive a
restart). With PostgreSQL there is no such place: the key comes from
``HUBBUB_SECRET`` or ``HUBBUB_SECRET_FILE``, never from the current folder.
The key is never logged or shown in ``repr``.
"""

from __future__ import annotations

import math
import os
import secrets
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from sqlalchemy.engine import make_url

from hubbub.store.engine import resolve_db_url


def _env_bool(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


class SettingError(ValueError):
    """A ``HUBBUB_*`` variable (or option) that cannot be used: one line naming it."""


_INTS = ("port", "max_live_rooms", "max_readers", "max_body_bytes")
_FLOATS = (
    "session_idle_hours",
    "session_days",
    "guest_posts_per_minute",
    "recap_downloads_per_minute",
    "room_idle_seconds",
)
_LISTS = ("trusted_proxies", "sources", "allowed_origins", "allowed_hosts", "rooms")
_EXPECTED = {
    **{name: "not a whole number" for name in _INTS},
    **{name: "not a finite number of 0 or more" for name in _FLOATS},
}


def _convert(name: str, raw: str) -> object:
    """The value of field ``name`` from its variable's text; ValueError if unusable."""
    if name in _INTS:
        return int(raw)
    if name in _FLOATS:
        value = float(raw)
        if not math.isfinite(value) or value < 0:
            raise ValueError(raw)
        return value
    if name in _LISTS:
        return tuple(s.strip() for s in raw.split(",") if s.strip())
    if name == "secure_cookies":
        return _env_bool(raw)
    return raw


@dataclass(slots=True, frozen=True)
class Settings:
    db: str | None = None  # path or SQLAlchemy URL; None → $HUBBUB_DB → ./hubbub.db
    workspace: str = "default"
    host: str = "127.0.0.1"
    port: int = 8000
    # repr=False: printing Settings (logs, tracebacks) must never show the key.
    secret_key: str | None = field(default=None, repr=False)
    secret_file: str | None = None  # where a generated key is kept; default beside the DB
    # Signed-in sessions end after this long unused, and this long after sign-in.
    session_idle_hours: float = 12.0
    session_days: float = 14.0
    # Reverse proxies whose X-Forwarded-For is believed (addresses or networks);
    # empty: client addresses come from the socket.
    trusted_proxies: tuple[str, ...] = ()
    guest_posts_per_minute: float = 6.0  # web guests, per client address and room
    # Recap downloads per client address and workspace (each builds a file; a
    # PDF is costly, and anyone may fetch a public room's recap).
    recap_downloads_per_minute: float = 20.0
    sources: tuple[str, ...] = ()  # source specs: "sim:TAG?rate=2", "replay:FILE"
    # Rooms: the configured ones (public, always live) besides those the
    # sources name; how many other rooms may be live at once, how many
    # WebSocket readers in all, and how long an unread room stays live.
    rooms: tuple[str, ...] = ()
    max_live_rooms: int = 200
    max_readers: int = 5000
    room_idle_seconds: float = 600.0
    # Extra origins allowed to open WebSockets (a reverse proxy's public name).
    allowed_origins: tuple[str, ...] = ()
    # Host names requests may be addressed to besides IP addresses, localhost
    # and the hosts of allowed_origins (a reverse proxy's public name); "*"
    # allows any. Others are refused as DNS rebinding (web/host_guard.py).
    allowed_hosts: tuple[str, ...] = ()
    # Mark cookies Secure even if the request looks like plain http (behind TLS proxies).
    secure_cookies: bool = False
    # Spike alerts are POSTed here as JSON (http/https only). repr=False: a
    # webhook URL usually carries a token.
    alert_webhook: str | None = field(default=None, repr=False)
    # Largest request body accepted, in bytes; a larger one is answered 413
    # before it is read (web/limits.py).
    max_body_bytes: int = 1024 * 1024

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from ``HUBBUB_<FIELD>`` variables, then ``overrides`` (None = unset)."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get("HUBBUB_" + f.name.upper())
            if raw is None or raw == "":
                continue
            try:
                values[f.name] = _convert(f.name, raw)
            except ValueError:
                raise SettingError(
                    f"HUBBUB_{f.name.upper()}={raw!r}: {_EXPECTED.get(f.name, 'not usable')}"
                ) from None
        if "secret_key" not in values and env.get("HUBBUB_SECRET"):
            values["secret_key"] = env["HUBBUB_SECRET"]  # the documented name
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = replace(cls(), **values)  # type: ignore[arg-type]
        if not 0 <= settings.port < 65536:
            raise SettingError(f"port {settings.port}: a port is 0 (any free one) to 65535")
        return settings

    def room_tags(self) -> tuple[str, ...]:
        """The ``rooms`` setting as folded tags; TagError names a bad one."""
        from hubbub.tags import TagError, parse_tag

        out = []
        for raw in self.rooms:
            try:
                out.append(parse_tag(raw))
            except TagError as exc:
                raise TagError(f"rooms: {raw!r}: {exc}") from None
        return tuple(dict.fromkeys(out))

    @property
    def db_url(self) -> str:
        return resolve_db_url(self.db)

    def secret_path(self) -> Path | None:
        """Where the session key is kept: the configured file, else beside an
        SQLite database; None for an in-memory database (a key for this run)."""
        if self.secret_file:
            return Path(self.secret_file).expanduser()
        url = make_url(self.db_url)
        if url.get_backend_name() == "sqlite":
            if url.database and url.database != ":memory:":
                db = Path(url.database).expanduser()
                return db.with_name(db.name + ".secret")
            return None
        # No file of ours to sit beside, and the current folder changes from
        # one start to the next (which would sign everyone out).
        raise SecretKeyError(
            "no session key: with PostgreSQL set HUBBUB_SECRET or HUBBUB_SECRET_FILE"
        )

    def resolved_secret(self) -> str:
        """The signing key: given, or read from / generated into the key file."""
        if self.secret_key:
            return self.secret_key
        path = self.secret_path()
        if path is None:
            return secrets.token_urlsafe(48)
        return _key_from_file(path)


class SecretKeyError(RuntimeError):
    """No usable session key; the message is one line for the operator."""


def _key_from_file(path: Path) -> str:
    from hubbub.keyfiles import KeyFileError, read_or_create

    try:
        key = read_or_create(path, lambda: secrets.token_urlsafe(48), "session key file")
    except KeyFileError as exc:
        raise SecretKeyError(str(exc)) from None
    except OSError as exc:
        raise SecretKeyError(f"session key file {path}: {exc.strerror or exc}") from None
    if not key:
        raise SecretKeyError(f"session key file {path} is empty")
    return key
