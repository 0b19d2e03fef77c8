"""The team inbox: cases built from mentions, replies and listening matches;
assignment, status, replies through the outbox, response times.

``hubbub.inbox.service.Inbox`` is the one entry point for the CLI and the
web page; SQL lives in ``hubbub.store.inbox_repo``.
"""
