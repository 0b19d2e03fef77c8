"""Sessions live on the server (issue 7, case 5): a cookie copied before
logout, a password change or a revoke is worth nothing afterwards; idle and
absolute expiry; users see and end their own sessions."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from hubbub.web.accounts import create_user
from tests.web.conftest import PASSWORD, Server, http_client


class Clock:
    """Server time the test moves by hand (no sleeping)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(server: Server) -> Iterator[Clock]:
    sessions = server.app.state.sessions  # type: ignore[attr-defined]
    real = sessions.clock
    fake = Clock()
    sessions.clock = fake
    yield fake
    sessions.clock = real


_users = iter(range(1, 10_000))


@pytest.fixture
def person(server: Server) -> str:
    """A fresh owner account per test, so sessions of tests do not mix."""
    name = f"person{next(_users)}"
    create_user(server.app.state.store, "default", name, PASSWORD, role="owner")  # type: ignore[attr-defined]
    return name


def csrf_of(html: str) -> str:
    m = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert m, "every page carries its CSRF token in a meta tag"
    return m.group(1)


def sign_in(server: Server, name: str, password: str = PASSWORD) -> tuple[httpx.Client, str]:
    client = http_client(server)
    client.headers["user-agent"] = f"test-browser/{name}"
    token = csrf_of(client.get("/login").text)
    r = client.post("/login", data={"name": name, "password": password, "csrf": token, "next": "/"})
    assert r.status_code == 303, r.text
    return client, csrf_of(client.get("/").text)


def copy_of(client: httpx.Client, server: Server) -> httpx.Client:
    """Another client holding the same cookie, as a thief with a copy would."""
    thief = http_client(server)
    for name, value in client.cookies.items():
        thief.cookies.set(name, value)
    return thief


def is_host_of(client: httpx.Client, tag: str) -> bool:
    r = client.get(f"/api/rooms/{tag}/state")
    return r.status_code == 200 and r.json()["me"]["host"] is True


def test_a_cookie_saved_before_logout_no_longer_reads_or_changes_room_settings(
    server: Server, tag: str, person: str
) -> None:
    client, csrf = sign_in(server, person)
    with copy_of(client, server) as thief:
        assert is_host_of(thief, tag)
        assert thief.get(f"/api/rooms/{tag}/pending").status_code == 200
        r = client.post("/logout", data={"csrf": csrf})
        assert r.status_code == 303
        # The copy still carries a valid signature and the old CSRF token.
        assert not is_host_of(thief, tag)
        assert thief.get(f"/api/rooms/{tag}/pending").status_code in (401, 404)
        r = thief.post(
            f"/api/rooms/{tag}/settings",
            json={"allow_guests": True},
            headers={"X-CSRF-Token": csrf},
        )
        assert r.status_code in (401, 404)
        assert thief.get("/api/account/sessions").status_code == 401
    client.close()


def test_every_page_carries_its_csrf_token_and_the_login_form_keeps_its_fields(
    server: Server, tag: str
) -> None:
    with http_client(server) as client:
        token = csrf_of(client.get("/").text)
        for path in ("/login", "/", f"/rooms/{tag}"):
            assert csrf_of(client.get(path).text) == token, path
        form = client.get("/login?next=/listen").text
        for field in ("name", "password", "csrf", "next"):
            assert f'name="{field}"' in form


def test_a_password_change_ends_every_other_session(server: Server, person: str) -> None:
    laptop, laptop_csrf = sign_in(server, person)
    phone, _ = sign_in(server, person)
    assert len(laptop.get("/api/account/sessions").json()) == 2
    r = laptop.post(
        "/account/password",
        data={
            "csrf": laptop_csrf,
            "current_password": PASSWORD,
            "new_password": "a whole new passphrase",
            "confirm_password": "a whole new passphrase",
        },
    )
    assert r.status_code == 303
    assert phone.get("/api/account/sessions").status_code == 401
    mine = laptop.get("/api/account/sessions").json()
    assert [s["current"] for s in mine] == [True]
    # The old password is gone, the new one works.
    with http_client(server) as other:
        token = csrf_of(other.get("/login").text)
        r = other.post("/login", data={"name": person, "password": PASSWORD, "csrf": token})
        assert r.status_code == 401
    sign_in(server, person, "a whole new passphrase")[0].close()
    laptop.close()
    phone.close()


def test_a_wrong_current_password_changes_nothing(server: Server, person: str) -> None:
    client, csrf = sign_in(server, person)
    r = client.post(
        "/account/password",
        data={
            "csrf": csrf,
            "current_password": "not my password",
            "new_password": "a whole new passphrase",
            "confirm_password": "a whole new passphrase",
        },
    )
    assert r.status_code == 401
    assert client.get("/api/account/sessions").status_code == 200
    sign_in(server, person)[0].close()
    client.close()


def test_users_list_and_end_their_own_sessions(server: Server, person: str) -> None:
    laptop, laptop_csrf = sign_in(server, person)
    phone, phone_csrf = sign_in(server, person)
    listed = laptop.get("/api/account/sessions").json()
    assert len(listed) == 2
    assert sum(s["current"] for s in listed) == 1
    assert {s["user_agent"] for s in listed} == {f"test-browser/{person}"}
    assert all(s["address"] == "127.0.0.1" for s in listed)
    phone_id = next(s["id"] for s in listed if not s["current"])
    # The page shows both, with a way to end each.
    page = laptop.get("/account").text
    assert page.count('action="/account/sessions/') >= 2
    # Ending the phone's session from the laptop signs the phone out.
    r = laptop.delete(f"/api/account/sessions/{phone_id}", headers={"X-CSRF-Token": laptop_csrf})
    assert r.status_code == 200
    assert phone.get("/api/account/sessions").status_code == 401
    # Not twice, and never someone else's session; no number past 64 bits.
    for wrong in ("99999999999999999999999", "0", "-1"):
        r = laptop.delete(f"/api/account/sessions/{wrong}", headers={"X-CSRF-Token": laptop_csrf})
        assert r.status_code == 422
    r = laptop.delete(f"/api/account/sessions/{phone_id}", headers={"X-CSRF-Token": laptop_csrf})
    assert r.status_code == 404
    other, other_csrf = sign_in(server, "host")
    laptop_id = laptop.get("/api/account/sessions").json()[0]["id"]
    r = other.delete(f"/api/account/sessions/{laptop_id}", headers={"X-CSRF-Token": other_csrf})
    assert r.status_code == 404
    assert laptop.get("/api/account/sessions").status_code == 200
    # The page's "sign out everywhere else" keeps only this browser.
    tablet, _ = sign_in(server, person)
    r = laptop.post("/account/sessions/revoke-others", data={"csrf": laptop_csrf})
    assert r.status_code == 303
    assert tablet.get("/api/account/sessions").status_code == 401
    assert len(laptop.get("/api/account/sessions").json()) == 1
    for c in (laptop, phone, other, tablet):
        c.close()
    del phone_csrf, other_csrf


def test_sessions_end_after_12_idle_hours(server: Server, person: str, clock: Clock) -> None:
    client, _ = sign_in(server, person)
    for _hour in range(3):  # used every 11 hours: stays signed in past 12 h
        clock.advance(hours=11)
        assert client.get("/api/account/sessions").status_code == 200
    clock.advance(hours=12)
    assert client.get("/api/account/sessions").status_code == 401
    client.close()


def test_sessions_end_14_days_after_sign_in_however_busy(
    server: Server, person: str, clock: Clock
) -> None:
    client, _ = sign_in(server, person)
    for _step in range(30):  # 330 hours, never 12 idle
        clock.advance(hours=11)
        assert client.get("/api/account/sessions").status_code == 200
    clock.advance(hours=11)  # 341 hours: past 14 days, yet only 11 idle
    assert client.get("/api/account/sessions").status_code == 401
    client.close()


def test_a_forged_session_token_signs_nobody_in(server: Server, person: str) -> None:
    """The cookie's signature is not enough: its token must name a live row."""
    client, _ = sign_in(server, person)
    sessions = server.app.state.sessions  # type: ignore[attr-defined]
    forged = sessions._serializer.dumps({"sid": "x", "csrf": "y", "auth": "made-up-token"})
    with http_client(server) as thief:
        thief.cookies.set("hubbub_session", forged)
        assert thief.get("/api/account/sessions").status_code == 401
    client.close()


def test_the_idle_and_absolute_limits_are_settings(tmp_path) -> None:  # noqa: ANN001
    from hubbub.settings import Settings
    from tests.web.conftest import start_server, stop_server

    env = {"HUBBUB_SESSION_IDLE_HOURS": "0.5", "HUBBUB_SESSION_DAYS": "1"}
    configured = Settings.from_env(env)
    srv = start_server(
        tmp_path,
        session_idle_hours=configured.session_idle_hours,
        session_days=configured.session_days,
    )
    clock = Clock()
    srv.app.state.sessions.clock = clock  # type: ignore[attr-defined]
    try:
        client, _ = sign_in(srv, "host")
        clock.advance(minutes=29)
        assert client.get("/api/account/sessions").status_code == 200
        clock.advance(minutes=30)
        assert client.get("/api/account/sessions").status_code == 401
        client.close()
        client, _ = sign_in(srv, "host")
        for _step in range(48):  # every 29 minutes for 23 h 12 min
            clock.advance(minutes=29)
            assert client.get("/api/account/sessions").status_code == 200
        clock.advance(minutes=29)  # 23 h 41 min
        assert client.get("/api/account/sessions").status_code == 200
        clock.advance(minutes=29)  # past a day
        assert client.get("/api/account/sessions").status_code == 401
        client.close()
    finally:
        stop_server(srv)
