"""``AuditLog.record_once_per_hour``: what anyone may repeat without signing
in (a public recap's download) is recorded once per clock hour per actor,
action, target and client address, so a loop cannot grow the log without
bound (SQLite and PostgreSQL, through the ``store`` fixture)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hubbub.store.audit import AuditLog
from hubbub.store.scope import scope

HOUR = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
WHO = "anonymous visitor"


def _once(log: AuditLog, at: datetime, **over: str) -> int | None:
    fields = {"target": "recap-chat-2026-12-01.md", "address": "203.0.113.7"} | over
    return log.record_once_per_hour(
        over.get("actor", WHO),
        "export",
        target=fields["target"],
        address=fields["address"],
        detail={"format": "md", "posts": at.minute},
        at=at,
    )


def test_repeats_in_one_hour_make_one_row(store) -> None:
    log = AuditLog(scope(store, "default"))
    first = _once(log, HOUR + timedelta(minutes=1))
    assert first is not None
    for minute in (2, 30, 59):
        assert _once(log, HOUR + timedelta(minutes=minute, seconds=59)) is None
    (entry,) = log.page()
    # The first download of the hour is the one kept, as it was.
    assert (entry.id, entry.actor, entry.address) == (first, WHO, "203.0.113.7")
    assert entry.detail == {"format": "md", "posts": 1}
    assert entry.at == HOUR + timedelta(minutes=1)


def test_another_hour_address_target_actor_or_workspace_is_another_row(store) -> None:
    log = AuditLog(scope(store, "default"))
    assert _once(log, HOUR + timedelta(minutes=59)) is not None
    assert _once(log, HOUR + timedelta(hours=1)) is not None  # the next clock hour
    assert _once(log, HOUR + timedelta(hours=1, minutes=5)) is None
    assert _once(log, HOUR, address="198.51.100.1") is not None
    assert _once(log, HOUR, target="recap-chat-2026-12-01.json") is not None
    assert _once(log, HOUR, actor="ann") is not None
    other = AuditLog(scope(store, "acme"))
    assert _once(other, HOUR) is not None
    assert _once(other, HOUR + timedelta(minutes=1)) is None
    assert len(log.page()) == 5 and len(other.page()) == 1
    # An ordinary record is never held back by one made once per hour.
    assert log.record(WHO, "export", target="recap-chat-2026-12-01.md", at=HOUR) > 0


def test_a_missing_address_counts_as_one_address(store) -> None:
    log = AuditLog(scope(store, "default"))
    assert log.record_once_per_hour(WHO, "export", target="f.md", at=HOUR) is not None
    assert log.record_once_per_hour(WHO, "export", target="f.md", at=HOUR) is None
    assert log.record_once_per_hour(WHO, "export", at=HOUR) is not None
    assert log.record_once_per_hour(WHO, "export", at=HOUR) is None


def test_the_same_rules_as_record(store) -> None:
    log = AuditLog(scope(store, "default"))
    with pytest.raises(ValueError, match="unknown audit action"):
        log.record_once_per_hour(WHO, "exported", at=HOUR)
    with pytest.raises(ValueError, match="aware"):
        log.record_once_per_hour(WHO, "export", at=datetime(2026, 12, 1, 10))  # noqa: DTZ001
    with pytest.raises(ValueError, match="secret"):
        log.record_once_per_hour(WHO, "export", detail={"token": "x"}, at=HOUR)
    # Hostile text is cleaned before it is compared: both are one row.
    assert log.record_once_per_hour(WHO, "export", target="a\u202eb", at=HOUR) is not None
    assert log.record_once_per_hour(WHO, "export", target="a\u202db", at=HOUR) is None
    (entry,) = log.page()
    assert entry.target == "a\ufffdb"
