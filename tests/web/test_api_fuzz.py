"""Property-based run over the whole HTTP API: schemathesis generates
requests (valid and invalid) for every operation in the app's own OpenAPI
schema, served at ``/openapi.json``, so a new route is covered without
touching this file. It runs four times against a real server: as an
anonymous visitor and signed in as each role (owner, agent, viewer), each
with a session cookie, its CSRF token and a same-site ``Origin``, so
state-changing calls get past the CSRF check and really run. No answer may
be a 5xx, and no answer may break the schema (a body that does not match
the response schema the operation declares for its status).

Bounded: a few examples per operation and identity (``EXAMPLES``), a fixed
seed, no shrinking. A failure is reported with the request as a curl command.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import response_schema_conformance
from schemathesis.core.failures import Failure, FailureGroup

from hubbub.settings import Settings
from tests.web.conftest import PASSWORD, Server, start_server, stop_server

EXAMPLES = 2  # per operation, identity and kind (valid, invalid, in the live room)
SEED = 20261130  # the same requests on every run: a failure found is a failure kept
ROLES = ("owner", "agent", "viewer")
ROOM = "fuzzroom"
_addresses = itertools.count(1)
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")

pytestmark = pytest.mark.slow


def _warm_up(tmp: Path) -> None:
    """Generate a request for every operation without sending it, before any
    server thread runs. schemathesis imports most of itself lazily, and under
    pytest each import is an assertion rewrite (``ast.parse``); CPython 3.11
    can fail with "AST constructor recursion depth mismatch" when two threads
    parse at once (the server's thread imports anyio's modules lazily too)."""
    import schemathesis.transport.requests  # noqa: F401 - imported for its side effect

    from hubbub.web import create_app

    app = create_app(Settings(db=str(tmp / "warm.db"), secret_key="warm-up " * 6))
    for result in schemathesis.openapi.from_dict(app.openapi()).get_all_operations():
        strategy = _strategy(result.ok())

        @settings(max_examples=1, database=None, suppress_health_check=list(HealthCheck))
        @given(case=strategy)
        def generate(case: schemathesis.Case) -> None:
            case.as_transport_kwargs(base_url="http://127.0.0.1")

        generate()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    _warm_up(tmp_path_factory.mktemp("warm"))
    # The proxy is trusted so every request can name its own client address:
    # the fuzzer's failed sign-ins must not lock the owner's address out.
    # A simulated chat feeds one public room, so room routes have a room
    # with posts to work on, not only 404s for random tags.
    srv = start_server(
        tmp_path_factory.mktemp("fuzz"),
        sources=(f"sim:{ROOM}?rate=5&seed=7",),
        trusted_proxies=("127.0.0.1",),
    )
    from hubbub.web.accounts import create_user

    for role in ROLES[1:]:  # start_server made the owner, "host"
        create_user(srv.app.state.store, "default", role, PASSWORD, role=role)  # type: ignore[attr-defined]
    yield srv
    stop_server(srv)


@dataclass
class Identity:
    """A requests session with its CSRF token, signed in or not."""

    server: Server
    role: str | None  # None: an anonymous visitor
    session: requests.Session = field(default_factory=requests.Session)
    token: str = ""

    def headers(self) -> dict[str, str]:
        # A fresh address per request: see the server fixture.
        n = next(_addresses)
        return {
            "x-csrf-token": self.token,
            "origin": self.server.url,
            "x-forwarded-for": f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}",
        }

    @property
    def signed_in(self) -> bool:
        return self.role is not None

    @property
    def name(self) -> str:
        return "host" if self.role == "owner" else str(self.role)

    def start(self) -> None:
        self.session.cookies.clear()
        url = self.server.url
        login = self.session.get(url + "/login", headers=self.headers(), timeout=30)
        token = re.search(r'name="csrf" value="([^"]+)"', login.text)
        assert token, login.text[:500]
        self.token = token.group(1)
        if not self.signed_in:
            return
        r = self.session.post(
            url + "/login",
            data={"name": self.name, "password": PASSWORD, "csrf": self.token, "next": "/"},
            headers=self.headers(),
            allow_redirects=False,
            timeout=30,
        )
        assert r.status_code == 303, r.text[:500]
        page = self.session.get(url + "/", headers=self.headers(), timeout=30)
        token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text)
        assert token, page.text[:500]
        self.token = token.group(1)
        assert self.still_signed_in()

    def refresh(self) -> None:
        if self.signed_in and not self.still_signed_in():
            self.start()
            return
        page = self.session.get(self.server.url + "/", headers=self.headers(), timeout=30)
        token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text)
        assert token, page.text[:500]
        self.token = token.group(1)

    def still_signed_in(self) -> bool:
        r = self.session.get(
            self.server.url + "/api/listen/status", headers=self.headers(), timeout=30
        )
        return r.status_code == 200


def _operations(server: Server) -> list[schemathesis.APIOperation]:
    schema = schemathesis.openapi.from_url(server.url + "/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 20, "the schema lists the API"
    return operations


def _in_the_room(case: schemathesis.Case) -> schemathesis.Case:
    """The same request aimed at the live room, where it has something to do."""
    if case.path_parameters and "tag" in case.path_parameters:
        case.path_parameters["tag"] = ROOM
    return case


def _strategy(operation: schemathesis.APIOperation) -> st.SearchStrategy[schemathesis.Case]:
    """Valid requests, invalid ones, and valid ones aimed at the live room."""
    positive = operation.as_strategy(generation_mode=GenerationMode.POSITIVE)
    return st.one_of(
        positive,
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
        positive.map(_in_the_room),
    )


@dataclass
class Outcome:
    failures: list[str] = field(default_factory=list)  # 5xx answers, as curl commands
    broken: list[str] = field(default_factory=list)  # answers that break the schema
    refused: list[str] = field(default_factory=list)  # CSRF/Origin refusals: not exercised
    changed: int = 0  # 2xx answers to state-changing requests


def _fuzz(identity: Identity, operation: schemathesis.APIOperation, outcome: Outcome) -> None:
    """Generated requests for one operation; what they got goes to ``outcome``."""
    strategy = _strategy(operation)

    @seed(SEED)
    @settings(
        max_examples=3 * EXAMPLES,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(case=strategy)
    def run(case: schemathesis.Case) -> None:
        headers = identity.headers()
        response = case.call(
            base_url=identity.server.url,
            session=identity.session,
            headers=headers,
            allow_redirects=False,
            timeout=30,
        )
        if response.status_code >= 500:
            outcome.failures.append(
                f"{response.status_code} {operation.label}: "
                + case.as_curl_command(headers=headers)[:2000]
            )
        else:
            try:
                case.validate_response(response, checks=[response_schema_conformance])
            except (Failure, FailureGroup) as exc:  # a group is a BaseExceptionGroup
                outcome.broken.append(
                    f"{response.status_code} {operation.label}: {str(exc)[:600]}\n  "
                    + case.as_curl_command(headers=headers)[:1000]
                )
        if response.status_code == 403 and re.search("CSRF|cross-origin", response.text):
            outcome.refused.append(operation.label)
        if operation.method.upper() in UNSAFE and 200 <= response.status_code < 300:
            outcome.changed += 1
        if "set-cookie" in response.headers:
            # A new session (a logout, a revoked one, a sign-in): carry on
            # with a valid token, signed in again if the owner was signed out.
            identity.refresh()

    run()


@pytest.mark.parametrize("role", [None, *ROLES], ids=["anonymous", *ROLES])
def test_no_request_gets_a_5xx_or_breaks_the_schema(server: Server, role: str | None) -> None:
    identity = Identity(server, role)
    identity.start()
    outcome = Outcome()
    for operation in _operations(server):
        _fuzz(identity, operation, outcome)
    assert not outcome.failures, f"{len(outcome.failures)} answers were 5xx:\n" + "\n".join(
        outcome.failures[:30]
    )
    assert not outcome.broken, f"{len(outcome.broken)} answers break the schema:\n" + "\n".join(
        outcome.broken[:20]
    )
    # The token and Origin were right, so every state change reached its route.
    assert not outcome.refused, f"refused by the CSRF check: {sorted(set(outcome.refused))}"
    if role in ("owner", "agent"):
        assert outcome.changed > 0, f"the {role}'s state changes all failed"
