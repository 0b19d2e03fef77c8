"""Room latency: how fast a post reaches 100 browsers' WebSockets.

    .venv/bin/python bench/room_latency.py [--clients 100] [--rate 100] [--seconds 30]
                                           [--sweep 100,200,400,800,1600] [--write docs/benchmarks.md]

What is measured
- The Hubbub server (create_app + the real Pipeline + the simulator source
  ``sim:bench?rate=R``, SQLite file) runs in this process under uvicorn.
- The clients run in separate processes (4 by default, so parsing 100×R
  messages/s is not what we measure) on loopback.
- Latency = client receive time − ``entered_at`` (the LivePost.entered_at the
  server sends in each WebSocket message: time.time() when the raw item entered
  the pipeline). Same machine, same clock.
- Missing = posts stored under the room's tag (the store is the oracle) that a
  client never received.
- Memory = this process's RSS after the run (server + pipeline + SQLite).
- Baseline, same run: a bare ``websockets`` broadcast server sending the same
  messages (the stored posts serialised the same way) at the same rate to the
  same number of clients — the floor a WebSocket fan-out in Python costs.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson

TAG = "bench"
CLIENT_PROCS = 4


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


# -- clients (separate processes) ---------------------------------------------


def _client_proc(url: str, n: int, ready: Any, stop: Any, out: Any) -> None:
    import websockets

    async def one(results: list[tuple[str, float]]) -> None:
        async with websockets.connect(url, max_queue=None, ping_interval=None) as ws:
            ready.put(1)
            while True:
                raw = await ws.recv()
                now = time.time()
                msg = orjson.loads(raw)
                results.append((msg["id"], now - msg["entered_at"]))

    async def main() -> None:
        per_client: list[list[tuple[str, float]]] = [[] for _ in range(n)]
        tasks = [asyncio.create_task(one(r)) for r in per_client]
        while not stop.is_set():
            await asyncio.sleep(0.1)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        out.put([([i for i, _ in r], [lat for _, lat in r]) for r in per_client])

    asyncio.run(main())


class Clients:
    """``count`` WebSocket clients spread over CLIENT_PROCS processes."""

    def __init__(self, url: str, count: int) -> None:
        ctx = mp.get_context("spawn")
        self.ready, self.stop, self.out = ctx.Queue(), ctx.Event(), ctx.Queue()
        sizes = [
            count // CLIENT_PROCS + (1 if i < count % CLIENT_PROCS else 0)
            for i in range(CLIENT_PROCS)
        ]
        self.procs = [
            ctx.Process(
                target=_client_proc, args=(url, n, self.ready, self.stop, self.out), daemon=True
            )
            for n in sizes
            if n
        ]
        self.count = count

    def start(self) -> None:
        for p in self.procs:
            p.start()
        for _ in range(self.count):
            self.ready.get(timeout=60)

    def finish(self) -> list[tuple[list[str], list[float]]]:
        self.stop.set()
        results: list[tuple[list[str], list[float]]] = []
        for _ in self.procs:
            results.extend(self.out.get(timeout=120))
        for p in self.procs:
            p.join(timeout=30)
        return results


def summarise(results: list[tuple[list[str], list[float]]], expected: set[str]) -> dict[str, Any]:
    latencies = sorted(lat for _, lats in results for lat in lats)
    missing = [len(expected - set(ids)) for ids, _ in results]

    def pct(p: float) -> float:
        if not latencies:
            return float("nan")
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return {
        "messages": len(latencies),
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "max_ms": latencies[-1] * 1000 if latencies else float("nan"),
        "mean_ms": statistics.fmean(latencies) * 1000 if latencies else float("nan"),
        "posts": len(expected),
        "clients_missing_posts": sum(1 for m in missing if m),
        "max_missing": max(missing) if missing else 0,
    }


# -- the Hubbub server under test ------------------------------------------------


class Limited:
    """A source that stops after ``seconds`` (the simulator runs forever)."""

    def __init__(self, source: Any, seconds: float) -> None:
        self.source, self.seconds = source, seconds
        self.name = source.name

    async def __aiter__(self) -> AsyncIterator[Any]:
        deadline = time.monotonic() + self.seconds
        async for item in self.source:
            if time.monotonic() >= deadline:
                return
            yield item


class HubbubServer:
    def __init__(self, db: Path) -> None:
        import uvicorn

        from hubbub.cli.serve import uvicorn_config
        from hubbub.settings import Settings
        from hubbub.web import create_app

        self.port = free_port()
        # The room is configured (rooms exist only when configured, fed or opened).
        settings = Settings(db=str(db), port=self.port, rooms=(TAG,))
        self.app = create_app(settings)
        # The configuration ``hubbub serve`` runs (WebSocket protocol included),
        # not uvicorn's defaults: measure what ships.
        config = uvicorn_config(self.app, "127.0.0.1", self.port, ws_max_queue=1024)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> HubbubServer:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/api/rooms/{TAG}/live"

    def run_sim(self, rate: float, seconds: float, seed: int) -> None:
        from hubbub.sources.spec import source_from_spec

        source = Limited(source_from_spec(f"sim:{TAG}?rate={rate}&seed={seed}&speed=1"), seconds)
        loop = self.app.state.loop
        loop.call_soon_threadsafe(self.app.state.pipeline.add_source, source)

    def stored_ids(self, since_count: int = 0) -> list[str]:
        store = self.app.state.store
        return [p.id for p in store.iter_posts("#" + TAG, "default")]


def hubbub_run(
    srv: HubbubServer, clients: int, rate: float, seconds: float, seed: int
) -> dict[str, Any]:
    before = set(srv.stored_ids())
    cl = Clients(srv.url, clients)
    cl.start()
    srv.run_sim(rate, seconds, seed)
    time.sleep(seconds + 3)  # the run plus time for the last batch to fan out
    results = cl.finish()
    expected = set(srv.stored_ids()) - before
    out = summarise(results, expected)
    out["rss_mb"] = rss_mb()
    return out


# -- baseline: a bare websockets broadcast of the same messages ------------------


def baseline_run(messages: list[dict[str, Any]], clients: int, rate: float) -> dict[str, Any]:
    import websockets
    from websockets.asyncio.server import broadcast, serve

    port = free_port()
    url = f"ws://127.0.0.1:{port}/"
    connected: set[Any] = set()
    started = threading.Event()
    go = threading.Event()
    done = threading.Event()

    async def handler(ws: Any) -> None:
        connected.add(ws)
        try:
            await ws.wait_closed()
        finally:
            connected.discard(ws)

    async def main() -> None:
        async with serve(handler, "127.0.0.1", port, ping_interval=None):
            started.set()
            while not go.is_set():
                await asyncio.sleep(0.01)
            start = time.monotonic()
            for i, msg in enumerate(messages):
                delay = start + i / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                msg["entered_at"] = time.time()
                broadcast(connected, orjson.dumps(msg).decode())
            await asyncio.sleep(2)
            done.set()

    thread = threading.Thread(target=lambda: asyncio.run(main()), daemon=True)
    thread.start()
    started.wait(10)
    cl = Clients(url, clients)
    cl.start()
    go.set()
    done.wait(len(messages) / rate + 60)
    results = cl.finish()
    thread.join(timeout=10)
    _ = websockets  # imported for its side effect of failing early if missing
    return summarise(results, {m["id"] for m in messages})


def messages_from_store(srv: HubbubServer, limit: int) -> list[dict[str, Any]]:
    from hubbub.web.hub import live_message

    room = srv.app.state.rooms.get(TAG)
    posts = list(srv.app.state.store.iter_posts("#" + TAG, "default"))[-limit:]
    return [live_message(p, room, time.time()) for p in posts]


# -- report -----------------------------------------------------------------------


def row(name: str, r: dict[str, Any]) -> str:
    return (
        f"| {name} | {r['posts']} | {r['messages']} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | "
        f"{r['max_ms']:.1f} | {r['clients_missing_posts']} | {r.get('rss_mb', float('nan')):.0f} |"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--clients", type=int, default=100)
    ap.add_argument("--rate", type=float, default=100.0)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--sweep", default="200,400,800,1600", help="rates for the p99<100 ms search")
    ap.add_argument("--sweep-seconds", type=float, default=10.0)
    ap.add_argument("--write", default=None, help="append the results to this Markdown file")
    ap.add_argument(
        "--quick",
        action="store_true",
        help="the short run `make bench` uses: 100 posts/s for 10 s, then 200 posts/s for 5 s",
    )
    args = ap.parse_args(argv)
    if args.quick:
        args.seconds, args.sweep, args.sweep_seconds = 10.0, "200", 5.0

    lines = [
        "| run | posts | messages received | p50 ms | p99 ms | max ms | clients missing posts | server RSS MB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    with (
        tempfile.TemporaryDirectory(prefix="hubbub-bench-") as tmp,
        HubbubServer(Path(tmp) / "bench.db") as srv,
    ):
        main_run = hubbub_run(srv, args.clients, args.rate, args.seconds, seed=1)
        lines.append(row(f"Hubbub, {args.rate:g} posts/s × {args.seconds:g} s", main_run))
        print(lines[-1], flush=True)
        base = baseline_run(messages_from_store(srv, main_run["posts"]), args.clients, args.rate)
        lines.append(row(f"bare websockets broadcast, {args.rate:g} posts/s", base))
        print(lines[-1], flush=True)
        best = (
            args.rate
            if main_run["p99_ms"] < 100 and not main_run["clients_missing_posts"]
            else None
        )
        for i, rate in enumerate(float(r) for r in args.sweep.split(",") if r):
            r = hubbub_run(srv, args.clients, rate, args.sweep_seconds, seed=10 + i)
            lines.append(row(f"Hubbub, {rate:g} posts/s × {args.sweep_seconds:g} s", r))
            print(lines[-1], flush=True)
            b = baseline_run(messages_from_store(srv, r["posts"]), args.clients, rate)
            lines.append(row(f"bare websockets broadcast, {rate:g} posts/s", b))
            print(lines[-1], flush=True)
            if r["p99_ms"] >= 100 or r["clients_missing_posts"]:
                break
            best = rate
    ratio = main_run["p99_ms"] / base["p99_ms"] if base["p99_ms"] else float("nan")
    summary = [
        "",
        f"- {args.clients} clients, {args.rate:g} posts/s for {args.seconds:g} s: "
        f"p50 {main_run['p50_ms']:.1f} ms, p99 {main_run['p99_ms']:.1f} ms "
        f"({ratio:.1f}× the bare broadcast's p99 {base['p99_ms']:.1f} ms), "
        f"{main_run['clients_missing_posts']} clients missing posts, server RSS {main_run['rss_mb']:.0f} MB.",
        f"- Highest tested input rate with p99 < 100 ms and nothing missing: "
        f"{f'{best:g} posts/s' if best else 'none of the tested rates'} (sweep {args.sweep}).",
    ]
    text = "\n".join(lines + summary)
    print(text)
    if args.write:
        section = (
            "\n## Room latency\n\n"
            f"`bench/room_latency.py` on {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
            f"{time.strftime('%Y-%m-%d')}. Latency: from `LivePost.entered_at` (sent in each "
            "WebSocket message as `entered_at`) to the client process receiving the message; "
            f"clients in {CLIENT_PROCS} separate processes on loopback; the store is the oracle for "
            "missing posts; the baseline is a bare `websockets` broadcast of the same messages at "
            "the same rate in the same run.\n\n" + text + "\n"
        )
        with open(args.write, "a", encoding="utf-8") as fh:
            fh.write(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
