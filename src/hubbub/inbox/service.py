"""The inbox service: everything the CLI and the inbox page do with cases.

One ``Inbox`` per workspace scope (``hubbub.store.scope``); every method
takes the acting ``Actor`` (a signed-in user with a role, or the command
line's operator, who has no role check). Viewers read; agents and owners
act on cases; owners change settings (hours, targets, rules, agents).

Errors (``hubbub.inbox.errors``): ``CaseNotFound`` for a case that is not
in this workspace (404, never 403), ``NotAllowed`` for a role that may not
do it (403), ``Claimed`` when another agent is answering (409),
``InboxError`` for anything else asked wrongly (400 / usage error).

The methods are blocking (SQL); the web layer calls them in a thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from hubbub.inbox.build import build_cases
from hubbub.inbox.errors import CaseNotFound, Claimed, InboxError, NotAllowed
from hubbub.inbox.model import (
    INTENTS,
    PRIORITIES,
    VIEWS,
    Actor,
    Agent,
    Case,
    CaseEvent,
    CaseSummary,
    Claim,
    Counts,
    Hours,
    Priority,
    Rule,
    SavedReply,
    Status,
    Target,
)
from hubbub.inbox.report import Report
from hubbub.inbox.templates import check_fields, fields_of, render
from hubbub.outbox import public_post_text
from hubbub.store.inbox_repo_build import Built, unknown_accounts
from hubbub.store.inbox_repo_reply import ReplyRepo
from hubbub.store.scope import Scope

__all__ = [
    "Actor",
    "Agent",
    "Built",
    "Case",
    "CaseEvent",
    "CaseNotFound",
    "CaseSummary",
    "Claim",
    "Claimed",
    "Counts",
    "Hours",
    "Inbox",
    "InboxError",
    "NotAllowed",
    "Priority",
    "Report",
    "Rule",
    "SavedReply",
    "Status",
    "Target",
]

CLAIM_SECONDS = 120  # "being answered" lasts this long unless renewed (the page renews)
MAX_CLAIM_SECONDS = 900
MAX_NOTE = 5_000  # characters of an internal note
MAX_REPLY = 5_000  # before the network's own count, which is stricter
MAX_LABELS = 20
MAX_LABEL = 40
MAX_SAVED_REPLY = 5_000
MAX_CODE = 40
MAX_AGENT_NAME = 60  # characters of the name a CLI reply signs with
MAX_SNOOZE_DAYS = 366
LIST_LIMIT = 500  # cases in one list call


def now() -> datetime:
    return datetime.now(UTC)


class Inbox:
    """The inbox of one workspace."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.repo = ReplyRepo(scope)

    # -- guards ------------------------------------------------------------

    @staticmethod
    def _act(actor: Actor) -> None:
        if not actor.may_act:
            raise NotAllowed("viewers can read the inbox, not act on it")

    @staticmethod
    def _own(actor: Actor) -> None:
        if not actor.is_owner:
            raise NotAllowed("only an owner changes the inbox's settings")

    # -- reading -------------------------------------------------------------

    def list_cases(
        self,
        actor: Actor,
        view: str = "all",
        *,
        status: str | Sequence[str] | None = None,
        assignee: str | None = None,
        priority: str | None = None,
        label: str | None = None,
        network: str | None = None,
        limit: int = 100,
        before_id: int | None = None,
    ) -> list[CaseSummary]:
        """Cases of a view (``all``, ``mine``: assigned to ``actor``,
        ``unassigned``), newest case first, filtered; ``before_id`` pages.
        ``status`` None shows every status but resolved. InboxError for an
        unknown view, status, priority or network."""
        if view not in VIEWS:
            raise InboxError(f"unknown view {view!r} ({', '.join(VIEWS)})")
        statuses = _statuses(status)
        if priority is not None and priority not in PRIORITIES:
            raise InboxError(f"unknown priority {priority!r} ({', '.join(PRIORITIES)})")
        if network is not None and network not in ("x", "bluesky", "mastodon"):
            raise InboxError(f"unknown network {network!r} (x, bluesky or mastodon)")
        if view == "mine":
            assignee = actor.name
        return self.repo.list_cases(
            statuses=statuses,
            assignee=assignee,
            unassigned=view == "unassigned",
            priority=priority,
            label=label,
            network=network,
            limit=max(1, min(limit, LIST_LIMIT)),
            before_id=before_id,
            now=now(),
        )

    def counts(self, actor: Actor) -> Counts:
        """How many cases each view holds (resolved ones only in ``by_status``)."""
        return self.repo.counts(actor.name, now())

    def get_case(self, actor: Actor, case_id: int) -> Case:
        """A case with its posts, timeline and response-time clocks.
        CaseNotFound when it is not in this workspace."""
        return self.repo.get_case(case_id, now())

    def refresh(self, actor: Actor) -> Built:
        """Make cases of posts stored since the last round (idempotent; the
        runtime's watcher does this after new posts arrive)."""
        return build_cases(self.scope)

    def unknown_accounts(self, actor: Actor) -> list[tuple[str, str]]:
        """(name, network) of the connected accounts whose mentions cannot
        become cases yet: ``hubbub account check NAME`` records who they are."""
        return unknown_accounts(self.scope)

    def stamp(self, actor: Actor) -> str:
        """A token that changes whenever anything in this inbox changes (a
        case, its timeline, a claim): the page polls it to refresh live."""
        return self.repo.stamp()

    # -- acting on a case ------------------------------------------------------

    def assign(self, actor: Actor, case_id: int, user: str | None) -> CaseSummary:
        """Assign to ``user`` (an owner or agent of this workspace), or
        unassign with None. The timeline keeps who had it before.
        CaseNotFound, NotAllowed, InboxError (no such user / a viewer)."""
        self._act(actor)
        if user is not None:
            user = _user_name(user)
        return self.repo.assign(case_id, user, actor.name, now())

    def auto_assign(self, actor: Actor, case_id: int) -> CaseSummary:
        """Round robin: the available agent with room under their cap who was
        given a case longest ago. InboxError when nobody has room."""
        self._act(actor)
        return self.repo.auto_assign(case_id, actor.name, now())

    def set_status(
        self, actor: Actor, case_id: int, status: str, *, until: datetime | None = None
    ) -> CaseSummary:
        """Move to ``status``; ``snoozed`` needs ``until`` (in the future).
        CaseNotFound, NotAllowed, InboxError."""
        self._act(actor)
        try:
            wanted = Status(status)
        except ValueError:
            raise InboxError(
                f"unknown status {status!r} ({', '.join(s.value for s in Status)})"
            ) from None
        at = now()
        if wanted is Status.SNOOZED:
            if until is None:
                raise InboxError("snoozing needs a time to wake up")
            if until.tzinfo is None:
                raise InboxError("the snooze time needs a time zone")
            if until <= at:
                raise InboxError("the snooze time is in the past")
            if until > at + timedelta(days=MAX_SNOOZE_DAYS):
                raise InboxError(f"a case sleeps at most {MAX_SNOOZE_DAYS} days")
        elif until is not None:
            raise InboxError("only a snoozed case has a wake-up time")
        return self.repo.set_status(case_id, wanted, until, actor.name, at)

    def resolve(self, actor: Actor, case_id: int) -> CaseSummary:
        """``set_status(..., "resolved")``."""
        return self.set_status(actor, case_id, Status.RESOLVED.value)

    def set_priority(self, actor: Actor, case_id: int, priority: str) -> CaseSummary:
        """Change the priority (low, normal, high, urgent). InboxError otherwise."""
        self._act(actor)
        if priority not in PRIORITIES:
            raise InboxError(f"unknown priority {priority!r} ({', '.join(PRIORITIES)})")
        return self.repo.set_priority(case_id, Priority(priority), actor.name, now())

    def set_labels(self, actor: Actor, case_id: int, labels: Sequence[str]) -> CaseSummary:
        """Replace the labels (at most 20, each 1 to 40 characters, folded to
        lower case, no control characters). InboxError otherwise."""
        self._act(actor)
        clean = _labels(labels)
        return self.repo.set_labels(case_id, clean, actor.name, now())

    def add_note(self, actor: Actor, case_id: int, text: str) -> CaseEvent:
        """An internal note in the timeline (never sent anywhere)."""
        self._act(actor)
        text = _clean(text, "the note").strip()
        if not text:
            raise InboxError("a note needs some text")
        if len(text) > MAX_NOTE:
            raise InboxError(f"a note has at most {MAX_NOTE} characters")
        return self.repo.add_event(case_id, "note", actor.name, now(), text=text)

    def claim(self, actor: Actor, case_id: int, seconds: int = CLAIM_SECONDS) -> Claim:
        """Mark the case "being answered by" ``actor`` for ``seconds`` (renews
        one's own claim). Claimed when another agent holds a live claim."""
        self._act(actor)
        seconds = max(10, min(seconds, MAX_CLAIM_SECONDS))
        at = now()
        return self.repo.claim(case_id, actor.name, at, at + timedelta(seconds=seconds))

    def release(self, actor: Actor, case_id: int) -> None:
        """Drop ``actor``'s own claim (another's is left alone)."""
        self._act(actor)
        self.repo.release(case_id, actor.name, now())

    def reply(
        self,
        actor: Actor,
        case_id: int,
        text: str,
        *,
        key: str | None = None,
        account: str | None = None,
    ) -> CaseEvent:
        """Queue a reply in the outbox, threaded under the customer's latest
        post, from the connected account the case concerns (or ``account``).
        ``key`` (up to 32 letters/digits/-/_) makes it exactly once: the same
        key again returns the first reply instead of queueing a second (the
        page sends one per reply box, the CLI makes one). The network's own
        count is checked first. Claimed when another agent is answering;
        InboxError when the text is empty, too long for the network, or no
        account can send it."""
        self._act(actor)
        from hubbub.inbox.replies import send_reply

        _clean(text, "the reply")
        return send_reply(self.repo, actor, case_id, text, key=key, account=account, at=now())

    # -- response times ------------------------------------------------------------

    def report(
        self, actor: Actor, since: datetime | None = None, until: datetime | None = None
    ) -> Report:
        """Per agent and for the team, over cases opened in [since, until):
        cases handled, first-response and resolution times (median, mean,
        p90, fastest, slowest) in business and wall-clock hours, breaches.
        InboxError when since is not before until."""
        from hubbub.inbox.report import build_report

        if since is not None and until is not None and since >= until:
            raise InboxError("--since is not before --until")
        return build_report(self.repo, since, until, now())

    # -- saved replies -----------------------------------------------------------

    def saved_replies(self, actor: Actor) -> list[SavedReply]:
        """Every saved reply, by code."""
        return self.repo.saved_replies()

    def save_reply(self, actor: Actor, code: str, text: str) -> SavedReply:
        """Create or replace the saved reply ``code``. The text is checked by
        the template engine now (TemplateError), not when it is used."""
        self._act(actor)
        code = code.strip()
        if not code or len(code) > MAX_CODE or not all(c.isalnum() or c in "-_" for c in code):
            raise InboxError(f"a code is 1 to {MAX_CODE} letters, digits, '-' or '_'")
        if not _clean(text, "the saved reply").strip():
            raise InboxError("a saved reply needs some text")
        if len(text) > MAX_SAVED_REPLY:
            raise InboxError(f"a saved reply has at most {MAX_SAVED_REPLY} characters")
        # A browser's form sends CRLF line ends: they mean newlines, not controls.
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        # Refused, not cleaned: a person is saving it now and can fix it, and a
        # template that will go out many times should be right where it is kept.
        bad = public_post_text.forbidden(text)
        if bad is not None:
            raise InboxError(
                f"a saved reply cannot hold control or bidi override characters: {bad}"
            )
        check_fields(text)  # TemplateError: bad syntax or a field no case fills
        return self.repo.save_reply(code, text, actor.name, now())

    def delete_saved_reply(self, actor: Actor, code: str) -> bool:
        """Remove a saved reply; False when there was none of that code."""
        self._act(actor)
        return self.repo.delete_saved_reply(code)

    def render_saved_reply(
        self, actor: Actor, code: str, case_id: int, *, agent_name: str | None = None
    ) -> str:
        """The saved reply's text filled for a case: ``{name}`` (the author's
        display name or handle), ``{handle}`` (with '@'), ``{agent}`` (the
        name the customer sees: ``agent_name`` when given, else a signed-in
        user's Hubbub name), ``{case}`` (its number). InboxError for an
        unknown code, or for ``{agent}`` with no name to fill it: the command
        line's actor (``cli:<os user>``) is an audit identity, never put in a
        public post. TemplateError for a field it does not know."""
        saved = self.repo.saved_reply(code)
        if saved is None:
            raise InboxError(f"no saved reply {code!r}")
        agent = _agent_name(agent_name) if agent_name is not None else None
        if agent is None and actor.role is not None:
            agent = actor.name
        fields = self.repo.template_fields(case_id, agent or "")
        if agent is None:
            if "agent" in fields_of(saved.text):
                raise InboxError(
                    f"the saved reply {code!r} signs with {{agent}}, and the command line "
                    "has no agent name: give the name customers should see (--as NAME)"
                )
            del fields["agent"]
        return render(saved.text, fields)

    # -- rules -------------------------------------------------------------------

    def rules(self, actor: Actor) -> list[Rule]:
        return self.repo.rules()

    def add_rule(self, actor: Actor, saved_query: str, intents: Sequence[str]) -> Rule:
        """Cases from ``saved_query``'s matches whose intent is one of
        ``intents`` (complaint, question, lead), for posts stored already and
        those to come. Replaces the query's rule if it has one. InboxError
        for an unknown query or intent."""
        self._own(actor)
        # Stripped as the listen layer strips the names it stores and looks up:
        # " brand " from a shell or a form names the query "brand".
        saved_query = _clean(saved_query, "the saved query name").strip()
        chosen = sorted({i.strip().lower() for i in intents if i.strip()})
        if not chosen:
            raise InboxError(f"name at least one intent ({', '.join(INTENTS)})")
        bad = [i for i in chosen if i not in INTENTS]
        if bad:
            raise InboxError(f"unknown intent {bad[0]!r} ({', '.join(INTENTS)})")
        rule = self.repo.add_rule(saved_query, tuple(chosen), actor.name, now())
        # Posts stored already: bring the query's matches up to date, then
        # make their cases now (the runtime's watcher does those to come).
        from hubbub.listen.saved import catch_up

        catch_up(self.scope.store, workspace=self.scope.name)
        build_cases(self.scope, rule_id=rule.id)
        return rule

    def rule_open_cases(self, actor: Actor, rule_id: int) -> int:
        """How many of the cases rule ``rule_id`` made are not resolved."""
        return self.repo.rule_open_cases(rule_id)

    def remove_rule(self, actor: Actor, rule: int | str) -> bool:
        """Remove a rule by id or saved query name (its cases stay)."""
        self._own(actor)
        return self.repo.remove_rule(rule.strip() if isinstance(rule, str) else rule)

    # -- settings ----------------------------------------------------------------

    def hours(self, actor: Actor) -> Hours:
        return self.repo.hours()

    def set_hours(self, actor: Actor, hours: Hours) -> Hours:
        """Business hours: an IANA zone, weekdays, a daily span (start before
        end, within a day), and whether new cases are assigned round robin."""
        self._own(actor)
        from hubbub.inbox.hours import check_hours

        check_hours(hours)
        return self.repo.set_hours(hours, now())

    def targets(self, actor: Actor) -> list[Target]:
        """First-response and resolution targets per priority (business minutes)."""
        return self.repo.targets()

    def set_target(
        self,
        actor: Actor,
        priority: str,
        *,
        first_response_minutes: int | None,
        resolution_minutes: int | None,
    ) -> Target:
        """Set one priority's targets (None: no target). InboxError for a
        bad priority or a number outside 1 minute to 365 days."""
        self._own(actor)
        if priority not in PRIORITIES:
            raise InboxError(f"unknown priority {priority!r} ({', '.join(PRIORITIES)})")
        for value in (first_response_minutes, resolution_minutes):
            if value is not None and not 1 <= value <= 365 * 24 * 60:
                raise InboxError("a target is between 1 minute and 365 days")
        return self.repo.set_target(Priority(priority), first_response_minutes, resolution_minutes)

    def agents(self, actor: Actor) -> list[Agent]:
        """Owners and agents of the workspace with availability, cap and open cases."""
        return self.repo.agents()

    def set_agent(
        self, actor: Actor, user: str, *, available: bool | None = None, cap: int | None = None
    ) -> Agent:
        """Availability and cap (1 to 1000 open cases) of an owner or agent.
        Agents may change their own availability; the cap is an owner's."""
        user = _user_name(user)
        if cap is not None or user != actor.name:
            self._own(actor)
        else:
            self._act(actor)
        if cap is not None and not 1 <= cap <= 1000:
            raise InboxError("a cap is between 1 and 1000 open cases")
        return self.repo.set_agent(user, available=available, cap=cap)


def _clean(text: str, what: str) -> str:
    """Refuse a NUL (PostgreSQL cannot store one) and lone surrogates (no
    database or network can encode them) before they reach the store."""
    if "\x00" in text or any("\ud800" <= ch <= "\udfff" for ch in text):
        raise InboxError(f"{what} holds characters that cannot be stored")
    return text


def _agent_name(name: str) -> str:
    """A name the operator chose for ``{agent}``: it goes into a public
    post, so it is one line of printable text that cannot link or mention."""
    from hubbub.inbox.public_text import looks_active, without_invisible

    _clean(name, "the agent name")
    clean = without_invisible(name).strip()
    if not clean or len(clean) > MAX_AGENT_NAME:
        raise InboxError(f"an agent name is 1 to {MAX_AGENT_NAME} characters")
    if looks_active(clean):
        raise InboxError(
            "an agent name cannot hold a link, @mention or #tag (it goes into a public reply)"
        )
    return clean


def _user_name(name: str) -> str:
    if not name or len(name) > 100:
        raise InboxError(f"no user named {name[:100]!r} in this workspace")
    return _clean(name, "the user name")


def _statuses(status: str | Sequence[str] | None) -> tuple[Status, ...] | None:
    if status is None:
        return None
    names = [status] if isinstance(status, str) else list(status)
    out: list[Status] = []
    for name in names:
        try:
            out.append(Status(name))
        except ValueError:
            raise InboxError(
                f"unknown status {name!r} ({', '.join(s.value for s in Status)})"
            ) from None
    return tuple(out)


def _labels(labels: Sequence[str]) -> tuple[str, ...]:
    clean: list[str] = []
    for raw in labels:
        label = raw.strip().casefold()
        if not label:
            continue
        if len(label) > MAX_LABEL or any(not c.isprintable() for c in label):
            raise InboxError(f"a label is 1 to {MAX_LABEL} printable characters")
        if label not in clean:
            clean.append(label)
    if len(clean) > MAX_LABELS:
        raise InboxError(f"a case has at most {MAX_LABELS} labels")
    return tuple(sorted(clean))
