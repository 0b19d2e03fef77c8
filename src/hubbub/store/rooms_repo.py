"""Rows of a workspace's rooms: settings, people, the approval queue and the
web guests a block extends to.

Plain records in, plain records out: what a room means (who is hidden, what
a browser sees) is ``hubbub.web.rooms``. Tags arrive folded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from hubbub.store.room_access_schema import web_guests
from hubbub.store.scope import Scope
from hubbub.store.web_schema import room_approvals, room_people, rooms

_IN_CHUNK = 500


@dataclass(slots=True, frozen=True)
class PersonRecord:
    role: str
    network: str
    who: str
    label: str | None
    address: str | None
    name_key: str | None


@dataclass(slots=True)
class RoomRecord:
    id: int
    tag: str
    allow_guests: bool
    approval: bool
    title: str | None
    public: bool
    people: list[PersonRecord] = field(default_factory=list)


class RoomRows:
    """The room rows of ``scope``'s workspace."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def _people(self, conn: sa.Connection, room_id: int) -> list[PersonRecord]:
        rp = room_people
        found = conn.execute(
            sa.select(
                rp.c.role, rp.c.network, rp.c.who, rp.c.label, rp.c.address, rp.c.name_key
            ).where(self.scope.owns(rp), rp.c.room_id == room_id)
        ).all()
        return [PersonRecord(*r) for r in found]

    def _record(self, conn: sa.Connection, row: Any) -> RoomRecord:
        return RoomRecord(
            int(row["id"]),
            row["tag"],
            bool(row["allow_guests"]),
            bool(row["approval"]),
            row["title"],
            bool(row["public"]),
            self._people(conn, int(row["id"])),
        )

    def find(self, tag: str) -> RoomRecord | None:
        with self.scope.engine.connect() as conn:
            row = (
                conn.execute(sa.select(rooms).where(self.scope.owns(rooms), rooms.c.tag == tag))
                .mappings()
                .first()
            )
            return None if row is None else self._record(conn, row)

    def all(self) -> list[RoomRecord]:
        with self.scope.engine.connect() as conn:
            found = (
                conn.execute(sa.select(rooms).where(self.scope.owns(rooms)).order_by(rooms.c.id))
                .mappings()
                .all()
            )
            return [self._record(conn, row) for row in found]

    def public_tags(self) -> tuple[str, ...]:
        """Tags of the public rooms, oldest first: what the runtime follows on
        the networks (private rooms are not followed there)."""
        stmt = (
            sa.select(rooms.c.tag)
            .where(self.scope.owns(rooms), rooms.c.public.is_(True))
            .order_by(rooms.c.id)
        )
        with self.scope.engine.connect() as conn:
            return tuple(conn.execute(stmt).scalars())

    def insert(self, tag: str, *, public: bool) -> None:
        """A room row with the defaults; one opened at the same moment stands."""
        now = datetime.now(UTC)
        try:
            with self.scope.engine.begin() as conn:
                conn.execute(
                    rooms.insert().values(
                        **self.scope.values(),
                        tag=tag,
                        allow_guests=False,
                        approval=False,
                        public=public,
                        created_at=now,
                        updated_at=now,
                    )
                )
        except sa.exc.IntegrityError:
            pass  # opened at the same moment by someone else: theirs stands

    def update(self, room_id: int, values: dict[str, bool]) -> None:
        with self.scope.engine.begin() as conn:
            conn.execute(
                rooms.update()
                .where(self.scope.owns(rooms), rooms.c.id == room_id)
                .values(**values, updated_at=datetime.now(UTC))
            )

    def close_guests(self) -> list[str]:
        """Stop guest posting in every room at once; the tags that changed."""
        open_to_guests = (self.scope.owns(rooms), rooms.c.allow_guests.is_(True))
        with self.scope.engine.begin() as conn:
            tags = list(conn.execute(sa.select(rooms.c.tag).where(*open_to_guests)).scalars())
            conn.execute(
                rooms.update()
                .where(*open_to_guests)
                .values(allow_guests=False, updated_at=datetime.now(UTC))
            )
        return tags

    # -- web guests --------------------------------------------------------

    def note_guest(self, author_id: str, address: str | None, name: str) -> None:
        wg = web_guests
        values = {"address": address, "name": name, "last_seen": datetime.now(UTC)}
        where = (self.scope.owns(wg), wg.c.author_id == author_id)
        with self.scope.engine.begin() as conn:
            if conn.execute(wg.update().where(*where).values(**values)).rowcount:
                return
        try:
            with self.scope.engine.begin() as conn:
                conn.execute(
                    wg.insert().values(**self.scope.values(), author_id=author_id, **values)
                )
        except sa.exc.IntegrityError:
            pass  # the same guest's other post won the race; either row will do

    def guest(self, author_id: str) -> tuple[str | None, str | None]:
        """Where a web author last posted from and as whom."""
        wg = web_guests
        with self.scope.engine.connect() as conn:
            row = conn.execute(
                sa.select(wg.c.address, wg.c.name).where(
                    self.scope.owns(wg), wg.c.author_id == author_id
                )
            ).first()
        return (row.address, row.name) if row else (None, None)

    # -- people ------------------------------------------------------------

    def set_person(self, room_id: int, person: PersonRecord, *, on: bool) -> None:
        """Replace (``on``) or remove one person of a role in a room."""
        rp = room_people
        key = (
            self.scope.owns(rp),
            rp.c.room_id == room_id,
            rp.c.role == person.role,
            rp.c.network == person.network,
            rp.c.who == person.who,
        )
        with self.scope.engine.begin() as conn:
            conn.execute(rp.delete().where(*key))
            if on:
                conn.execute(
                    rp.insert().values(
                        **self.scope.values(),
                        room_id=room_id,
                        role=person.role,
                        network=person.network,
                        who=person.who,
                        label=person.label,
                        created_at=datetime.now(UTC),
                        address=person.address,
                        name_key=person.name_key,
                    )
                )

    # -- approval queue ----------------------------------------------------

    def hold(self, room_id: int, network: str, post_id: str) -> None:
        """Queue a post (idempotent: a replayed post keeps its decision)."""
        ra = room_approvals
        with self.scope.engine.connect() as conn:
            exists = conn.execute(
                sa.select(ra.c.status).where(
                    self.scope.owns(ra),
                    ra.c.room_id == room_id,
                    ra.c.network == network,
                    ra.c.post_id == post_id,
                )
            ).first()
        if exists is not None:
            return
        try:
            with self.scope.engine.begin() as conn:
                conn.execute(
                    ra.insert().values(
                        **self.scope.values(),
                        room_id=room_id,
                        network=network,
                        post_id=post_id,
                        status="pending",
                        created_at=datetime.now(UTC),
                    )
                )
        except sa.exc.IntegrityError:
            pass  # held at the same moment by the route and the room's hub

    def decide(self, room_id: int, network: str, post_id: str, approve: bool, by: str) -> bool:
        """Decide a post pending in ``room_id``, in every room of the
        workspace that holds it (one post, one decision). False: it was not
        pending there."""
        ra = room_approvals
        pending = (
            self.scope.owns(ra),
            ra.c.network == network,
            ra.c.post_id == post_id,
            ra.c.status == "pending",
        )
        with self.scope.engine.begin() as conn:
            held_here = conn.execute(
                sa.select(ra.c.status).where(*pending, ra.c.room_id == room_id)
            ).first()
            if held_here is None:
                return False
            conn.execute(
                ra.update()
                .where(*pending)
                .values(
                    status="approved" if approve else "rejected",
                    decided_at=datetime.now(UTC),
                    decided_by=by,
                )
            )
        return True

    def pending(self, room_id: int, limit: int) -> list[tuple[str, str]]:
        """(network, post id) of the posts waiting in a room, oldest first."""
        ra = room_approvals
        with self.scope.engine.connect() as conn:
            found = conn.execute(
                sa.select(ra.c.network, ra.c.post_id)
                .where(self.scope.owns(ra), ra.c.room_id == room_id, ra.c.status == "pending")
                .order_by(ra.c.created_at)
                .limit(limit)
            ).all()
        return [(r.network, r.post_id) for r in found]

    def withheld(self, post_ids: list[str]) -> set[tuple[str, str]]:
        """(network, post id) of those posts held or rejected in any room here."""
        ra = room_approvals
        out: set[tuple[str, str]] = set()
        with self.scope.engine.connect() as conn:
            for i in range(0, len(post_ids), _IN_CHUNK):
                found = conn.execute(
                    sa.select(ra.c.network, ra.c.post_id).where(
                        self.scope.owns(ra),
                        ra.c.status != "approved",
                        ra.c.post_id.in_(post_ids[i : i + _IN_CHUNK]),
                    )
                )
                out.update((r.network, r.post_id) for r in found)
        return out
