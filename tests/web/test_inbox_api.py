"""The inbox's JSON API on a real server (SQLite file, real pipeline, real
outbox sender against a loopback X write server): who may read and act,
another workspace's case answering 404, CSRF and Origin on every change,
the "being answered" claim, a reply that goes out once and threaded, limits
on every input, and the live socket nudging the workspace's pages.

The setup here (``InboxServer``, ``inbox_server``, ``customer_post``…) is
shared with ``test_inbox_browser.py``.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson
import pytest
import websockets

from hubbub.inbox.build import build_cases
from hubbub.networks.secrets import load_box, new_key_text
from hubbub.post import Author, Post
from hubbub.store import Ingest
from hubbub.store.network_accounts import add_account, record_check
from hubbub.store.scope import scope
from hubbub.web.accounts import create_user
from tests.loopback.write_servers import Running, XState, x_app
from tests.web.conftest import PASSWORD, Server, start_server, stop_server

SHOP = "hubbubtest"  # the X loopback's account: the handle customers mention
OTHER = "otherco"  # a second workspace on the same server
_tweet_ids = itertools.count(1_700_000_000_000_000_001)


@dataclass
class InboxServer:
    server: Server
    x: XState
    # Case ids by a short name, as created by the test that needs them.
    cases: dict[str, int] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def store(self):  # noqa: ANN201 - the app's Store
        return self.server.app.state.store  # type: ignore[attr-defined]

    def build(self, workspace: str = "default") -> None:
        """Turn stored posts into cases, as the runtime's inbox watcher does."""
        build_cases(scope(self.store, workspace))


def customer_post(
    text: str, handle: str, *, reply_to: str | None = None, conv: str | None = None
) -> Post:
    """An X post by a customer mentioning the shop (hostile text welcome)."""
    tweet_id = str(next(_tweet_ids))
    return Post(
        network="x",
        id=tweet_id,
        author=Author("x", f"x-{handle}", handle, display_name=handle.title()),
        text=f"@{SHOP} {text}",
        created_at=datetime.now(UTC) - timedelta(seconds=5),
        url=f"https://x.com/{handle}/status/{tweet_id}",
        langs=("en",),
        reply_to=reply_to,
        conversation_id=conv or tweet_id,
        mentions=(SHOP,),
    )


def wait_for(check: Callable[[], object], timeout: float = 20.0, what: str = "condition") -> object:
    """Poll until ``check()`` is truthy (a wait, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def start_inbox_server(tmp: Path) -> Iterator[InboxServer]:
    """A server whose default workspace has an owner (host), two agents (ann,
    bob), a viewer (vera) and an X account on a loopback write server; and a
    second workspace with its own owner (olga), agent (oscar) and a case."""
    x = XState(username=SHOP)
    with pytest.MonkeyPatch.context() as mp, Running(x_app(x)) as xs:
        mp.setenv("HUBBUB_ACCOUNTS_KEY", new_key_text())
        srv = start_server(tmp)
        try:
            store = srv.app.state.store  # type: ignore[attr-defined]
            for name, role in (("ann", "agent"), ("bob", "agent"), ("vera", "viewer")):
                create_user(store, "default", name, PASSWORD, role=role)
            for name, role in (("olga", "owner"), ("oscar", "agent")):
                create_user(store, OTHER, name, PASSWORD, role=role)
            box = load_box(str(srv.db))
            for ws in ("default", OTHER):
                add_account(store, box, ws, "x", "shop", x.token, server=xs.url)
                record_check(store, ws, "shop", f"ok: @{SHOP}")
            yield InboxServer(srv, x)
        finally:
            stop_server(srv)


@pytest.fixture(scope="module")
def inbox_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InboxServer]:
    yield from start_inbox_server(tmp_path_factory.mktemp("inbox"))


def new_case(ib: InboxServer, text: str, handle: str, workspace: str = "default") -> int:
    """A customer's complaint or question stored and built into a case; its id."""
    post = customer_post(text, handle)
    if workspace == "default":
        ib.server.submit(post)
    else:
        ib.store.ingest([Ingest(post)], workspace)
    ib.build(workspace)
    from hubbub.inbox.model import Actor
    from hubbub.inbox.service import Inbox

    inbox = Inbox(scope(ib.store, workspace))
    cases = inbox.list_cases(
        Actor("cli:test"), status=["new", "open", "pending", "resolved", "snoozed"]
    )
    found = [c.id for c in cases if post.id in c.post_ids]
    assert found, f"no case was made of {text!r} (is it classified a complaint or question?)"
    return found[0]


def facts(case: dict[str, object]) -> dict[str, object]:
    """A case as an action could change it: everything but the running clocks
    (their used minutes grow while the test runs)."""
    return {k: v for k, v in case.items() if k not in ("first_response", "resolution")}


def sign_in(url: str, name: str, workspace: str = "default") -> tuple[httpx.Client, str]:
    """An httpx client signed in as ``name`` and its CSRF token (from the inbox page)."""
    client = httpx.Client(base_url=url, timeout=15)
    html = client.get("/login").text
    token = re.search(r'name="csrf" value="([^"]+)"', html)
    assert token
    r = client.post(
        "/login",
        data={
            "name": name,
            "password": PASSWORD,
            "csrf": token.group(1),
            "next": "/inbox",
            "workspace": workspace,
        },
    )
    assert r.status_code == 303, r.text
    page = client.get("/inbox")
    assert page.status_code == 200
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert csrf
    return client, csrf.group(1)


@dataclass
class Who:
    client: httpx.Client
    csrf: str

    def get(self, path: str) -> httpx.Response:
        return self.client.get(path)

    def post(self, path: str, body: object) -> httpx.Response:
        headers = {"X-CSRF-Token": self.csrf}
        if isinstance(body, bytes):  # JSON as sent, e.g. with an escaped lone surrogate
            headers["Content-Type"] = "application/json"
            return self.client.post(path, content=body, headers=headers)
        return self.client.post(path, json=body, headers=headers)

    def delete(self, path: str) -> httpx.Response:
        return self.client.delete(path, headers={"X-CSRF-Token": self.csrf})


@pytest.fixture(scope="module")
def people(inbox_server: InboxServer) -> Iterator[dict[str, Who]]:
    out = {}
    for name, ws in (
        ("host", "default"),
        ("ann", "default"),
        ("bob", "default"),
        ("vera", "default"),
        ("olga", OTHER),
        ("oscar", OTHER),
    ):
        out[name] = Who(*sign_in(inbox_server.url, name, ws))
    yield out
    for who in out.values():
        who.client.close()


# -- reading, and who may ---------------------------------------------------------------


def test_visitors_are_sent_to_sign_in_and_the_api_wants_a_session(inbox_server: InboxServer):
    with httpx.Client(base_url=inbox_server.url, timeout=10) as anon:
        page = anon.get("/inbox")
        assert page.status_code == 303
        assert page.headers["location"] == "/login?next=/inbox"
        assert anon.get("/api/inbox/cases").status_code == 401
        assert anon.get("/api/inbox/cases/1").status_code == 401


def test_agents_and_viewers_read_the_case_with_its_timeline(inbox_server, people):
    case = new_case(
        inbox_server, "my order arrived broken and nobody answers, terrible service", "carla"
    )
    for name in ("ann", "vera", "host"):
        listed = people[name].get("/api/inbox/cases?view=all")
        assert listed.status_code == 200
        body = listed.json()
        assert case in [c["id"] for c in body["cases"]]
        assert body["me"] == name
        one = people[name].get(f"/api/inbox/cases/{case}")
        assert one.status_code == 200
        data = one.json()
        assert data["author"] == "carla"
        assert data["intent"] == "complaint"
        assert data["status"] == "new"
        assert [p["text"] for p in data["posts"]] == [
            f"@{SHOP} my order arrived broken and nobody answers, terrible service"
        ]
    unassigned = people["ann"].get("/api/inbox/cases?view=unassigned").json()
    assert case in [c["id"] for c in unassigned["cases"]]


def test_viewers_change_nothing(inbox_server, people):
    case = new_case(inbox_server, "how do I reset my password? it keeps failing", "dmitri")
    vera = people["vera"]
    before = facts(vera.get(f"/api/inbox/cases/{case}").json())
    refused = {
        "assign": vera.post(f"/api/inbox/cases/{case}/assign", {"user": "vera"}),
        "status": vera.post(f"/api/inbox/cases/{case}/status", {"status": "resolved"}),
        "priority": vera.post(f"/api/inbox/cases/{case}/priority", {"priority": "urgent"}),
        "labels": vera.post(f"/api/inbox/cases/{case}/labels", {"labels": ["x"]}),
        "note": vera.post(f"/api/inbox/cases/{case}/notes", {"text": "hello"}),
        "claim": vera.post(f"/api/inbox/cases/{case}/claim", {}),
        "reply": vera.post(
            f"/api/inbox/cases/{case}/replies", {"text": "hi", "key": "vera-key-0001"}
        ),
    }
    assert {k: r.status_code for k, r in refused.items()} == {k: 403 for k in refused}
    after = facts(vera.get(f"/api/inbox/cases/{case}").json())
    assert after == before
    # The page itself shows her no controls to act with.
    page = vera.get("/inbox").text
    assert 'data-can-act="false"' in page
    assert 'id="reply-text"' not in page


def test_another_workspace_sees_none_of_it_and_changes_none_of_it(inbox_server, people):
    ours = new_case(inbox_server, "the app crashes every time I pay, terrible", "erin")
    theirs = new_case(
        inbox_server, "how do I change my delivery address?", "fritz", workspace=OTHER
    )
    olga, oscar, ann = people["olga"], people["oscar"], people["ann"]
    # Each workspace lists its own case and not the other's.
    assert ours not in [c["id"] for c in olga.get("/api/inbox/cases").json()["cases"]]
    assert theirs in [c["id"] for c in olga.get("/api/inbox/cases").json()["cases"]]
    assert theirs not in [c["id"] for c in ann.get("/api/inbox/cases").json()["cases"]]
    before = facts(ann.get(f"/api/inbox/cases/{ours}").json())
    # Every route names our case from the other workspace: 404, never 403.
    for who in (olga, oscar):
        answers = [
            who.get(f"/api/inbox/cases/{ours}"),
            who.get(f"/api/inbox/cases/{ours}/saved-replies/none"),
            who.post(
                f"/api/inbox/cases/{ours}/assign", {"user": who is olga and "olga" or "oscar"}
            ),
            who.post(f"/api/inbox/cases/{ours}/status", {"status": "resolved"}),
            who.post(f"/api/inbox/cases/{ours}/priority", {"priority": "urgent"}),
            who.post(f"/api/inbox/cases/{ours}/labels", {"labels": ["stolen"]}),
            who.post(f"/api/inbox/cases/{ours}/notes", {"text": "hi"}),
            who.post(f"/api/inbox/cases/{ours}/claim", {}),
            who.delete(f"/api/inbox/cases/{ours}/claim"),
            who.post(f"/api/inbox/cases/{ours}/replies", {"text": "hi", "key": "other-ws-key-01"}),
        ]
        assert [r.status_code for r in answers] == [404] * len(answers), [r.text for r in answers]
    assert facts(ann.get(f"/api/inbox/cases/{ours}").json()) == before
    # And the other way round.
    assert ann.get(f"/api/inbox/cases/{theirs}").status_code == 404
    assert ann.post(f"/api/inbox/cases/{theirs}/assign", {"user": "ann"}).status_code == 404
    # Assigning to a user of the other workspace is no assignment either.
    assert ann.post(f"/api/inbox/cases/{ours}/assign", {"user": "olga"}).status_code == 400
    # The other workspace's agents are not offered for assignment.
    names = [a["name"] for a in ann.get("/api/inbox/agents").json()["agents"]]
    assert "olga" not in names and "oscar" not in names and "ann" in names and "vera" not in names


# -- acting ------------------------------------------------------------------------------


def test_assign_status_priority_labels_and_notes_go_into_the_timeline(inbox_server, people):
    case = new_case(inbox_server, "my parcel is lost and support never replies, awful", "gus")
    ann = people["ann"]
    assert ann.post(f"/api/inbox/cases/{case}/assign", {"user": "bob"}).json()["assignee"] == "bob"
    assert ann.post(f"/api/inbox/cases/{case}/assign", {"user": "ann"}).json()["assignee"] == "ann"
    mine = ann.get("/api/inbox/cases?view=mine").json()
    assert case in [c["id"] for c in mine["cases"]]
    assert case not in [
        c["id"] for c in people["bob"].get("/api/inbox/cases?view=mine").json()["cases"]
    ]
    assert (
        ann.post(f"/api/inbox/cases/{case}/priority", {"priority": "urgent"}).json()["priority"]
        == "urgent"
    )
    labels = ann.post(f"/api/inbox/cases/{case}/labels", {"labels": ["Shipping", "refund"]}).json()
    assert labels["labels"] == ["refund", "shipping"]
    note = ann.post(f"/api/inbox/cases/{case}/notes", {"text": "<b>called</b> the courier"})
    assert note.status_code == 201
    pending = ann.post(f"/api/inbox/cases/{case}/status", {"status": "pending"})
    assert pending.json()["status"] == "pending"
    # Views by status, priority, label and network find it.
    for query in ("status=pending", "priority=urgent", "label=refund", "network=x"):
        rows = ann.get(f"/api/inbox/cases?view=all&{query}").json()["cases"]
        assert case in [c["id"] for c in rows], query
    assert case not in [
        c["id"] for c in ann.get("/api/inbox/cases?network=mastodon").json()["cases"]
    ]
    timeline = ann.get(f"/api/inbox/cases/{case}").json()["timeline"]
    kinds = [(e["kind"], e["actor"]) for e in timeline]
    assert (
        ("assign", "ann") in kinds and ("priority", "ann") in kinds and ("labels", "ann") in kinds
    )
    assert ("note", "ann") in kinds and ("status", "ann") in kinds
    assert [e["text"] for e in timeline if e["kind"] == "note"] == ["<b>called</b> the courier"]
    # Reassigning kept the history: both assignments are there.
    assert len([e for e in timeline if e["kind"] == "assign"]) == 2
    # Snoozing needs a wake-up time with a zone, in the future.
    until = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    snoozed = ann.post(f"/api/inbox/cases/{case}/status", {"status": "snoozed", "until": until})
    assert snoozed.json()["status"] == "snoozed"
    past = ann.post(
        f"/api/inbox/cases/{case}/status",
        {"status": "snoozed", "until": (datetime.now(UTC) - timedelta(hours=1)).isoformat()},
    )
    assert past.status_code == 400
    assert ann.post(f"/api/inbox/cases/{case}/status", {"status": "gone"}).status_code == 400
    resolved = ann.post(f"/api/inbox/cases/{case}/status", {"status": "resolved"}).json()
    assert resolved["status"] == "resolved"
    assert case not in [c["id"] for c in ann.get("/api/inbox/cases").json()["cases"]]
    assert case in [c["id"] for c in ann.get("/api/inbox/cases?status=resolved").json()["cases"]]


def test_being_answered_is_exclusive_and_shown_to_the_other_agents(inbox_server, people):
    case = new_case(inbox_server, "why was I charged twice? this is a scam", "hana")
    ann, bob, olga = people["ann"], people["bob"], people["olga"]
    held = ann.post(f"/api/inbox/cases/{case}/claim", {"seconds": 120})
    assert held.status_code == 200 and held.json()["being_answered_by"] == "ann"
    row = [c for c in bob.get("/api/inbox/cases").json()["cases"] if c["id"] == case]
    assert row[0]["being_answered_by"] == "ann"
    assert bob.get(f"/api/inbox/cases/{case}").json()["being_answered_by"] == "ann"
    # Bob can neither take the claim nor reply over it.
    taken = bob.post(f"/api/inbox/cases/{case}/claim", {})
    assert taken.status_code == 409
    assert taken.json()["detail"]["being_answered_by"] == "ann"
    over = bob.post(f"/api/inbox/cases/{case}/replies", {"text": "hello", "key": "bob-over-claim1"})
    assert over.status_code == 409
    # Bob's release does not drop Ann's claim; hers does.
    assert bob.delete(f"/api/inbox/cases/{case}/claim").status_code == 200
    assert bob.get(f"/api/inbox/cases/{case}").json()["being_answered_by"] == "ann"
    assert ann.delete(f"/api/inbox/cases/{case}/claim").status_code == 200
    assert bob.get(f"/api/inbox/cases/{case}").json()["being_answered_by"] is None
    assert bob.post(f"/api/inbox/cases/{case}/claim", {}).status_code == 200
    # Nobody of the other workspace learns any of it.
    assert all(c["id"] != case for c in olga.get("/api/inbox/cases").json()["cases"])


def test_a_reply_goes_out_once_threaded_under_the_customers_post(inbox_server, people):
    post = customer_post("where is my refund? it has been three weeks, terrible", "ivan")
    inbox_server.server.submit(post)
    inbox_server.build()
    ann = people["ann"]
    case = next(
        c["id"] for c in ann.get("/api/inbox/cases").json()["cases"] if post.id in c["post_ids"]
    )
    body = {"text": "Sorry Ivan, we are on it: DM us your order number", "key": "reply-ivan-0001"}
    first = ann.post(f"/api/inbox/cases/{case}/replies", body)
    assert first.status_code == 201, first.text
    # A double click, a retry after a lost answer: the same key is the same reply.
    again = ann.post(f"/api/inbox/cases/{case}/replies", body)
    assert again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    x = inbox_server.x
    sent = wait_for(
        lambda: [t for t in x.tweets if t["text"] == body["text"]], what="the reply on X"
    )
    assert len(sent) == 1 and sent[0]["in_reply_to"] == post.id

    def shown() -> list[dict[str, object]]:
        timeline = ann.get(f"/api/inbox/cases/{case}").json()["timeline"]
        return [e for e in timeline if e["kind"] == "reply" and e["outbox_status"] == "sent"]

    replies = wait_for(shown, what="the reply shown as sent")
    assert len(replies) == 1 and replies[0]["actor"] == "ann"
    assert ann.get(f"/api/inbox/cases/{case}").json()["first_response_at"] is not None
    assert len([t for t in x.tweets if t["text"] == body["text"]]) == 1


# -- the edge: CSRF, Origin, limits ---------------------------------------------------------


def test_every_change_needs_the_csrf_token_and_our_origin(inbox_server, people):
    case = new_case(inbox_server, "the checkout is broken, I cannot pay, awful", "jana")
    ann = people["ann"]
    changes = [
        ("post", f"/api/inbox/cases/{case}/assign", {"user": "ann"}),
        ("post", f"/api/inbox/cases/{case}/status", {"status": "resolved"}),
        ("post", f"/api/inbox/cases/{case}/notes", {"text": "x"}),
        ("post", f"/api/inbox/cases/{case}/claim", {}),
        ("delete", f"/api/inbox/cases/{case}/claim", None),
        ("post", f"/api/inbox/cases/{case}/replies", {"text": "x", "key": "csrf-test-0001"}),
    ]
    for method, path, body in changes:
        no_token = ann.client.request(method.upper(), path, json=body)
        assert no_token.status_code == 403, path
        wrong = ann.client.request(
            method.upper(), path, json=body, headers={"X-CSRF-Token": "nope"}
        )
        assert wrong.status_code == 403, path
        foreign = ann.client.request(
            method.upper(),
            path,
            json=body,
            headers={"X-CSRF-Token": ann.csrf, "Origin": "https://evil.example"},
        )
        assert foreign.status_code == 403, path
    after = ann.get(f"/api/inbox/cases/{case}").json()
    assert after["status"] == "new" and after["assignee"] is None
    assert [e["kind"] for e in after["timeline"] if e["kind"] in ("note", "reply", "status")] == []


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("notes", {"text": "x" * 5001}),
        ("notes", {"text": "nul \x00 inside"}),
        ("notes", {"text": ""}),
        ("replies", b'{"text": "a\\ud800b", "key": "surrogate-key-01"}'),
        ("replies", {"text": "fine", "key": "bad key!"}),
        ("replies", {"text": "fine"}),
        ("labels", {"labels": [f"l{i}" for i in range(21)]}),
        ("labels", {"labels": ["x" * 41]}),
        ("assign", {"user": "u" * 101}),
        ("claim", {"seconds": 100000}),
        ("status", {"status": "s" * 21}),
        ("status", {"status": "snoozed", "until": "9999-12-31T23:59:59-14:00"}),
        ("status", {"status": "snoozed", "until": "2999-01-01T00:00:00+00:00"}),
        ("assign", {"user": "nul\u0000name"}),
    ],
)
def test_inputs_over_their_limits_are_refused_with_422(inbox_server, people, path, body):
    case = inbox_server.cases.get("limits")
    if case is None:
        case = inbox_server.cases["limits"] = new_case(
            inbox_server, "nothing works and nobody helps, terrible", "kim"
        )
    r = people["ann"].post(f"/api/inbox/cases/{case}/{path}", body)
    assert r.status_code == 422, r.text


def test_case_numbers_beyond_the_database_key_are_422_and_unknown_ones_404(inbox_server, people):
    ann = people["ann"]
    assert ann.get(f"/api/inbox/cases/{2**63}").status_code == 422
    assert ann.get("/api/inbox/cases/0").status_code == 422
    assert ann.get("/api/inbox/cases/abc").status_code == 422
    assert ann.get(f"/api/inbox/cases/{2**63 - 1}").status_code == 404
    assert ann.get("/api/inbox/cases?view=everything").status_code == 400
    assert ann.get("/api/inbox/cases?status=nope").status_code == 400
    assert ann.get("/api/inbox/cases?limit=100000").status_code == 422
    assert ann.get("/api/inbox/cases?label=a%00b").status_code == 422
    case = new_case(inbox_server, "the site is down and nobody answers, terrible", "quinn")
    assert ann.get(f"/api/inbox/cases/{case}/saved-replies/a%00b").status_code == 422


# -- live ----------------------------------------------------------------------------------------


def _ws_url(inbox_server: InboxServer) -> str:
    return inbox_server.url.replace("http://", "ws://") + "/api/inbox/live"


def _cookie_header(who: Who) -> str:
    return "; ".join(f"{c.name}={c.value}" for c in who.client.cookies.jar)


def test_the_live_socket_nudges_the_workspaces_pages_after_a_change(inbox_server, people):
    case = new_case(inbox_server, "my account is locked and nobody answers, terrible", "lena")
    bob, ann = people["bob"], people["ann"]

    async def run() -> tuple[dict[str, object], dict[str, object]]:
        async with websockets.connect(
            _ws_url(inbox_server),
            additional_headers={"Cookie": _cookie_header(bob), "Origin": inbox_server.url},
        ) as ws:
            first = orjson.loads(await asyncio.wait_for(ws.recv(), 15))
            assert first["type"] == "changed"
            claimed = await asyncio.to_thread(ann.post, f"/api/inbox/cases/{case}/claim", {})
            assert claimed.status_code == 200
            return first, orjson.loads(await asyncio.wait_for(ws.recv(), 15))

    first, nudge = asyncio.run(run())
    assert nudge["type"] == "changed"
    assert nudge["stamp"] != first["stamp"]  # the claim moved it
    assert set(nudge) == {"type", "stamp"}  # a nudge, never case data


def test_the_live_socket_refuses_visitors_and_foreign_origins(inbox_server, people):
    async def attempt(headers: dict[str, str]) -> int:
        try:
            async with websockets.connect(_ws_url(inbox_server), additional_headers=headers) as ws:
                await ws.recv()
        except websockets.exceptions.InvalidStatus as exc:
            return exc.response.status_code
        return 101

    assert asyncio.run(attempt({"Origin": inbox_server.url})) == 401
    foreign = {"Cookie": _cookie_header(people["ann"]), "Origin": "https://evil.example"}
    assert asyncio.run(attempt(foreign)) == 403


def test_signing_out_closes_the_live_socket(inbox_server, monkeypatch):
    from hubbub.web import routes_inbox_live

    # The session is checked again every SESSION_CHECK_SECONDS; sooner here.
    monkeypatch.setattr(routes_inbox_live, "SESSION_CHECK_SECONDS", 0.2)
    client, csrf = sign_in(inbox_server.url, "bob")
    who = Who(client, csrf)

    async def run() -> int | None:
        async with websockets.connect(
            _ws_url(inbox_server),
            additional_headers={"Cookie": _cookie_header(who), "Origin": inbox_server.url},
        ) as ws:
            await asyncio.wait_for(ws.recv(), 15)
            out = await asyncio.to_thread(
                client.post, "/logout", data={"csrf": csrf}, headers={"Origin": inbox_server.url}
            )
            assert out.status_code == 303
            with pytest.raises(websockets.exceptions.ConnectionClosed):
                while True:  # nudges may still come; the close ends it
                    await asyncio.wait_for(ws.recv(), 15)
            return ws.close_code

    try:
        assert asyncio.run(run()) == 1008
    finally:
        client.close()
