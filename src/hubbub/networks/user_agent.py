"""The ``User-Agent`` every network request carries: Hubbub, its version and
where to read about it, so server admins can see who is asking (Mastodon
admins ask walls and bots for exactly this)."""

from __future__ import annotations

from hubbub import __version__

PROJECT_URL = "https://github.com/hubbub-social/hubbub"
USER_AGENT = f"Hubbub/{__version__} (+{PROJECT_URL})"
