"""Network clients and the machinery every network source shares.

One client per network (``x.py``, ``bluesky*.py``, ``mastodon*.py``):
authentication, each endpoint's budget, paging, backoff; no storage. The
sources built on them live in ``hubbub.sources`` (``x_stream.py``…).

How a network source plugs in (follow ``hubbub.sources.x_stream``):

1. **Built from a spec with an env.** ``hubbub.sources.network_specs``
   maps a spec's kind (``x``, ``bluesky``, ``mastodon``) to a factory
   ``(spec, SourceEnv) -> Source``; register yours there. ``SourceEnv``
   (``env.py``) carries the workspace, the ``Clock``, the ``HealthBoard``,
   ``account(network, name)`` (decrypted ``Credentials`` or None),
   ``follows()`` (saved queries and public rooms' hashtags; blocking, call it
   with ``asyncio.to_thread``) and ``limits`` from configuration.
2. **Time only through the clock** (``clock.py``): ``env.clock.sleep``,
   ``env.clock.monotonic()/time()``, ``env.clock.wait_for``. Tests pass a
   ``FakeClock`` and read ``clock.sleeps`` to check the backoff.
3. **Backoff through ``Reconnect``** (``backoff.py``) with a ``Policy``:
   ``X_POLICY`` for X, ``generic_policy(...)`` (or your own ``Linear`` /
   ``Exponential`` schedules) elsewhere. Call ``connected()`` once a
   connection is up, ``dropped()`` when an established one ends (0 s:
   reconnect at once), ``failed(Failure.NETWORK | HTTP | RATE_LIMIT,
   reset_in=...)`` when an attempt fails; sleep what it returns.
4. **Every stream read through ``stall.next_within``** with the network's
   silence limit (X 20 s keep-alive; Mastodon 2 × 15 s heartbeat): it raises
   ``Stalled``, which you treat as a network failure.
5. **Health through a tracker**: ``tracker = env.health.tracker(self.name,
   network)``; call ``connected()``, ``reconnecting(attempt, delay, reason)``,
   ``rate_limited(delay)``, ``stalled(seconds)``, ``stopped(reason)`` as
   state changes, ``events(n)`` per posts received, ``gap_found()`` /
   ``gap_backfilled()`` around reconnect backfills and ``missed(n)`` for posts
   known lost. The runtime writes the trackers to the store once a second
   (``hubbub.store.source_health``); ``hubbub sources status`` reads them.
6. **Cursors with the posts**: yield ``RawItem(value, ctx, cursor=...)``;
   the pipeline commits an item's cursor in the transaction that stores its
   posts, and calls ``resume_from(cursor)`` before every (re)start
   (``hubbub.sources.base.Resumable``). Cursors must never go backwards.
7. **Never raise for a network failure**: reconnect (with backoff) inside
   the source. Raise only when nothing can work (no account, a refused
   token: ``stopped(reason)`` first), and never put a secret in a message
   (``hubbub.sources.base.redact``).
8. **One connection where the network allows one**: take
   ``env.lease(name)`` before connecting (None: another process holds it;
   wait and say so in health) and ``release()`` it when done. The runtime's
   leases are held by the OS (``hubbub.store.leases``), so a crash frees them.
9. **Account checks**: ``hubbub.networks.accounts_check.CHECKS[network]`` is
   an ``async (Credentials, base_url | None) -> str`` that returns who the
   token belongs to or raises ``CheckFailed``; X's is in ``x.py``.
"""
