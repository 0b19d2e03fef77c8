"""The live consumers of a running Hubbub: the ``Listener`` matches and
classifies live posts, counts them for the dashboard, computes spike alerts
and sends new ones to the webhook.

It is its own consumer of ``pipeline.subscribe(None)``, not a stage in
``pipeline.stages``: matching and classifying then never add to the time a
post takes to reach a room. If it falls behind, the bus drops its
subscription (overflow); it subscribes again and runs the saved queries'
catch-up (``hubbub.listen.catch_up``), which back-fills matches over every
post stored meanwhile.

Every stored post is classified by the stage, never by a read: when it
(re)subscribes, the listener also classifies, in batches in the background,
the posts stored before it subscribed that have no classes (an old database,
a worker killed between storing and classifying, an overflow).

The runtime (``hubbub.runtime``) starts it, with or without a web server;
the dashboard's routes (``hubbub.web.routes_listen``) read its counters.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx

from hubbub.analyze import Selection
from hubbub.analyze.report import when
from hubbub.analyze.selection import Period, load_mentions, resolve_period, selection_condition
from hubbub.classify.stored import classify_stored, newest_pk, stored_classes
from hubbub.listen.saved import catch_up, list_queries
from hubbub.listen.stage import ListeningStage
from hubbub.pipeline.bus import LivePost
from hubbub.post import rfc3339
from hubbub.settings import Settings
from hubbub.store import Store

log = logging.getLogger(__name__)

SUBSCRIPTION_QUEUE = 20_000  # posts the listener may lag behind before it resubscribes
MAX_BATCH = 500  # posts handed to the stage at once (one transaction)
RETRY_SECONDS = 1.0  # pause before a failed batch is tried once more
GATHER_SECONDS = 0.25  # how long the listener waits to fill a batch
ALERT_CHECK_SECONDS = 10.0  # how often spikes are recomputed when matches arrived
ALERT_REFRESH_SECONDS = 300.0  # ... and at least this often (imports bump no counter)
ALERT_WINDOW = timedelta(days=3)  # hourly buckets (see analyze.volume.bucket_size)
ALERT_RECENT = timedelta(hours=2)  # only spikes this recent go to the webhook
WEBHOOK_TIMEOUT = 5.0
MAX_ALERTS = 200


def webhook_allowed(url: str | None) -> bool:
    """Only absolute http(s) URLs: no file:, no gopher:, no relative paths."""
    if not url:
        return False
    parts = urlsplit(url.strip())
    return parts.scheme in ("http", "https") and bool(parts.hostname)


class _HideURL(logging.Filter):
    """Drops httpx's own "HTTP Request: POST <url>" lines for the webhook:
    its URL usually carries a token and must not reach the logs."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        return not any(self.url in str(arg) for arg in args) and self.url not in str(record.msg)


class Listener:
    """Matches and classifies live posts in the background, counts them for
    the dashboard, computes spike alerts and sends new ones to the webhook."""

    def __init__(
        self, store: Store, workspace: str, pipeline: Any, webhook: str | None = None
    ) -> None:
        self.store = store
        self.workspace = workspace
        self.pipeline = pipeline
        self.stage = ListeningStage(store, workspace, on_matches=self._on_matches)
        self.version = 0  # moves whenever stored matches may have changed
        self.live: Counter[str] = Counter()  # matches seen live since start, per query
        self.overflows = 0
        self.alerts: list[dict[str, Any]] = []
        self.webhook_sent = 0
        self.webhook_failed = 0
        self._alert_keys: set[tuple[str, str, str, str]] = set()
        self._checked: tuple[int, float] | None = None  # (version, monotonic time)
        self._check_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._consumer: asyncio.Task[None] | None = None
        self._sub: Any = None
        self._stopping = False
        self.classified_backlog = 0  # posts classified by the backlog task
        self._backlog = asyncio.Event()
        self._backlog_upto = 0
        self._backlog_task: asyncio.Task[Any] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._http: httpx.AsyncClient | None = None
        self._log_filter: _HideURL | None = None
        self.webhook: str | None = None
        if webhook:
            if webhook_allowed(webhook):
                self.webhook = webhook.strip()
            else:
                # Not the value itself: it may be a secret pasted in the wrong place.
                log.warning("HUBBUB_ALERT_WEBHOOK ignored: only http(s) URLs are allowed")

    # -- lifecycle -----------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        if self.webhook:
            self._http = httpx.AsyncClient(timeout=WEBHOOK_TIMEOUT, follow_redirects=False)
            self._log_filter = _HideURL(self.webhook)
            logging.getLogger("httpx").addFilter(self._log_filter)
        self._consumer = self._spawn(self._consume(), "hubbub-listen-consumer")
        self._spawn(self._watch_alerts(), "hubbub-listen-alerts")
        self._backlog_task = self._spawn(self._classify_backlog(), "hubbub-listen-classify-backlog")

    async def stop(self) -> None:
        self._stopping = True
        if self._sub is not None:
            self._sub.close()
        if self._consumer is not None:
            # Let the batch in hand finish (it runs in a thread and writes to
            # the store, which closes after us); then stop waiting.
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError, Exception):
                await asyncio.wait_for(asyncio.shield(self._consumer), 10)
        self._backlog.set()  # wake it, so it sees _stopping and ends
        if self._backlog_task is not None:
            # A batch being classified in its thread finishes before the store closes.
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError, Exception):
                await asyncio.wait_for(asyncio.shield(self._backlog_task), 10)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._http is not None:
            await self._http.aclose()
        if self._log_filter is not None:
            logging.getLogger("httpx").removeFilter(self._log_filter)

    def _spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)  # a reference, or the task may be garbage-collected
        task.add_done_callback(self._tasks.discard)
        return task

    def bump(self) -> None:
        self.version += 1

    # -- matching live posts -------------------------------------------------

    def _on_matches(self, by_name: dict[str, list[LivePost]]) -> None:
        # Called in the stage's worker thread: hand the counts to the loop.
        counts = {name: len(posts) for name, posts in by_name.items()}
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._count, counts)

    def _count(self, counts: dict[str, int]) -> None:
        self.live.update(counts)
        self.bump()

    async def _consume(self) -> None:
        while not self._stopping:
            sub = self.pipeline.subscribe(None, maxsize=SUBSCRIPTION_QUEUE)
            self._sub = sub
            failed = False
            try:
                # Subscribed first, then caught up: a post stored in between is
                # seen twice at worst (matches are stored once).
                await asyncio.to_thread(catch_up, self.store, workspace=self.workspace)
                self.bump()
                # Posts up to here may have missed the stage; later ones reach it.
                self._backlog_upto = await asyncio.to_thread(newest_pk, self.store, self.workspace)
                self._backlog.set()
                while True:
                    live = await sub.get()
                    if live is None:
                        break
                    batch = [live]
                    # Not latency-critical (the dashboard polls every few s):
                    # gather a batch, so matching and its write transaction run
                    # a few times a second instead of once per post, leaving
                    # the GIL and SQLite's single writer to the rooms' pipeline.
                    await asyncio.sleep(GATHER_SECONDS)
                    while len(batch) < MAX_BATCH and sub.qsize() > 0:
                        try:
                            batch.append(await sub.__anext__())
                        except StopAsyncIteration:
                            break
                    failures = self.stage.stats.failures
                    await self.stage(batch)  # never raises: the stage logs and counts failures
                    if self.stage.stats.failures > failures and not self._stopping:
                        # Most often SQLite's one writer was busy past its
                        # timeout (the pipeline writes too): one more try
                        # after a pause, so the batch is not left unmatched.
                        await asyncio.sleep(RETRY_SECONDS)
                        await self.stage(batch)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the listener must outlive a bad batch
                log.error("listening consumer failed: %s", type(exc).__name__)
                failed = True
                await asyncio.sleep(1.0)
            finally:
                sub.close()
            if sub.overflowed:
                self.overflows += 1
                log.warning("listening fell behind the pipeline; resubscribing and catching up")
            elif not failed:
                return  # the subscription ended: the pipeline (or we) are shutting down

    async def _classify_backlog(self) -> None:
        """Classify stored posts that have none, up to the newest post stored
        when the listener last subscribed (the stage classifies the rest)."""
        while not self._stopping:
            await self._backlog.wait()
            self._backlog.clear()
            upto = self._backlog_upto
            try:
                done = await asyncio.to_thread(
                    classify_stored,
                    self.store,
                    self.workspace,
                    upto=upto,
                    should_stop=lambda: self._stopping,
                )
            except Exception as exc:  # noqa: BLE001 - retried at the next (re)subscription
                log.error("classifying stored posts failed: %s", type(exc).__name__)
                continue
            if done:
                self.classified_backlog += done
                self.bump()
                log.info("classified %d stored posts that had no classes", done)

    # -- alerts ----------------------------------------------------------------

    async def _watch_alerts(self) -> None:
        while True:
            await asyncio.sleep(ALERT_CHECK_SECONDS)
            try:
                await self.check_alerts()
            except Exception as exc:  # noqa: BLE001 - try again next round
                log.error("spike check failed: %s", type(exc).__name__)

    async def check_alerts(self) -> list[dict[str, Any]]:
        """Current spikes; recomputed when matches arrived since the last
        check (or it is old). New recent spikes go to the webhook."""
        async with self._check_lock:
            now = time.monotonic()
            if self._checked is not None:
                version, at = self._checked
                if version == self.version and now - at < ALERT_REFRESH_SECONDS:
                    return self.alerts
            version = self.version
            spikes, until = await asyncio.to_thread(self._spikes)
            self._checked = (version, now)
            self.alerts = spikes[:MAX_ALERTS]
            for alert in spikes:
                key = (
                    alert["selection"]["kind"],
                    alert["selection"]["value"],
                    alert["kind"],
                    alert["start"],
                )
                if key in self._alert_keys:
                    continue
                self._alert_keys.add(key)
                recent = datetime.fromisoformat(alert["start"]) >= until - ALERT_RECENT
                if self._http is not None and recent:
                    self._spawn(self._send(alert), "hubbub-alert-webhook")
            return self.alerts

    def _spikes(self) -> tuple[list[dict[str, Any]], datetime]:
        """Spikes of every active saved query, and of every group of two or
        more, over the last three days (hourly buckets), newest first."""
        store, ws = self.store, self.workspace
        saved = list_queries(store, workspace=ws, active_only=True)
        base = resolve_period(store, ws)
        if not saved:
            return [], base.until
        period = Period(base.until - ALERT_WINDOW, base.until, base.timezone)
        tz = ZoneInfo(period.timezone)
        groups = Counter(q.group for q in saved)
        selections = [Selection("saved", q.name) for q in saved] + [
            Selection("group", g) for g, n in sorted(groups.items()) if n > 1
        ]
        raised = rfc3339(datetime.now(UTC))
        out: list[dict[str, Any]] = []
        for selection in selections:
            condition = selection_condition(store, ws, selection)
            mentions = load_mentions(store, ws, condition, period.since, period.until)
            if not mentions:
                continue
            classes = stored_classes(store, ws, (m["pk"] for m in mentions)).classes
            for spike in when(mentions, classes, period, tz)["spikes"]:
                out.append(
                    {
                        "selection": {"kind": selection.kind, "value": selection.value},
                        **spike,
                        "raised_at": raised,
                    }
                )
        out.sort(key=lambda a: a["start"], reverse=True)
        return out, base.until

    async def _send(self, alert: dict[str, Any]) -> None:
        assert self._http is not None and self.webhook is not None
        payload = {"event": "hubbub.spike", "workspace": self.workspace, **alert}
        try:
            response = await self._http.post(self.webhook, json=payload)
        except httpx.HTTPError as exc:
            self.webhook_failed += 1
            # The exception type only: its text can include the URL (and its token).
            log.warning("alert webhook failed: %s", type(exc).__name__)
            return
        if response.status_code >= 400:
            self.webhook_failed += 1
            log.warning("alert webhook answered %d", response.status_code)
        else:
            self.webhook_sent += 1


async def start_listening(store: Store, settings: Settings, pipeline: Any) -> Listener:
    listener = Listener(store, settings.workspace, pipeline, settings.alert_webhook)
    await listener.start()
    return listener
