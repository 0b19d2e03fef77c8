"""Two workspaces full of marked data, for the tenancy test.

Every object of workspace W carries marker tokens ``zq<W>pub…`` (what the
app may show to anyone: posts of a public room, its title, its hosts) or
``zq<W>priv…`` (what only W's members may see: private rooms, held and
removed posts, saved queries, accounts, outbox, sessions, guests, source
health, cases, followers). User names are public: they sign members' posts. A token in an answer that the requester did not send itself
is data the answer carried, so a leak is a token of the wrong workspace (or
a private token for an anonymous reader) in a body or a header.

Adding a kind of data is one function in ``SEEDERS``: it plants that kind
in one workspace and records the identifiers routes take (``Objects``).
``test_every_table_is_seeded`` names any workspace table no seeder fills,
so a new kind cannot be forgotten silently.

Seeding goes through the code users reach: the real CLI (``CliRunner`` over
``hubbub.cli.main``) for accounts and saved queries; the accounts code
``hubbub user create`` calls, and the store and repository code the runtime
and the web use, for the rest (there is no CLI for rooms, pins or sessions). Room titles have no setter yet, so one SQL
update gives them one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from click.testing import CliRunner

from hubbub.post import Author, Post
from hubbub.store import Store
from tests.web.conftest import PASSWORD

WORKSPACES = ("acme", "globex")
DEFAULT = "acme"  # the server's default workspace (``serve --workspace``)
ROLES = ("owner", "agent", "viewer")
COMMON_TAG = "commonroom"  # a public room of the same tag in both workspaces
GHOST = {"tag": "zzghostroom", "name": "ghostquery", "id": str(2**40), "workspace": "nosuchws"}
TOKEN = re.compile(r"zq(acme|globex)(pub|priv)[a-z0-9]*")


def token(ws: str, visibility: str, kind: str) -> str:
    return f"zq{ws}{visibility}{kind}"


@dataclass
class Objects:
    """What one workspace holds, by the names routes take."""

    ws: str
    users: dict[str, str] = field(default_factory=dict)  # role -> name
    user_ids: dict[str, int] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)  # pub | priv | queue | common -> tag
    posts: dict[str, Post] = field(default_factory=dict)  # kind -> post
    queries: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    accounts: list[str] = field(default_factory=list)
    outbox_ids: list[int] = field(default_factory=list)
    case_ids: list[int] = field(default_factory=list)
    reply_codes: list[str] = field(default_factory=list)
    session_ids: dict[str, int] = field(default_factory=dict)  # role -> an extra session
    kinds: set[str] = field(default_factory=set)  # kinds seeded (the seeders' names)


@dataclass
class Seeding:
    store: Store
    db_url: str
    tmp: Path
    objects: Objects

    @property
    def ws(self) -> str:
        return self.objects.ws

    def t(self, visibility: str, kind: str) -> str:
        return token(self.ws, visibility, kind)


def cli(seeding: Seeding, *args: str, stdin: str = "") -> str:
    """Run ``hubbub ARGS --db … --workspace …`` as a user would; fail loudly."""
    from hubbub.cli import main

    runner = CliRunner(env={"HUBBUB_ACCOUNTS_KEY_FILE": str(seeding.tmp / "accounts.key")})
    full = [*args, "--db", seeding.db_url, "--workspace", seeding.ws]
    result = runner.invoke(main, full, input=stdin, catch_exceptions=False)
    assert result.exit_code == 0, f"hubbub {' '.join(args)}: {result.output}"
    return result.output


# -- seeders: one function per kind of data -------------------------------------


def seed_users(s: Seeding) -> None:
    """An owner, an agent and a viewer, by the accounts code ``hubbub user
    create`` calls (the CLI would open the store three more times)."""
    from hubbub.web.accounts import create_user

    for role in ROLES:
        # Public: a member's name is the author of what they post in a public room.
        name = s.t("pub", role)
        user = create_user(s.store, s.ws, name, PASSWORD, role=role)
        s.objects.users[role] = name
        s.objects.user_ids[role] = user.id


def seed_sessions(s: Seeding) -> None:
    """One extra session per user, from a browser whose name is marked."""
    from hubbub.web.user_sessions import SessionPolicy, start_session

    for role, user_id in s.objects.user_ids.items():
        _token, session_id = start_session(
            s.store,
            s.ws,
            user_id,
            now=datetime.now(UTC),
            policy=SessionPolicy(),
            address="10.9.9.9",
            user_agent=s.t("priv", f"browser{role}"),
        )
        s.objects.session_ids[role] = session_id


def _post(s: Seeding, kind: str, visibility: str, tag: str | None, n: int, **extra: object) -> Post:
    base = {"acme": 1_000_000_000, "globex": 2_000_000_000}[s.ws]
    words = f"{s.t(visibility, 'word' + kind)} and {s.t(visibility, 'body' + kind)}"
    text = f"{extra.pop('prefix', '')}{words}" + (f" #{tag}" if tag else "")
    return Post(
        network="x",
        id=str(base + n),
        author=Author(
            network="x",
            id=f"x-{s.ws}-{n}",
            handle=s.t(visibility, f"author{n}"),
            display_name=s.t(visibility, f"authorname{n}"),
            description=s.t(visibility, f"bio{n}"),
        ),
        text=text,
        created_at=datetime.now(UTC) - timedelta(minutes=30 - n),
        langs=("en",),
        hashtags=(tag,) if tag else (),
        **extra,
    )


def seed_rooms(s: Seeding) -> None:
    """A public room, a private room, a public room with an approval queue,
    and the room both workspaces have (same tag): each with a marked title."""
    from hubbub.web.rooms import RoomRepo

    repo = RoomRepo(s.store, s.ws)
    s.objects.tags = {
        "pub": s.t("pub", "room"),
        "priv": s.t("priv", "room"),
        "queue": s.t("pub", "queue"),
        "common": COMMON_TAG,
    }
    for kind, tag in s.objects.tags.items():
        repo.ensure(tag, public=kind != "priv")
    repo.update(s.objects.tags["queue"], approval=True, allow_guests=True)
    repo.update(s.objects.tags["pub"], allow_guests=True)
    from hubbub.store.web_schema import rooms

    with s.store.engine.begin() as conn:
        for kind, tag in s.objects.tags.items():
            visibility = "priv" if kind == "priv" else "pub"
            conn.execute(
                rooms.update()
                .where(rooms.c.tag == tag, rooms.c.workspace_id == _ws_id(s))
                .values(title=s.t(visibility, "title" + kind))
            )


def _ws_id(s: Seeding) -> int:
    return int(s.store.workspace_id(s.ws))


def seed_posts(s: Seeding) -> None:
    """Posts in each room (a Q&A question among them), a post only listening
    sees, a held one and one a host removed; with a raw payload and a cursor."""
    from hubbub.store import Ingest, RawPayload

    tags = s.objects.tags
    made = {
        "pub": _post(s, "pub", "pub", tags["pub"], 1, prefix="Q1 "),
        "pub2": _post(s, "pubanswer", "pub", tags["pub"], 2, prefix="A1 "),
        "priv": _post(s, "priv", "priv", tags["priv"], 3),
        "common": _post(s, "common", "pub", COMMON_TAG, 4),
        "listen": _post(s, "listen", "priv", None, 5, aliases=(s.t("priv", "alias"),)),
        "held": _post(s, "held", "priv", tags["queue"], 6),
        "removed": _post(s, "removed", "priv", tags["pub"], 7),
    }
    raw = RawPayload(
        body=s.t("priv", "rawbody").encode(),
        source=s.t("priv", "rawsource"),
        fetched_at=datetime.now(UTC),
        format="hubbub",
    )
    s.store.ingest(
        [Ingest(p, raw) for p in made.values()],
        workspace=s.ws,
        cursor=(s.t("priv", "cursorsource"), "42"),
    )
    s.objects.posts.update(made)


def seed_room_people(s: Seeding) -> None:
    from hubbub.web.rooms import RoomRepo

    repo = RoomRepo(s.store, s.ws)
    pub = s.objects.tags["pub"]
    repo.set_person(pub, "host", "x", s.t("pub", "hosthandle"), s.t("pub", "hostlabel"))
    repo.set_person(pub, "muted", "x", s.t("priv", "mutedid"), s.t("priv", "mutedlabel"))
    repo.set_person(
        s.objects.tags["priv"], "guest", "x", s.t("priv", "guesthandle"), s.t("priv", "guestlabel")
    )


def seed_web_guests(s: Seeding) -> None:
    from hubbub.web.rooms import RoomRepo

    RoomRepo(s.store, s.ws).note_guest(
        "web:guest:" + s.t("priv", "guestsid"), "10.7.7.7", s.t("priv", "guestname")
    )


def seed_held(s: Seeding) -> None:
    from hubbub.web.rooms import RoomRepo

    repo = RoomRepo(s.store, s.ws)
    repo.hold(repo.get(s.objects.tags["queue"]), s.objects.posts["held"])


def seed_pins_and_removals(s: Seeding) -> None:
    from hubbub.chat.repo import ChatRepo

    chat = ChatRepo(s.store, s.ws)
    pub, by = s.objects.tags["pub"], s.objects.users["owner"]
    chat.set_pin(pub, "x", s.objects.posts["pub"].id, by, True)
    chat.set_removed(pub, "x", s.objects.posts["removed"].id, by, True)


def seed_queries(s: Seeding) -> None:
    """A saved query (by the CLI, which also stores its matches)."""
    name, group = s.t("priv", "qname"), s.t("priv", "group")
    cli(s, "listen", "add", name, s.t("priv", "wordlisten"), "--group", group)
    s.objects.queries.append(name)
    s.objects.groups.append(group)


def seed_accounts(s: Seeding) -> None:
    name = s.t("priv", "acct")
    server = f"https://{s.t('priv', 'server')}.example"
    cli(s, "account", "add", "mastodon", "--name", name, "--server", server, stdin="tok\n")
    s.objects.accounts.append(name)


def seed_outbox(s: Seeding) -> None:
    from hubbub.outbox.queue import Outbox

    action = Outbox(s.store, s.ws).enqueue(
        batch="b" + s.ws,
        account=s.objects.accounts[0],
        network="mastodon",
        kind="post",
        payload={"text": s.t("priv", "outboxtext")},
    )
    s.objects.outbox_ids.append(action.id)


def seed_source_health(s: Seeding) -> None:
    from hubbub.networks.health import HealthSnapshot, State
    from hubbub.store.source_health import write_health

    snap = HealthSnapshot(
        source="x:search:" + s.t("priv", "healthsource"),
        network="x",
        state=State.STOPPED,
        reason=s.t("priv", "healthreason"),
        updated_at=datetime.now(UTC).timestamp(),
    )
    write_health(s.store, s.ws, [snap])


def seed_inbox(s: Seeding) -> None:
    """A case: an X account that knows its handle, a customer's mention of
    it (the case's post), a note, a saved reply, an agent's settings."""
    from hubbub.inbox.build import build_cases
    from hubbub.inbox.model import Actor, Hours
    from hubbub.inbox.service import Inbox
    from hubbub.store.network_accounts import record_check
    from hubbub.store.scope import scope

    account, handle = s.t("priv", "xacct"), f"{s.ws}brand"
    cli(s, "account", "add", "x", "--name", account, stdin="tok\n")
    record_check(s.store, s.ws, account, f"ok: @{handle}")
    mention = _post(
        s, "case", "priv", None, 8, prefix=f"@{handle} my order broke ", mentions=(handle,)
    )
    from hubbub.store import Ingest

    s.store.ingest([Ingest(mention)], workspace=s.ws)
    s.objects.posts["case"] = mention
    inbox = Inbox(scope(s.store, s.ws))
    build_cases(inbox.scope)
    operator = Actor("cli:tenancy")
    cases = inbox.list_cases(operator)
    assert cases, f"{s.ws}: the mention made no case"
    s.objects.case_ids.extend(c.id for c in cases)
    inbox.add_note(operator, cases[0].id, s.t("priv", "casenote"))
    code = s.t("priv", "replycode")
    inbox.save_reply(operator, code, s.t("priv", "savedreplytext"))
    s.objects.reply_codes.append(code)
    inbox.set_agent(operator, s.objects.users["agent"], available=True, cap=5)
    inbox.set_labels(operator, cases[0].id, [s.t("priv", "label")])
    inbox.add_rule(operator, s.objects.queries[0], ["complaint"])
    inbox.set_hours(operator, Hours(timezone="UTC", days=(0, 1, 2, 3, 4)))
    inbox.set_target(operator, "normal", first_response_minutes=60, resolution_minutes=600)


def seed_audience(s: Seeding) -> None:
    """A finished followers snapshot of the Mastodon account with one
    marked follower, and the workspace's audience settings."""
    from hubbub.store.audience_repo import AudienceRepo, Member
    from hubbub.store.scope import scope

    repo = AudienceRepo(scope(s.store, s.ws))
    repo.set_settings(retention_days=30)
    account = s.objects.accounts[0]
    snap = repo.open_snapshot(
        account, "mastodon", "followers", f"id-{s.ws}", s.t("priv", "subject")
    )
    follower = Member(
        member_id=f"follower-{s.ws}",
        position=0,
        handle=s.t("priv", "followerhandle"),
        name=s.t("priv", "followername"),
        description=s.t("priv", "followerbio"),
        created_at=datetime.now(UTC) - timedelta(days=400),
        posts=10,
        followers=5,
        following=7,
        default_avatar=False,
        has_url=False,
        declared_bot=False,
        declared_by=None,
        suspicion=0.1,
        suspicious=False,
        reasons=(),
        fetched_at=datetime.now(UTC),
    )
    repo.save_page(snap.id, [follower], None)
    repo.finish(snap.id, "done")


# In order: later seeders use what earlier ones made (users before sessions,
# rooms before posts, accounts before the outbox).
SEEDERS: tuple[Callable[[Seeding], None], ...] = (
    seed_users,
    seed_sessions,
    seed_rooms,
    seed_posts,
    seed_room_people,
    seed_web_guests,
    seed_held,
    seed_pins_and_removals,
    seed_queries,
    seed_accounts,
    seed_outbox,
    seed_source_health,
    seed_inbox,
    seed_audience,
)


def seed_world(store: Store, db_url: str, tmp: Path) -> dict[str, Objects]:
    world = {}
    for ws in WORKSPACES:
        seeding = Seeding(store, db_url, tmp, Objects(ws))
        for seeder in SEEDERS:
            seeder(seeding)
            seeding.objects.kinds.add(seeder.__name__.removeprefix("seed_"))
        world[ws] = seeding.objects
    return world


# -- what a workspace's rows are, through SQL -------------------------------------

WS_COLUMN = "workspace_id"
# Tables that belong to no workspace.
GLOBAL_TABLES = frozenset({"workspaces", "alembic_version"})


def _tables(engine: sa.Engine) -> dict[str, sa.Table]:
    meta = sa.MetaData()
    meta.reflect(engine)
    # FTS5 shadow tables and other virtual tables are indexes, not data.
    return {
        name: t
        for name, t in meta.tables.items()
        if name not in GLOBAL_TABLES and not re.search(r"_fts(_\w+)?$", name)
    }


Rows = dict[str, list[tuple[str, ...]]]
Skip = Callable[[str, sa.RowMapping], bool]


def workspace_rows(engine: sa.Engine, ws_id: int, skip: Skip | None = None) -> Rows:
    """Every row of workspace ``ws_id`` in every table, as sorted text tuples:
    direct (the workspace column) or through a foreign key to a table that
    has one. ``skip(table, row)`` leaves rows out."""
    tables = _tables(engine)
    snapshot: Rows = {}
    with engine.connect() as conn:
        for name, table in sorted(tables.items()):
            query = _rows_of(table, tables, ws_id)
            if query is None:
                continue
            rows = conn.execute(query).mappings().all()
            snapshot[name] = sorted(
                tuple(repr(v) for v in row.values())
                for row in rows
                if skip is None or not skip(name, row)
            )
    return snapshot


def direct_tables(engine: sa.Engine) -> list[str]:
    """Tables with a workspace column of their own."""
    return sorted(n for n, t in _tables(engine).items() if WS_COLUMN in t.c)


def _rows_of(table: sa.Table, tables: dict[str, sa.Table], ws_id: int) -> sa.Select | None:
    if WS_COLUMN in table.c:
        return sa.select(table).where(table.c[WS_COLUMN] == ws_id)
    for fk in table.foreign_keys:
        parent = tables.get(fk.column.table.name)
        if parent is not None and WS_COLUMN in parent.c:
            owned = sa.select(fk.column).where(parent.c[WS_COLUMN] == ws_id)
            return sa.select(table).where(fk.parent.in_(owned.scalar_subquery()))
    return None


def unscoped_tables(engine: sa.Engine) -> list[str]:
    """Data tables whose rows cannot be told apart by workspace."""
    tables = _tables(engine)
    return sorted(n for n, t in tables.items() if _rows_of(t, tables, 0) is None)
