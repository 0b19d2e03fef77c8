"""Who may do what: the one rule every route asks.

- viewer: reads (rooms, listening, status) and looks after their own account
  (password, sessions, signing out); like a web guest, may post where a
  public room takes guest posts (``routes_api.write_post``), nothing else;
- agent: also acts: opens and runs rooms, posts, moderates, manages saved
  queries;
- owner: also manages the workspace: users, connected accounts, settings.

Roles are ranked, so a capability is the lowest role that has it. Routes ask
``require_role(request, "agent")`` (or depend on ``role_dependency``); no
route compares role names itself. Anonymous visitors get 401, a signed-in
user below the role 403: for their own workspace's objects only, since
another workspace's objects never get this far (404, see ``workspaces``).
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import HTTPException, Request

from hubbub.i18n import _
from hubbub.web.accounts import ROLES, User

RANK = {"viewer": 0, "agent": 1, "owner": 2}
assert set(RANK) == set(ROLES)


def has_role(user: User | None, role: str) -> bool:
    """Whether ``user`` (None: a visitor) has ``role`` or a higher one."""
    return user is not None and RANK.get(user.role, -1) >= RANK[role]


def require_role(request: Request, role: str) -> User:
    """The signed-in user if they have ``role`` or higher; 401 or 403 otherwise."""
    user: User | None = getattr(request.state, "user", None)
    if user is None:
        raise HTTPException(401, _("Sign in first."))
    if not has_role(user, role):
        if role == "owner":
            raise HTTPException(403, _("Only owners can do this."))
        raise HTTPException(403, _("Viewers can read but not change anything."))
    return user


def role_dependency(role: str) -> Callable[[Request], User]:
    """``Depends(role_dependency("owner"))``: the same rule as a dependency."""

    def dependency(request: Request) -> User:
        return require_role(request, role)

    return dependency
