// The room header's one line per network ("X: connected · Bluesky:
// reconnecting (try 2, next at 20:14:05 UTC)"), polled from /api/networks.
// Polling, not the room's WebSocket: the state lives in the store (a worker
// may write it), changes at most once a second, and a 5 s lag is fine.
// The text goes in with textContent only.
"use strict";

(function () {
  const el = document.getElementById("networks");
  if (!el) return;
  const EVERY_MS = 3000;

  async function refresh() {
    try {
      const response = await fetch("/api/networks", { credentials: "same-origin", cache: "no-store" });
      if (!response.ok) return;
      const body = await response.json();
      el.replaceChildren();
      for (const item of body.networks || []) {
        const part = document.createElement("span");
        part.className = "network-state state-" + String(item.state).replace(/[^a-z_]/g, "");
        part.dataset.network = String(item.network);
        part.textContent = String(item.label) + ": " + String(item.line);
        if (el.childElementCount) el.append(" · ");
        el.append(part);
      }
      el.hidden = !el.childElementCount;
    } catch (e) {
      // A failed poll keeps the last line; the next one retries.
    }
  }

  refresh();
  setInterval(refresh, EVERY_MS);
})();
