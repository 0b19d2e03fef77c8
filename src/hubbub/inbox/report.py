"""Response-time report: per agent and for the team.

Who gets credit: the first response belongs to whoever sent the case's
first reply; the resolution to whoever resolved it (last, if it was
reopened and resolved again). A case is "handled" by an agent who replied
to it or resolved it. Times run from the customer's first post (the case's
``opened_at``), in business hours (the workspace's) and wall-clock hours.

Figures: median (the middle value, or the mean of the two middle ones),
mean, p90 (nearest rank: the smallest value with at least 90% of values at
or below it), fastest, slowest. Breaches: a first response or resolution
that took more business minutes than its priority's target; the team row
also counts open cases already past their target (nobody has them yet).

Cases that are not timed (their first post was more than a day old when
Hubbub first saw it: ``hubbub.inbox.hours.TIMED_WITHIN``) are in no figure
and no breach count; the report says how many were left out and why. They
still count as opened, and as handled by whoever answered or resolved them.

Agents are people (users). What the operator did from the command line
(actor ``cli:<os user>``, see ``hubbub.cli.audit.cli_actor``) is not an
agent's work: it is counted in the team row (the customer was answered)
and shown apart in one ``operator`` row, "operator (command line)", never
among the agents.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from hubbub.i18n import _
from hubbub.inbox.hours import TIMED_WITHIN, business_minutes, not_timed
from hubbub.store.inbox_repo import InboxRepo
from hubbub.store.inbox_repo_report import ReportCase, report_facts

TEAM = "team"
OPERATOR = "operator (command line)"
CLI_PREFIX = "cli:"  # the actor name of every command-line action


def is_operator(actor: str | None) -> bool:
    """True for an action taken from the command line rather than by a user."""
    return actor is not None and actor.startswith(CLI_PREFIX)


@dataclass(frozen=True, slots=True)
class Figures:
    """Hours: None when there is nothing to measure."""

    count: int
    median: float | None
    mean: float | None
    p90: float | None
    fastest: float | None
    slowest: float | None

    def as_json(self) -> dict[str, object]:
        def r(v: float | None) -> float | None:
            return None if v is None else round(v, 4)

        return {
            "count": self.count,
            "median": r(self.median),
            "mean": r(self.mean),
            "p90": r(self.p90),
            "fastest": r(self.fastest),
            "slowest": r(self.slowest),
        }


def figures(hours: Sequence[float]) -> Figures:
    if not hours:
        return Figures(0, None, None, None, None, None)
    ordered = sorted(hours)
    rank = max(1, math.ceil(0.9 * len(ordered)))
    return Figures(
        count=len(ordered),
        median=statistics.median(ordered),
        mean=statistics.fmean(ordered),
        p90=ordered[rank - 1],
        fastest=ordered[0],
        slowest=ordered[-1],
    )


@dataclass(frozen=True, slots=True)
class ReportRow:
    who: str  # an agent's name, or "team"
    cases_handled: int
    first_response_business: Figures
    first_response_wall: Figures
    resolution_business: Figures
    resolution_wall: Figures
    first_response_breaches: int
    resolution_breaches: int

    def as_json(self) -> dict[str, object]:
        return {
            "who": self.who,
            "cases_handled": self.cases_handled,
            "first_response": {
                "business_hours": self.first_response_business.as_json(),
                "wall_clock_hours": self.first_response_wall.as_json(),
                "breaches": self.first_response_breaches,
            },
            "resolution": {
                "business_hours": self.resolution_business.as_json(),
                "wall_clock_hours": self.resolution_wall.as_json(),
                "breaches": self.resolution_breaches,
            },
        }


@dataclass(frozen=True, slots=True)
class Report:
    since: datetime | None
    until: datetime | None
    timezone: str
    cases: int  # opened in the period
    team: ReportRow
    agents: tuple[ReportRow, ...]
    operator: ReportRow | None = None  # command-line actions, when there were any
    not_timed: int = 0  # cases left out of every time and breach: seen too late to time

    @property
    def not_timed_why(self) -> str:
        """Why cases are left out of the times (for JSON and HTML readers)."""
        hours = int(TIMED_WITHIN.total_seconds() // 3600)
        return _(
            "their first post was more than {hours} hours old when Hubbub first saw it "
            "(an imported archive, a long outage, a rule added over stored posts), "
            "so they have no response-time clocks"
        ).format(hours=hours)

    def as_json(self) -> dict[str, object]:
        return {
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "timezone": self.timezone,
            "cases": self.cases,
            "team": self.team.as_json(),
            "agents": [a.as_json() for a in self.agents],
            "operator": self.operator.as_json() if self.operator is not None else None,
            "not_timed": {
                "cases": self.not_timed,
                "why": self.not_timed_why,
                "older_than_hours": int(TIMED_WITHIN.total_seconds() // 3600),
            },
        }

    def rows(self) -> tuple[ReportRow, ...]:
        """Team, agents, then the operator's row if any: the table's rows."""
        return (self.team, *self.agents, *((self.operator,) if self.operator else ()))


@dataclass(slots=True)
class _Tally:
    handled: set[int]
    fr_business: list[float]
    fr_wall: list[float]
    res_business: list[float]
    res_wall: list[float]
    fr_breaches: int = 0
    res_breaches: int = 0

    def row(self, who: str) -> ReportRow:
        return ReportRow(
            who=who,
            cases_handled=len(self.handled),
            first_response_business=figures(self.fr_business),
            first_response_wall=figures(self.fr_wall),
            resolution_business=figures(self.res_business),
            resolution_wall=figures(self.res_wall),
            first_response_breaches=self.fr_breaches,
            resolution_breaches=self.res_breaches,
        )


def _tally() -> _Tally:
    return _Tally(set(), [], [], [], [])


def build_report(
    repo: InboxRepo, since: datetime | None, until: datetime | None, now: datetime
) -> Report:
    facts, hours, targets = report_facts(repo, since, until)
    team = _tally()
    agents: dict[str, _Tally] = {}
    operator = _tally()

    def agent(name: str) -> _Tally:
        return operator if is_operator(name) else agents.setdefault(name, _tally())

    def wall(a: datetime, b: datetime) -> float:
        return (b - a).total_seconds() / 3600

    left_out = 0
    case: ReportCase
    for case in facts:
        if not_timed(case.opened_at, case.seen_at) is not None:
            # Handled (someone answered or closed it), but measured nowhere.
            left_out += 1
            if case.first_response_at is not None:
                for tally in (team, agent(case.first_responder or "?")):
                    tally.handled.add(case.id)
            if case.resolved_at is not None:
                for tally in (team, agent(case.resolver or "?")):
                    tally.handled.add(case.id)
            continue
        target = targets[case.priority]
        if case.first_response_at is not None:
            business = business_minutes(case.opened_at, case.first_response_at, hours)
            breached = (
                target.first_response_minutes is not None
                and business > target.first_response_minutes
            )
            for tally in (team, agent(case.first_responder or "?")):
                tally.handled.add(case.id)
                tally.fr_business.append(business / 60)
                tally.fr_wall.append(wall(case.opened_at, case.first_response_at))
                tally.fr_breaches += breached
        elif (
            target.first_response_minutes is not None
            # Resolved unanswered: the clock stopped at the resolution (as the case shows).
            and business_minutes(case.opened_at, case.resolved_at or now, hours)
            > target.first_response_minutes
        ):
            team.fr_breaches += 1
        if case.resolved_at is not None:
            business = business_minutes(case.opened_at, case.resolved_at, hours)
            breached = (
                target.resolution_minutes is not None and business > target.resolution_minutes
            )
            for tally in (team, agent(case.resolver or "?")):
                tally.handled.add(case.id)
                tally.res_business.append(business / 60)
                tally.res_wall.append(wall(case.opened_at, case.resolved_at))
                tally.res_breaches += breached
        elif (
            target.resolution_minutes is not None
            and business_minutes(case.opened_at, now, hours) > target.resolution_minutes
        ):
            team.res_breaches += 1
    return Report(
        since=since,
        until=until,
        timezone=hours.timezone,
        cases=len(facts),
        team=team.row(TEAM),
        agents=tuple(agents[name].row(name) for name in sorted(agents)),
        operator=operator.row(OPERATOR) if operator.handled else None,
        not_timed=left_out,
    )
