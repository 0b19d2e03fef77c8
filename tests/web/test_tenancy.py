"""Issue 10: no workspace can read or change another's data, proven over
every route of the app, as each of seven identities, on both databases.

Two workspaces, ``acme`` (the server's default) and ``globex``, each with an
owner, an agent and a viewer and every kind of data the app has, every
object marked (``tenancy_fixtures``). One real server serves both. For each
identity (six users and anonymous) the walk takes every route from the
app's route table at test time, with path parameters, query values and
bodies naming the other workspace's objects, its own objects and objects
that exist nowhere ("ghosts"), with a valid CSRF token and Origin on every
state change. Reads first, then state changes, then reads again.

It checks, per identity:
- no answer (body or headers) carries a marker of the other workspace, or a
  private marker at all for an anonymous reader; a marker the walk itself
  sent (an echoed tag, a room it opened under that name) does not count;
- every answer naming another workspace's object is the answer for a ghost
  (404 where the ghost is 404: never 403, never 200 with its data);
- the other workspace's rows (every table, through SQL) are the same after
  the walk; a viewer's walk changes nothing in its own workspace either
  (its own sessions, the audit log's new lines and, as for a guest, posts
  in a public room that takes guests aside);
- the walk read real data: its own workspace's markers were seen.
And that the routes walked are exactly the app's route table, so a route
added tomorrow is walked without editing this file.

WebSockets: the live route is walked like the others (accepted or refused,
compared with a ghost); ``test_live_posts_stay_in_their_workspace`` checks
that a post written in one workspace's room never reaches a socket on the
same-named room of the other.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
import uuid
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from starlette.routing import Mount, WebSocketRoute

from hubbub.settings import Settings
from tests.web.conftest import PASSWORD, Server, free_port, stop_server
from tests.web.tenancy_fixtures import (
    DEFAULT,
    GHOST,
    TOKEN,
    WORKSPACES,
    Objects,
    direct_tables,
    seed_world,
    unscoped_tables,
    workspace_rows,
)

pytestmark = pytest.mark.slow
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
IDENTITIES = [f"{ws}-{role}" for ws in WORKSPACES for role in ("owner", "agent", "viewer")] + [
    "anonymous"
]
_addresses = itertools.count(1)
MAX_FINDINGS_SHOWN = 60


# -- the server over two seeded workspaces ----------------------------------------


@dataclass
class World:
    server: Server
    db_url: str
    engine: sa.Engine
    objects: dict[str, Objects]
    # Markers the walks sent in state changes that were accepted: a room an
    # owner opened under another workspace's tag is its own room from then on.
    planted: set[str] = field(default_factory=set)
    walked: set[tuple[str, str]] = field(default_factory=set)
    walks_done: int = 0

    def ws_id(self, ws: str) -> int:
        return int(self.server.app.state.store.workspace_id(ws))  # type: ignore[attr-defined]


def _database(request: pytest.FixtureRequest, tmp: Path) -> Generator[str, None, None]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp / 'hubbub.db'}"
        return
    from sqlalchemy.engine import make_url

    from tests.conftest import PG_ADMIN_URL

    admin = request.getfixturevalue("_pg_admin")
    name = f"hubbub_tenancy_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _serve(db_url: str, tmp: Path) -> Server:
    """The app as ``hubbub serve --workspace acme`` runs it, without dialling
    out: the accounts in the store point at hosts that do not exist."""
    import uvicorn

    from hubbub.runtime import Runtime
    from hubbub.web import create_app

    port = free_port()
    settings = Settings(
        db=db_url,
        workspace=DEFAULT,
        host="127.0.0.1",
        port=port,
        secret_key="tenancy test " * 4,
        guest_posts_per_minute=100_000,
        # Each request names its own client address, so the walk's failed
        # sign-ins never throttle the next identity's.
        trusted_proxies=("127.0.0.1",),
    )
    runtime = Runtime(settings, follow_accounts=False, send_outbox=False)
    app = create_app(settings, runtime=runtime)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="tenancy-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.05)
    return Server(f"http://127.0.0.1:{port}", app, thread, server, tmp / "hubbub.db")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    from hubbub.store import open_store

    tmp = tmp_path_factory.mktemp("tenancy")
    databases = _database(request, tmp)
    db_url = next(databases)
    try:
        with open_store(db_url) as store:
            objects = seed_world(store, db_url, tmp)
        server = _serve(db_url, tmp)
        try:
            engine = server.app.state.store.engine  # type: ignore[attr-defined]
            yield World(server, db_url, engine, objects)
        finally:
            stop_server(server)
    finally:
        databases.close()


# -- the route table ------------------------------------------------------------------


@dataclass(frozen=True)
class RouteSpec:
    method: str  # an HTTP method, or "WS"
    path: str
    route: Any = field(compare=False, hash=False)


def route_table(app: Any) -> list[RouteSpec]:
    """Every route the app answers, as the router sees them. FastAPI wraps
    each included router (``original_router``, with its include prefix)."""
    out: list[RouteSpec] = []

    def walk(routes: list[Any], prefix: str) -> None:
        for r in routes:
            if hasattr(r, "original_router"):
                walk(r.original_router.routes, prefix + (r.include_context.prefix or ""))
            elif isinstance(r, WebSocketRoute) or type(r).__name__ == "APIWebSocketRoute":
                out.append(RouteSpec("WS", prefix + r.path, r))
            elif isinstance(r, Mount):
                out.append(RouteSpec("GET", prefix + r.path + "/{path:path}", r))
            elif hasattr(r, "methods") and r.methods:
                for method in sorted(set(r.methods) - {"HEAD"}):
                    out.append(RouteSpec(method, prefix + r.path, r))
            else:
                raise AssertionError(f"a route of a kind the walk does not know: {r!r}")

    walk(list(app.routes), "")
    return out


def _path_params(path: str) -> list[str]:
    return re.findall(r"\{(\w+)(?::\w+)?\}", path)


def _fill(path: str, values: dict[str, str]) -> str:
    return re.sub(
        r"\{(\w+)(?::\w+)?\}",
        lambda m: httpx.URL("/" + values[m.group(1)]).raw_path.decode()[1:],
        path,
    )


# -- what to send ------------------------------------------------------------------------

OWN, OTHER, GHOSTLY = "own", "other", "ghost"
RANK = {OWN: 0, GHOSTLY: 1, OTHER: 2}


@dataclass(frozen=True)
class Choice:
    """One value for one slot of a request, and whose object it names."""

    slot: str  # "path:tag", "query:saved", "body:ref", "form:workspace"
    value: Any
    category: str


@dataclass
class Identity:
    name: str
    ws: str | None  # None: anonymous (its workspace is the default one)
    role: str | None
    client: httpx.Client
    token: str = ""

    @property
    def home(self) -> str:
        return self.ws or DEFAULT

    @property
    def other(self) -> str:
        return next(w for w in WORKSPACES if w != self.home)


def _static_file(route: Any) -> str:
    directory = Path(route.app.directory)
    return sorted(p.name for p in directory.iterdir() if p.is_file())[0]


def path_choices(world: World, who: Identity, param: str, spec: RouteSpec) -> list[Choice]:
    own, other = world.objects[who.home], world.objects[who.other]
    slot = "path:" + param
    if param == "path" and isinstance(spec.route, Mount):
        return [Choice(slot, _static_file(spec.route), OWN)]

    def of(values_own: list[str], values_other: list[str], ghost: str) -> list[Choice]:
        return (
            [Choice(slot, v, OWN) for v in values_own]
            + [Choice(slot, v, OTHER) for v in values_other]
            + [Choice(slot, ghost, GHOSTLY)]
        )

    if param == "tag":
        return of(
            [own.tags["pub"], own.tags["priv"], own.tags["common"]],
            [other.tags["pub"], other.tags["priv"]],
            GHOST["tag"],
        )
    if param == "name":
        return of(own.queries, other.queries, GHOST["name"])
    if param == "session_id":
        mine = [str(own.session_ids[who.role or "owner"])]
        return of(mine, [str(i) for i in other.session_ids.values()], GHOST["id"])
    if param == "workspace":
        return of([own.ws], [other.ws], GHOST["workspace"])
    if param == "case_id" and own.case_ids:
        return of([str(own.case_ids[0])], [str(i) for i in other.case_ids], GHOST["id"])
    if param == "account":
        return of(own.accounts[:1], other.accounts[:1], "ghostaccount")
    if param == "code" and own.reply_codes:
        return of(own.reply_codes, other.reply_codes, "ghostcode")
    # A parameter this file has not met: an identifier of each kind each
    # workspace has (numbers only, where the route takes a number).
    if _takes_int(spec, param):
        numbers = [_numbers(own), _numbers(other)]
        return of(numbers[0], numbers[1], GHOST["id"])
    return of(_identifiers(own), _identifiers(other), "ghost")


def _takes_int(spec: RouteSpec, param: str) -> bool:
    dependant = getattr(spec.route, "dependant", None)
    for p in getattr(dependant, "path_params", []):
        if p.name == param:
            return p.field_info.annotation is int
    return False


def _numbers(o: Objects) -> list[str]:
    return [str(o.outbox_ids[0]), str(o.session_ids["owner"]), o.posts["priv"].id]


def _identifiers(o: Objects) -> list[str]:
    """One identifier of each kind the workspace has."""
    return [
        o.tags["priv"],
        o.queries[0],
        o.accounts[0],
        o.users["owner"],
        str(o.outbox_ids[0]),
        str(o.session_ids["owner"]),
        o.posts["priv"].id,
    ]


def query_choices(
    world: World, who: Identity, spec: RouteSpec
) -> tuple[dict[str, Any], list[list[Choice]]]:
    """Fixed query values, and the variants of the ones that name objects
    (one at a time: the listening routes take exactly one selection)."""
    dependant = getattr(spec.route, "dependant", None)
    if dependant is None:
        return {}, [[]]
    own, other = world.objects[who.home], world.objects[who.other]
    fixed: dict[str, Any] = {}
    variants: list[list[Choice]] = []
    for q in dependant.query_params:
        name = q.name
        slot = "query:" + name
        if name in ("saved", "group", "q", "tag"):
            values = {
                "saved": (own.queries[0], other.queries[0], GHOST["name"]),
                "group": (own.groups[0], other.groups[0], "ghostgroup"),
                "q": (f"zq{own.ws}privwordlisten", f"zq{other.ws}privwordlisten", "ghostword"),
                "tag": (own.tags["pub"], other.tags["priv"], GHOST["tag"]),
            }[name]
            variants.extend(
                [[Choice(slot, v, c)] for v, c in zip(values, (OWN, OTHER, GHOSTLY), strict=True)]
            )
        elif name == "format":
            fixed[name] = "json"  # the one that carries every field
        elif name == "seen":
            fixed[name] = int(time.time())
        elif name in ("after",):
            fixed[name] = 0
        elif q.field_info.is_required():
            fixed[name] = 1
    return fixed, variants or [[]]


def body_choices(world: World, who: Identity, spec: RouteSpec) -> tuple[str, list[list[Choice]]]:
    """("json" | "form" | "", variants): JSON bodies with a post reference get
    one variant per post; forms with a workspace field one per workspace."""
    dependant = getattr(spec.route, "dependant", None)
    if dependant is None or not dependant.body_params:
        return "", [[]]
    own, other = world.objects[who.home], world.objects[who.other]
    kinds = {type(b.field_info).__name__ for b in dependant.body_params}
    if "Form" in kinds:
        names = {b.name for b in dependant.body_params}
        if "workspace" in names:
            return "form", [
                [Choice("form:workspace", own.ws, OWN)],
                [Choice("form:workspace", other.ws, OTHER)],
                [Choice("form:workspace", GHOST["workspace"], GHOSTLY)],
            ]
        return "form", [[]]
    model = dependant.body_params[0].field_info.annotation
    fields = set(getattr(model, "model_fields", {}))
    if {"network", "id"} <= fields:
        refs = [
            (own.posts["pub"], OWN),
            (other.posts["pub"], OTHER),
            (other.posts["held"], OTHER),
            (other.posts["priv"], OTHER),
        ]
        variants = [[Choice("body:ref", (p.network, p.id), c)] for p, c in refs]
        variants.append([Choice("body:ref", ("x", GHOST["id"]), GHOSTLY)])
        return "json", variants
    if "who" in fields:
        return "json", [
            [Choice("body:who", own.posts["pub"].author.id, OWN)],
            [Choice("body:who", other.posts["pub"].author.id, OTHER)],
            [Choice("body:who", "x-ghost", GHOSTLY)],
        ]
    return "json", [[]]


def _json_body(spec: RouteSpec, choices: list[Choice], own_agent: str) -> dict[str, Any]:
    model = spec.route.dependant.body_params[0].field_info.annotation
    body: dict[str, Any] = {}
    for name, info in getattr(model, "model_fields", {}).items():
        if name in ("on", "approve", "public", "allow_guests"):
            body[name] = True
        elif name == "role":
            body[name] = "muted"
        elif name == "network":
            body[name] = "x"
        elif name == "text":
            body[name] = "a walk through every room"
        elif name in ("name", "query", "group"):
            body[name] = "walker"
        elif name == "status":
            body[name] = "resolved"
        elif name == "priority":
            body[name] = "high"
        elif name == "labels":
            body[name] = ["walklabel"]
        elif name == "user":
            body[name] = own_agent
        elif info.is_required():
            body[name] = 1 if info.annotation is int else "walk"
    for c in choices:
        if c.slot == "body:ref":
            body["network"], body["id"] = c.value
        elif c.slot == "body:who":
            body["who"] = c.value
    return body


def _form_body(
    who: Identity, world: World, spec: RouteSpec, choices: list[Choice]
) -> dict[str, str]:
    form: dict[str, str] = {"csrf": who.token}
    for b in spec.route.dependant.body_params:
        if b.name == "name":
            form["name"] = world.objects[who.home].users[who.role] if who.role else "nobody"
        elif b.name in ("password", "current_password"):
            form[b.name] = "not the password at all"  # never signs anyone in or out
        elif b.name in ("new_password", "confirm_password"):
            form[b.name] = "another long password"
        elif b.name == "next":
            form[b.name] = "/"
        elif b.name == "public":
            form[b.name] = "1"
        else:
            form[b.name] = "walk"
    for c in choices:
        if c.slot == "form:workspace":
            form["workspace"] = c.value
    return form


# -- one identity's walk -------------------------------------------------------------------


@dataclass
class Walk:
    world: World
    who: Identity
    findings: list[str] = field(default_factory=list)
    statuses: dict[tuple[str, str, str, tuple[tuple[str, str], ...]], int] = field(
        default_factory=dict
    )
    seen_own: set[str] = field(default_factory=set)
    # Every marker this identity has sent so far. The audit log records what its own
    # user asked for (a report downloaded for a query naming the other workspace's
    # word is an export of *this* workspace, with that query as its detail), so on
    # the audit pages those are echoes; anything else of the other workspace there
    # (its users, its actions, its objects' names) is still a leak.
    sent_before: set[str] = field(default_factory=set)

    def headers(self) -> dict[str, str]:
        n = next(_addresses)
        return {
            "origin": self.world.server.url,
            "x-csrf-token": self.who.token,
            "x-forwarded-for": f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}",
        }

    # The leak check ---------------------------------------------------------

    def check(
        self, label: str, sent: str, text: str, path_ws: set[str], audit_page: bool = False
    ) -> None:
        mine = set(TOKEN_FULL.findall(sent.lower()))
        if audit_page:
            mine |= self.sent_before
        for tok in set(TOKEN_FULL.findall(text.lower())):
            ws, vis = TOKEN.match(tok).groups()  # type: ignore[union-attr]
            if tok in mine or tok in self.world.planted:
                continue
            if ws == self.who.home:
                self.seen_own.add(tok)
            if self.forbidden(ws, vis, path_ws):
                self.findings.append(f"LEAK {label}: {tok!r}")

    def forbidden(self, ws: str, vis: str, path_ws: set[str]) -> bool:
        if self.who.ws is None and vis == "priv":
            return True
        if ws == self.who.home:
            return False
        # A public page of another workspace, named in its URL, is public.
        return not (vis == "pub" and ws in path_ws)


AUDIT_PAGES = frozenset({"/audit", "/api/audit"})
TOKEN_FULL = re.compile(r"zq(?:acme|globex)(?:pub|priv)[a-z0-9]*")


def sign_in(world: World, who: Identity) -> None:
    client = who.client
    client.cookies.clear()
    page = client.get("/login", headers={"x-forwarded-for": "10.255.0.1"})
    who.token = _csrf(page.text)
    if who.ws is None:
        return
    name = world.objects[who.ws].users[who.role or ""]
    r = client.post(
        "/login",
        data={
            "name": name,
            "password": PASSWORD,
            "csrf": who.token,
            "next": "/",
            "workspace": who.ws,
        },
        headers={
            "origin": world.server.url,
            "x-forwarded-for": f"10.254.0.{next(_addresses) % 250}",
        },
    )
    assert r.status_code == 303, (
        f"{who.name} cannot sign in to workspace {who.ws!r} (name, password, workspace): "
        f"{r.status_code} {r.text[:300]}"
    )
    who.token = _csrf(client.get("/login").text)


def _csrf(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html) or re.search(
        r'<meta name="csrf-token" content="([^"]+)"', html
    )
    assert m, "the page carries a CSRF token"
    return m.group(1)


def _still_signed_in(who: Identity) -> bool:
    return who.client.get("/api/account/sessions").status_code == 200


@dataclass
class Plan:
    """Every request the walk sends to one route, worked out once."""

    spec: RouteSpec
    fixed: dict[str, Any]  # query values every request carries
    body: str  # "json" | "form" | ""
    variants: list[list[Choice]]
    ghosts: dict[str, Choice]  # slot -> the ghost value of that slot


def plan(world: World, who: Identity, spec: RouteSpec) -> Plan:
    # Each path parameter's values as one-choice lists, so every part of a
    # combination is a list of choices.
    per_param = [[[c] for c in path_choices(world, who, p, spec)] for p in _path_params(spec.path)]
    fixed, query_variants = query_choices(world, who, spec)
    kind, body_variants = body_choices(world, who, spec)
    found: list[list[Choice]] = [
        [c for part in combo for c in part]
        for combo in itertools.product(*per_param, query_variants, body_variants)
    ]
    ghosts = {c.slot: c for v in found for c in v if c.category == GHOSTLY}
    return Plan(spec, fixed, kind, found, ghosts)


def category(choices: list[Choice]) -> str:
    return max((c.category for c in choices), key=RANK.__getitem__, default=OWN)


def names_other_workspace(choices: list[Choice]) -> bool:
    """A URL that names the other workspace (``/w/{workspace}/…``) asks for
    its public pages, which anyone may read: no ghost to compare with."""
    return any(c.slot == "path:workspace" and c.category == OTHER for c in choices)


def key_of(choices: list[Choice]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((c.slot, json.dumps(c.value)) for c in choices))


def ghost_twin(p: Plan, choices: list[Choice]) -> list[Choice]:
    """The same request with every other-workspace value replaced by the ghost of its slot."""
    return [p.ghosts[c.slot] if c.category == OTHER else c for c in choices]


def send(walk: Walk, p: Plan, choices: list[Choice], phase: str) -> None:
    world, who, spec = walk.world, walk.who, p.spec
    path_values = {c.slot[5:]: str(c.value) for c in choices if c.slot.startswith("path:")}
    url = _fill(spec.path, path_values)
    params = dict(p.fixed)
    params.update({c.slot[6:]: c.value for c in choices if c.slot.startswith("query:")})
    label = f"{who.name} {spec.method} {url}"
    path_ws = {str(c.value) for c in choices if c.slot == "path:workspace"}
    world.walked.add((spec.method, spec.path))
    if spec.method == "WS":
        status, text, sent = _websocket(world, who, url), "", url
    else:
        request: dict[str, Any] = {"params": params, "headers": walk.headers()}
        if p.body == "json":
            request["json"] = _json_body(spec, choices, world.objects[who.home].users["agent"])
        elif p.body == "form":
            request["data"] = _form_body(who, world, spec, choices)
        response = who.client.request(spec.method, url, **request)
        status = response.status_code
        text = response.text + "\n" + "\n".join(f"{k}: {v}" for k, v in response.headers.items())
        sent = f"{response.request.url} {json.dumps(request.get('json') or request.get('data'))}"
        if params:
            label += "?" + "&".join(f"{k}={v}" for k, v in params.items())
        if request.get("json") is not None:
            label += " " + json.dumps(request["json"])
        elif p.body == "form":
            label += " form:" + json.dumps(
                {k: v for k, v in request["data"].items() if k != "csrf"}
            )
        if status >= 500:
            walk.findings.append(f"5xx {label}: {status} {response.text[:200]}")
        if spec.method in UNSAFE:
            # What a state change names may be stored by design even when it
            # is refused (a failed sign-in into another workspace is a line in
            # that workspace's audit log), and from then on it is the walk's.
            # Reads come first in each walk, so they are checked before this.
            world.planted.update(TOKEN_FULL.findall(sent.lower()))
        if "set-cookie" in response.headers and who.ws is not None and not _still_signed_in(who):
            sign_in(world, who)
        elif "set-cookie" in response.headers:
            who.token = _csrf(who.client.get("/login").text)
    walk.check(label, sent, text, path_ws, audit_page=spec.path in AUDIT_PAGES)
    walk.sent_before.update(TOKEN_FULL.findall(sent.lower()))
    walk.statuses[(phase, spec.method, spec.path, key_of(choices))] = status


def _websocket(world: World, who: Identity, path: str) -> int:
    """The handshake's answer: 101 accepted, or the status it was refused with."""
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    cookie = "; ".join(f"{k}={v}" for k, v in who.client.cookies.items())
    url = world.server.url.replace("http://", "ws://") + path
    try:
        with connect(url, additional_headers={"cookie": cookie}, open_timeout=10):
            return 101
    except InvalidStatus as exc:
        return int(exc.response.status_code)


def run_walk(world: World, who: Identity) -> Walk:
    walk = Walk(world, who)
    plans = [plan(world, who, spec) for spec in route_table(world.server.app)]
    reads = [p for p in plans if p.spec.method not in UNSAFE]
    writes = [p for p in plans if p.spec.method in UNSAFE]
    # Owners and agents may change their own workspace: they send state
    # changes only at the other workspace's objects and at ghosts, so their
    # walk does not empty what the other identities' walks aim at.
    may_act = who.role in ("owner", "agent")
    for phase, group in (("read", reads), ("write", writes), ("reread", reads)):
        for p in group:
            for choices in p.variants:
                if phase == "write" and may_act and category(choices) == OWN:
                    continue
                if phase == "reread" and category(choices) == OWN:
                    continue
                send(walk, p, choices, phase)
    compare_with_ghosts(walk, plans)
    return walk


def compare_with_ghosts(walk: Walk, plans: list[Plan]) -> None:
    """Another workspace's object answers as an object that does not exist."""
    statuses = walk.statuses
    for p in plans:
        for choices in p.variants:
            if category(choices) != OTHER or names_other_workspace(choices):
                continue
            for phase in ("read", "write", "reread"):
                status = statuses.get((phase, p.spec.method, p.spec.path, key_of(choices)))
                twin = statuses.get(
                    (phase, p.spec.method, p.spec.path, key_of(ghost_twin(p, choices)))
                )
                if status is None or twin is None or twin == status:
                    continue
                named = ", ".join(f"{c.slot}={c.value}" for c in choices if c.category == OTHER)
                walk.findings.append(
                    f"STATUS {walk.who.name} {p.spec.method} {p.spec.path} [{phase}] naming "
                    f"{named}: {status}, but {twin} for a ghost"
                )


# -- the tests ----------------------------------------------------------------------------


def _identity(world: World, name: str) -> Identity:
    client = httpx.Client(base_url=world.server.url, timeout=30)
    if name == "anonymous":
        return Identity(name, None, None, client)
    ws, role = name.split("-")
    return Identity(name, ws, role, client)


def _viewer_skip(viewer_id: int) -> Any:
    """What a viewer may change of its own workspace: its own sessions."""

    def skip(table: str, row: sa.RowMapping) -> bool:
        if table in BOOKKEEPING:
            return True
        return table == "user_sessions" and row["user_id"] == viewer_id

    return skip


def _bookkeeping(table: str, row: sa.RowMapping) -> bool:
    return table in BOOKKEEPING


# Rows the server's own background work rewrites: the runtime's case builder
# moves the default workspace's cursor whenever the pipeline stores a post,
# whichever workspace the post is for (it reads nothing of the other's).
BOOKKEEPING = frozenset({"inbox_cursors"})


# What a web guest's post in a public room stores: an anonymous visitor may
# add these rows to any workspace whose public room takes guests (and its
# URL names it), but never change or remove a row there.
GUEST_WRITES = frozenset(
    {
        "posts",
        "post_terms",
        "post_raws",
        "raw_payloads",
        "authors",
        "web_guests",
        "room_approvals",
        "post_classes",
        "query_matches",
    }
)


def _changes(
    before: dict[str, list[tuple[str, ...]]],
    after: dict[str, list[tuple[str, ...]]],
    may_add: frozenset[str] = frozenset(),
) -> list[str]:
    out = []
    for table in sorted(set(before) | set(after)):
        old, new = before.get(table, []), after.get(table, [])
        if table == "audit_events" or table in may_add:
            # Added rows only: sign-ins (failed too) are lines of the workspace
            # they name, and guests post; nothing may change or go.
            gone = [r for r in old if r not in new]
            if gone:
                out.append(f"{table}: {len(gone)} rows changed or removed, e.g. {gone[0]}")
            continue
        if old != new:
            added = [r for r in new if r not in old]
            removed = [r for r in old if r not in new]
            out.append(
                f"{table}: {len(added)} rows added, {len(removed)} removed/changed; "
                f"e.g. {(added or removed)[0]}"
            )
    return out


@pytest.mark.parametrize("identity", IDENTITIES)
def test_nothing_of_another_workspace_is_readable_or_writable(world: World, identity: str) -> None:
    who = _identity(world, identity)
    try:
        sign_in(world, who)
        other = world.ws_id(who.other)
        own = world.ws_id(who.home)
        other_before = workspace_rows(world.engine, other, _bookkeeping)
        viewer_id = world.objects[who.home].user_ids.get("viewer", -1)
        own_before = workspace_rows(world.engine, own, _viewer_skip(viewer_id))
        walk = run_walk(world, who)
        world.walks_done += 1
        other_after = workspace_rows(world.engine, other, _bookkeeping)
        guest = GUEST_WRITES if who.ws is None else frozenset()
        for change in _changes(other_before, other_after, guest):
            walk.findings.append(f"CHANGED {who.other} after {who.name}'s walk: {change}")
        if who.role == "viewer":
            own_after = workspace_rows(world.engine, own, _viewer_skip(viewer_id))
            # A viewer may post where a guest may (its public room takes guests):
            # it adds what a guest's post adds, and changes nothing else.
            for change in _changes(own_before, own_after, GUEST_WRITES):
                walk.findings.append(f"VIEWER CHANGED {who.home}: {change}")
    finally:
        who.client.close()
    # The walk read real data: its own workspace's rooms, posts and queries.
    o = world.objects[who.home]
    expected = {f"zq{o.ws}pubbodypub"}
    if who.ws is not None:
        expected |= {f"zq{o.ws}privbodypriv", f"zq{o.ws}privbodylisten", f"zq{o.ws}privbodycase"}
    assert expected <= walk.seen_own, f"the walk never saw {sorted(expected - walk.seen_own)}"
    shown = walk.findings[:MAX_FINDINGS_SHOWN]
    more = len(walk.findings) - len(shown)
    assert not walk.findings, (
        f"{len(walk.findings)} findings for {identity}:\n"
        + "\n".join(shown)
        + (f"\n… and {more} more" if more else "")
    )


def test_the_walk_covers_the_route_table(world: World) -> None:
    """Every route and method of the app, as the router has them, and every
    path the OpenAPI schema describes, is one the walk knows how to send."""
    app = world.server.app
    table = {(s.method, s.path) for s in route_table(app)}
    # The schema writes ``{name:path}`` as ``{name}``.
    paths = {re.sub(r"\{(\w+):\w+\}", r"{\1}", path) for _, path in table}
    schema = app.openapi()  # type: ignore[attr-defined]
    missing = sorted(p for p in schema["paths"] if p not in paths)
    assert not missing, f"the route table lacks schema paths: {missing}"
    who = _identity(world, "anonymous")
    try:
        sign_in(world, who)
        walked: set[tuple[str, str]] = set()
        for spec in route_table(app):
            assert plan(world, who, spec).variants, f"no request for {spec.method} {spec.path}"
            walked.add((spec.method, spec.path))
    finally:
        who.client.close()
    assert walked == table
    # When every identity's walk ran before this test, they sent every route.
    if world.walks_done == len(IDENTITIES):
        assert world.walked == table, sorted(table - world.walked)


def test_every_workspace_table_is_seeded(world: World) -> None:
    """A table of workspace data that no seeder fills would be walked empty:
    add a seeder (tenancy_fixtures.SEEDERS) for its kind."""
    from hubbub.store.audience_schema import AUDIENCE_TABLES
    from hubbub.store.inbox_schema import INBOX_TABLES

    # Kinds whose code does not exist yet have nothing to seed them with.
    waiting = {"inbox": INBOX_TABLES, "audience": AUDIENCE_TABLES}
    kinds = world.objects[DEFAULT].kinds
    excused = {t for kind, tables in waiting.items() if kind not in kinds for t in tables}
    assert not unscoped_tables(world.engine), "tables whose rows name no workspace"
    for ws in WORKSPACES:
        rows = workspace_rows(world.engine, world.ws_id(ws))
        empty = [t for t in direct_tables(world.engine) if not rows.get(t) and t not in excused]
        assert not empty, f"{ws}: no rows in {empty}"


def _live(world: World, who: Identity, tag: str) -> Any:
    from websockets.sync.client import connect

    cookie = "; ".join(f"{k}={v}" for k, v in who.client.cookies.items())
    url = world.server.url.replace("http://", "ws://") + f"/api/rooms/{tag}/live"
    return connect(url, additional_headers={"cookie": cookie}, open_timeout=10)


def test_live_posts_stay_in_their_workspace(world: World) -> None:
    """An acme agent's socket on acme's #commonroom gets acme's posts and
    never globex's, though globex has a room of the same tag; a socket of an
    acme member on globex's private room is refused."""
    from websockets.exceptions import InvalidStatus

    acme, globex = _identity(world, "acme-agent"), _identity(world, "globex-agent")
    try:
        sign_in(world, acme)
        sign_in(world, globex)
        # A private room only globex has (the walks may have opened acme
        # rooms under every tag they sent): opened by globex's agent now.
        private = "zqglobexprivlateroom"
        r = globex.client.post(
            f"/api/rooms/{private}/open",
            json={"public": False},
            headers={"origin": world.server.url, "x-csrf-token": globex.token},
        )
        assert r.status_code == 200, r.text
        with _live(world, globex, private):
            pass  # its own member may listen
        with pytest.raises(InvalidStatus) as refused, _live(world, acme, private):
            pass
        assert refused.value.response.status_code == 404

        def write(who: Identity, text: str) -> None:
            r = who.client.post(
                f"/api/rooms/{world.objects[DEFAULT].tags['common']}/posts",
                json={"text": text},
                headers={"origin": world.server.url, "x-csrf-token": who.token},
            )
            assert r.status_code == 201, r.text

        with _live(world, acme, world.objects[DEFAULT].tags["common"]) as socket:
            write(acme, "zqacmepubfirstlive")
            write(globex, "zqglobexpubsecretlive")
            write(acme, "zqacmepublastlive")
            frames: list[str] = []
            while not any("zqacmepublastlive" in f for f in frames):
                frames.append(str(socket.recv(timeout=15)))
        assert any("zqacmepubfirstlive" in f for f in frames)
        leaked = [f for f in frames if "zqglobex" in f]
        assert not leaked, f"globex's post reached an acme socket: {leaked[0][:300]}"
    finally:
        acme.client.close()
        globex.client.close()
