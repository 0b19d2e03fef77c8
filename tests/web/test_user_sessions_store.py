"""Server-side sessions on both backends: what the web app and ``hubbub
user`` rely on (migration 0004's table, expiry, revocation scoped per user)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hubbub.store.auth_schema import user_sessions
from hubbub.web.accounts import create_user, set_password
from hubbub.web.user_sessions import (
    SessionPolicy,
    list_sessions,
    resolve_session,
    revoke_sessions,
    start_session,
    token_hash,
)

POLICY = SessionPolicy(idle=timedelta(hours=12), absolute=timedelta(days=14))
T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def test_sessions_resolve_expire_and_are_revoked_per_user(store) -> None:  # noqa: ANN001
    ann = create_user(store, "default", "ann", "correct horse battery")
    bob = create_user(store, "default", "bob", "correct horse battery")
    a1, a1_id = start_session(store, "default", ann.id, now=T0, policy=POLICY, address="192.0.2.1")
    a2, _ = start_session(store, "default", ann.id, now=T0, policy=POLICY, user_agent="x" * 500)
    b1, _ = start_session(store, "default", bob.id, now=T0, policy=POLICY)

    live = resolve_session(store, "default", a1, now=T0 + timedelta(hours=1), policy=POLICY)
    assert live is not None and live.user.name == "ann" and live.id == a1_id
    assert resolve_session(store, "default", "not a token", now=T0, policy=POLICY) is None
    # Only the hash is stored.
    with store.engine.connect() as conn:
        stored = {r.token_hash for r in conn.execute(user_sessions.select())}
    assert token_hash(a1) in stored and a1 not in stored

    listed = list_sessions(store, "default", ann.id, now=T0 + timedelta(hours=1), policy=POLICY)
    assert len(listed) == 2 and {len(s.user_agent or "") for s in listed} == {0, 200}
    # Revoking one of ann's sessions by bob's id does nothing.
    assert revoke_sessions(store, "default", bob.id, session_id=a1_id) == 0
    assert revoke_sessions(store, "default", ann.id, session_id=a1_id) == 1
    assert resolve_session(store, "default", a1, now=T0, policy=POLICY) is None

    # a2 was last used at T0: 12 idle hours end it; b1, used at T0 + 11 h, lives on.
    later = T0 + timedelta(hours=11)
    assert resolve_session(store, "default", b1, now=later, policy=POLICY) is not None
    assert (
        resolve_session(store, "default", a2, now=T0 + timedelta(hours=12), policy=POLICY) is None
    )
    assert resolve_session(store, "default", b1, now=later + timedelta(hours=11), policy=POLICY)

    # A password change ends every session of that user only.
    c1, _ = start_session(store, "default", ann.id, now=T0, policy=POLICY)
    assert set_password(store, "default", "bob", "another passphrase")
    assert resolve_session(store, "default", b1, now=later, policy=POLICY) is None
    assert resolve_session(store, "default", c1, now=later, policy=POLICY) is not None


def test_a_session_ends_at_its_absolute_end_however_busy(store) -> None:  # noqa: ANN001
    ann = create_user(store, "default", "ann", "correct horse battery")
    token, _ = start_session(store, "default", ann.id, now=T0, policy=POLICY)
    now = T0
    while now < T0 + timedelta(days=14) - timedelta(hours=6):
        now += timedelta(hours=6)
        assert resolve_session(store, "default", token, now=now, policy=POLICY) is not None
    assert (
        resolve_session(store, "default", token, now=T0 + timedelta(days=14), policy=POLICY) is None
    )
    # Ended sessions are removed, not just ignored.
    with store.engine.connect() as conn:
        assert conn.execute(user_sessions.select()).first() is None


def test_names_and_passwords_no_account_can_have_are_refused_cleanly(store) -> None:  # noqa: ANN001
    from hubbub.web.accounts import AccountError, authenticate

    create_user(store, "default", "dan", "correct horse battery")
    for name, password in (
        ("d\x00an", "correct horse battery"),  # PostgreSQL refuses NUL in text
        ("dan", "correct\ud800horse battery"),  # cannot be encoded for argon2
        ("dan", "x" * 1025),
        ("d" * 101, "correct horse battery"),
    ):
        assert authenticate(store, "default", name, password) is None
    for name, password in (("e\x00ve", "correct horse battery"), ("eve", "a\udc00" * 5)):
        with pytest.raises(AccountError):
            create_user(store, "default", name, password)
    assert authenticate(store, "default", "dan", "correct horse battery") is not None


def test_abandoned_sessions_do_not_pile_up(store) -> None:  # noqa: ANN001
    ann = create_user(store, "default", "ann", "correct horse battery")
    bob = create_user(store, "default", "bob", "correct horse battery")
    for _ in range(3):  # bob's browsers, never seen again
        start_session(store, "default", bob.id, now=T0, policy=POLICY)
    start_session(store, "default", ann.id, now=T0 + timedelta(hours=13), policy=POLICY)
    with store.engine.connect() as conn:
        owners = [r.user_id for r in conn.execute(user_sessions.select())]
    assert owners == [ann.id]
