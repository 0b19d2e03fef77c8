"""Hubbub: a self-hosted workbench for hashtag chats, listening, a team inbox and
audience quality across X, Bluesky and Mastodon."""

__version__ = "0.1.0"
