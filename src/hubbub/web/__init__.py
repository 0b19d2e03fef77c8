"""The web app: live rooms, posting, accounts. ``create_app(settings)`` builds it."""

from __future__ import annotations

from hubbub.web.app import create_app

__all__ = ["create_app"]
