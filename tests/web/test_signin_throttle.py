"""Sign-in is throttled (issue 7, case 6): per account after 5 failures in
15 minutes, per address after 20, answered 429 with a Retry-After that grows
while the guessing goes on and never reaches past the window. Server time is
an injected clock the tests move; nothing sleeps."""

from __future__ import annotations

import concurrent.futures
import re
from collections.abc import Iterator

import httpx
import pytest

from hubbub.web.accounts import create_user
from hubbub.web.signin_throttle import Refused, SigninThrottle
from tests.web.conftest import PASSWORD, Server, http_client, start_server, stop_server

WINDOW = 15 * 60


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(server: Server) -> Iterator[Clock]:
    """A fresh throttle on the module's server, on a clock the test moves."""
    state = server.app.state  # type: ignore[attr-defined]
    real = state.signin_throttle
    fake = Clock()
    state.signin_throttle = SigninThrottle(clock=fake)
    yield fake
    state.signin_throttle = real


_users = iter(range(1, 10_000))


@pytest.fixture
def person(server: Server) -> str:
    name = f"victim{next(_users)}"
    create_user(server.app.state.store, "default", name, PASSWORD, role="owner")  # type: ignore[attr-defined]
    return name


def _csrf(client: httpx.Client) -> str:
    m = re.search(r'<meta name="csrf-token" content="([^"]+)"', client.get("/login").text)
    assert m
    return m.group(1)


def attempt(
    client: httpx.Client, name: str, password: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    return client.post(
        "/login",
        data={"name": name, "password": password, "csrf": _csrf(client), "next": "/"},
        headers=headers or {},
    )


def test_forty_wrong_passwords_lock_the_account_until_the_window_passes(
    server: Server, person: str, clock: Clock
) -> None:
    with http_client(server) as attacker:
        answers = [attempt(attacker, person, f"guess number {i}") for i in range(40)]
    codes = [r.status_code for r in answers]
    assert codes[:5] == [401] * 5
    assert codes[5:] == [429] * 35
    waits = [int(r.headers["retry-after"]) for r in answers[5:]]
    assert all(later >= earlier for earlier, later in zip(waits, waits[1:], strict=False))
    assert waits[-1] > waits[0]
    assert max(waits) <= WINDOW
    assert "Try again in" in answers[-1].text
    # The owner, with the right password, waits too (it is not even checked) ...
    with http_client(server) as owner:
        r = attempt(owner, person, PASSWORD)
        assert r.status_code == 429
        wait = int(r.headers["retry-after"])
        assert 0 < wait <= WINDOW
        clock.now += wait - 1
        assert attempt(owner, person, PASSWORD).status_code == 429
        # ... at most until the window has passed since the lock began.
        clock.now += 1
        assert attempt(owner, person, PASSWORD).status_code == 303


def test_an_attacker_delays_the_owner_at_most_fifteen_minutes(
    server: Server, person: str, clock: Clock
) -> None:
    start = clock.now
    with http_client(server) as attacker, http_client(server) as owner:
        for i in range(5):
            attempt(attacker, person, f"wrong {i}")
        # The attacker keeps guessing every 10 seconds, whatever it is told.
        while True:
            clock.now += 10
            attempt(attacker, person, "still wrong")
            r = attempt(owner, person, PASSWORD)
            if r.status_code == 303:
                break
            assert r.status_code == 429
            assert clock.now - start <= WINDOW
    assert clock.now - start <= WINDOW + 10


def test_twenty_failures_from_one_address_lock_that_address_for_every_account(
    server: Server, clock: Clock
) -> None:
    with http_client(server) as client:
        codes = [attempt(client, f"nobody{i}", "wrong password").status_code for i in range(20)]
        assert codes == [401] * 20
        r = attempt(client, "host", PASSWORD)
        assert r.status_code == 429
        assert int(r.headers["retry-after"]) > 0
        # A forged X-Forwarded-For is no new address: no proxy is trusted.
        r = attempt(client, "host", PASSWORD, headers={"X-Forwarded-For": "203.0.113.9"})
        assert r.status_code == 429
        clock.now += WINDOW
        assert attempt(client, "host", PASSWORD).status_code == 303


def test_parallel_guesses_cannot_slip_past_the_limit(
    server: Server, person: str, clock: Clock
) -> None:
    """The throttle is asked before the (slow) password check, and an attempt
    being checked counts: 30 guesses at once get at most 5 checks."""

    def guess(i: int) -> int:
        # A long timeout: 30 requests at once on a loaded 2-core machine.
        with httpx.Client(base_url=server.url, timeout=120) as client:
            return attempt(client, person, f"parallel guess {i}").status_code

    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        codes = list(pool.map(guess, range(30)))
    assert codes.count(401) <= 5
    assert codes.count(429) >= 25
    assert set(codes) <= {401, 429}


def test_a_success_resets_the_account_count(server: Server, person: str, clock: Clock) -> None:
    with http_client(server) as client:
        for i in range(4):
            assert attempt(client, person, f"typo {i}").status_code == 401
        assert attempt(client, person, PASSWORD).status_code == 303
    with http_client(server) as client:
        for i in range(4):
            assert attempt(client, person, f"typo again {i}").status_code == 401
        assert attempt(client, person, PASSWORD).status_code == 303


def test_trusted_proxies_name_the_client(tmp_path) -> None:  # noqa: ANN001
    """Behind a named proxy, each client behind it has its own address limit."""
    srv = start_server(tmp_path, trusted_proxies=("127.0.0.1",))
    clock = Clock()
    srv.app.state.signin_throttle = SigninThrottle(clock=clock)  # type: ignore[attr-defined]
    try:
        with http_client(srv) as client:
            mallory = {"X-Forwarded-For": "198.51.100.7"}
            alice = {"X-Forwarded-For": "198.51.100.8"}
            for i in range(20):
                assert attempt(client, f"nobody{i}", "wrong password", mallory).status_code == 401
            assert attempt(client, "host", PASSWORD, mallory).status_code == 429
            assert attempt(client, "host", PASSWORD, alice).status_code == 303
    finally:
        stop_server(srv)


def test_guesses_elsewhere_do_not_lock_the_owner_out_of_a_browser_they_used_before(
    server: Server, person: str, clock: Clock
) -> None:
    with http_client(server) as owner:
        assert attempt(owner, person, PASSWORD).status_code == 303
        owner.post("/logout", data={"csrf": _csrf(owner)})
        with http_client(server) as attacker:
            codes = [attempt(attacker, person, f"guess {i}").status_code for i in range(10)]
            assert codes == [401] * 5 + [429] * 5
        # A browser that never signed in as this person waits ...
        with http_client(server) as stranger:
            assert attempt(stranger, person, PASSWORD).status_code == 429
        # ... the owner's own browser does not.
        assert attempt(owner, person, PASSWORD).status_code == 303
        # Its device token is for this person only: no way round another's lock.
        with http_client(server) as other:
            for i in range(5):
                attempt(other, "host", f"wrong {i}")
            assert attempt(owner, "host", PASSWORD).status_code == 429


def test_memory_stays_bounded_however_many_names_are_tried() -> None:
    throttle = SigninThrottle(max_keys=100, clock=Clock())
    for i in range(1000):
        verdict = throttle.begin(f"name{i}", f"10.0.{i // 250}.{i % 250}")
        assert not isinstance(verdict, Refused)
        verdict.failed()
    assert len(throttle._keys) <= 100


def test_one_ipv6_subscriber_block_is_one_address() -> None:
    throttle = SigninThrottle(clock=Clock())
    for i in range(1, 21):
        verdict = throttle.begin(f"name{i}", f"2001:db8:0:1::{i:x}")
        assert not isinstance(verdict, Refused)
        verdict.failed()
    assert isinstance(throttle.begin("host", "2001:db8:0:1:ffff::9"), Refused)
    assert not isinstance(throttle.begin("host", "2001:db8:0:2::1"), Refused)
