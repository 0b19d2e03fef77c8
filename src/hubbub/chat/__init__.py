"""Chats: questions and answers worked out from stored posts (``qa``), the
chat's stored data (``repo``: posts after a cursor, hosts, pins, removals),
and the recap (``recap`` and its renderers)."""
