// The listening dashboard. Every piece of text from the network or the API
// goes into the page with textContent (or an attribute set through the DOM) —
// never innerHTML — so a post, a handle or a query cannot inject markup.
// Charts are SVG built with createElementNS: no library, nothing from a CDN.
"use strict";

(function () {
  const root = document.getElementById("listen");
  if (!root) return;
  const CSRF = root.dataset.csrf;
  const MANAGE = root.dataset.manage === "true";
  const T = JSON.parse(document.getElementById("strings").textContent);
  const SVG = "http://www.w3.org/2000/svg";
  const POLL_MS = 3000;         // status poll: a few integers
  const FULL_REFRESH_MS = 30000; // scorecard refetched at least this often (imports move no counter)
  const PREVIEW_DEBOUNCE_MS = 250;

  const $ = (id) => document.getElementById(id);
  const state = {
    selection: null,   // {kind: "saved"|"group", value}
    queries: [],
    version: null,
    lastFull: 0,
    scorecard: null,
    alerts: [],
    live: {},
    refreshing: null,
    previewSeq: 0,
  };
  window.hubbubListen = { state: state };

  // -- helpers ------------------------------------------------------------

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  async function api(path, options) {
    const opts = Object.assign({ credentials: "same-origin", headers: {} }, options || {});
    if (opts.method && opts.method !== "GET") {
      opts.headers = Object.assign({ "X-CSRF-Token": CSRF }, opts.headers);
    }
    const res = await fetch(path, opts);
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    return { ok: res.ok, status: res.status, data: data };
  }

  function errorText(data, status) {
    if (data && typeof data.error === "string") {
      const where = typeof data.position === "number" ? " (" + T.column + " " + (data.position + 1) + ")" : "";
      return data.error + where;
    }
    if (data && typeof data.detail === "string") return data.detail;
    return T.error + " " + status;
  }

  function pct(value) {
    return value === null || value === undefined ? "–" : (value * 100).toFixed(1) + "%";
  }

  function selectionParams(sel) {
    const p = new URLSearchParams();
    p.set(sel.kind === "saved" ? "saved" : sel.kind === "group" ? "group" : "q", sel.value);
    const period = $("days").value;
    if (period === "custom") {
      // Dates are midnight in the workspace's time zone (the server reads bare dates so).
      if ($("range-since").value) p.set("since", $("range-since").value);
      if ($("range-until").value) p.set("until", $("range-until").value);
    } else if (period !== "all") {
      p.set("days", period);
    }
    // "all" sends no bounds: the report covers every matching post.
    return p;
  }

  function sameSelection(a, b) {
    return !!a && !!b && a.kind === b.kind && a.value === b.value;
  }

  // -- saved queries ------------------------------------------------------

  function renderQueries() {
    const list = $("query-list");
    list.replaceChildren();
    if (!state.queries.length) list.appendChild(el("li", "muted", T.no_queries));
    for (const q of state.queries) {
      const li = el("li", "query");
      li.dataset.name = q.name;
      li.appendChild(el("span", "q-name", q.name));
      li.appendChild(el("code", "q-text", q.query));
      li.appendChild(el("span", "q-group", q.group));
      const count = el("span", "q-matches");
      count.appendChild(el("span", "q-count", q.matches === null ? 0 : q.matches));
      count.appendChild(document.createTextNode(" " + T.matches));
      li.appendChild(count);
      const fresh = state.live[q.name] || 0;
      li.appendChild(el("span", "q-live" + (fresh ? " has-new" : ""), fresh ? "+" + fresh + " " + T.new : ""));
      if (MANAGE) {
        const rm = el("button", "q-remove", T.remove);
        rm.type = "button";
        rm.addEventListener("click", () => removeQuery(q.name));
        li.appendChild(rm);
      }
      list.appendChild(li);
    }
    renderSelectionOptions();
  }

  function renderSelectionOptions() {
    const select = $("selection");
    const options = [];
    const groups = [];
    for (const q of state.queries) {
      options.push({ kind: "saved", value: q.name, label: T.saved_query + ": " + q.name });
      if (!groups.includes(q.group)) groups.push(q.group);
    }
    for (const g of groups) options.push({ kind: "group", value: g, label: T.group + ": " + g });
    if (!options.some((o) => sameSelection(o, state.selection))) {
      state.selection = options.length ? { kind: options[0].kind, value: options[0].value } : null;
    }
    select.replaceChildren();
    for (const o of options) {
      const opt = el("option", null, o.label);
      opt.value = o.kind + ":" + o.value;
      opt.selected = sameSelection(o, state.selection);
      select.appendChild(opt);
    }
  }

  async function loadQueries() {
    const res = await api("/api/listen/queries");
    if (!res.ok || !Array.isArray(res.data)) throw new Error(errorText(res.data, res.status));
    state.queries = res.data;
    renderQueries();
  }

  async function removeQuery(name) {
    const res = await api("/api/listen/queries/" + encodeURIComponent(name), { method: "DELETE" });
    $("form-status").textContent = res.ok ? T.removed : errorText(res.data, res.status);
    await refreshAll();
  }

  function showQueryError(message) {
    const input = $("query-text");
    $("query-error").textContent = message || "";
    input.classList.toggle("invalid", !!message);
    input.setAttribute("aria-invalid", message ? "true" : "false");
  }

  function renderPreview(data) {
    const box = $("preview");
    const list = $("preview-list");
    list.replaceChildren();
    if (!data) { box.hidden = true; return; }
    box.hidden = false;
    $("preview-count").textContent = data.count
      ? data.posts.length + " " + T.shown_of + " " + data.count + " " + T.matches
      : T.no_matches;
    for (const p of data.posts) {
      const li = el("li", "preview-post");
      const meta = el("div", "meta");
      meta.appendChild(el("span", "badge badge-" + String(p.network).replace(/[^a-z]/g, ""), p.network));
      meta.appendChild(didTitle(el("span", "name", p.name || authorLabel(p, p.author)), p));
      meta.appendChild(didTitle(el("span", "handle", authorLabel(p, p.author)), p));
      meta.appendChild(el("time", "time", p.created_at));
      li.appendChild(meta);
      li.appendChild(el("p", "text", p.text));
      list.appendChild(li);
    }
  }

  async function runPreview() {
    const q = $("query-text").value;
    const seq = ++state.previewSeq;
    if (!q.trim()) { showQueryError(""); renderPreview(null); return; }
    const res = await api("/api/listen/preview?q=" + encodeURIComponent(q));
    if (seq !== state.previewSeq) return; // a newer keystroke's answer wins
    if (res.ok) {
      showQueryError("");
      renderPreview(res.data);
    } else {
      showQueryError(errorText(res.data, res.status));
      renderPreview(null);
    }
  }

  function setupForm() {
    const form = $("query-form");
    if (!form) return;
    let timer = null;
    $("query-text").addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => { runPreview().catch(() => {}); }, PREVIEW_DEBOUNCE_MS);
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = {
        name: $("query-name").value.trim(),
        query: $("query-text").value,
        group: $("query-group").value.trim() || "brand",
      };
      $("query-add").disabled = true;
      try {
        const res = await api("/api/listen/queries", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(body),
        });
        if (res.status === 400) { showQueryError(errorText(res.data, res.status)); return; }
        if (!res.ok) { $("form-status").textContent = errorText(res.data, res.status); return; }
        $("form-status").textContent = T.added;
        showQueryError("");
        renderPreview(null);
        form.reset();
        $("query-group").value = body.group;
        // Show what was just added: that is what the user wants to see next.
        state.selection = { kind: "saved", value: res.data.name };
        await refreshAll();
      } finally {
        $("query-add").disabled = false;
      }
    });
  }

  // -- scorecard ----------------------------------------------------------

  function setCard(id, value, note) {
    $(id).textContent = value;
    $(id + "-note").textContent = note || "";
  }

  // How an author is named: the server's label ("@handle", else a short DID,
  // see hubbub.author_labels), the full DID in the tooltip.
  function authorLabel(p, handle) {
    return p.author_label || "@" + handle;
  }

  function didTitle(node, p) {
    if (p.author_id && String(p.author_id).startsWith("did:")) node.title = p.author_id;
    return node;
  }

  function renderTop(id, items, label) {
    const ol = $(id);
    ol.replaceChildren();
    if (!items.length) { ol.appendChild(el("li", "muted", T.no_data)); return; }
    for (const item of items) {
      const li = el("li");
      li.appendChild(didTitle(el("span", "top-label", label(item)), item));
      li.appendChild(el("span", "top-count", item.count !== undefined ? item.count : item.mentions));
      ol.appendChild(li);
    }
  }

  function renderScorecard(sc) {
    state.scorecard = sc;
    const s = sc.sentiment;
    setCard("sc-mentions", sc.mentions, sc.reposts === undefined ? "" : sc.reposts + " " + T.reposts);
    setCard("sc-strength", pct(sc.strength.value), sc.strength.mentions + " / " + sc.strength.posts + " " + T.posts_24h);
    setCard("sc-sentiment", s.ratio === null ? "–" : s.ratio + ":1",
      "+" + s.positive + " / =" + s.neutral + " / −" + s.negative + " / ?" + s.unsupported);
    setCard("sc-passion", pct(sc.passion.value), sc.passion.authors + " " + T.authors_twice);
    setCard("sc-reach", pct(sc.reach.value), sc.reach.authors + " " + T.unique_authors);
    // "The last N days" ends at the newest matching post (like hubbub report):
    // say so, since that may be long before today.
    const windowNote = sc.period.window === "days"
      ? (T["days_" + sc.period.anchor] || "").replace("{days}", String(sc.period.days))
      : T["window_" + sc.period.window];
    $("period").textContent = sc.period.since + " – " + sc.period.until + " (" + sc.period.timezone + ")" +
      (windowNote ? " · " + windowNote : "");
    // The classifiers' measured accuracy beside their figures (package data, docs/classifiers.md).
    const acc = sc.accuracy;
    $("accuracy").textContent = acc && acc.sentiment && acc.intent
      ? T.accuracy + " — " + T.sentiment + ": " + acc.sentiment.note + " · " + T.intent + ": " +
        acc.intent.note + " · " + acc.unsupported
      : "";
    renderTop("top-keywords", sc.top_keywords, (i) => i.term);
    renderTop("top-users", sc.top_users, (i) => authorLabel(i, i.handle) + " (" + i.network + ")");
    renderTop("top-hashtags", sc.top_hashtags, (i) => "#" + i.tag);
    renderTop("top-sources", sc.sources.networks.concat(sc.sources.clients), (i) => i.name);
    volumeChart($("chart-volume"), sc.volume);
    sentimentChart($("chart-sentiment"), s);
  }

  function clearScorecard() {
    state.scorecard = null;
    for (const id of ["sc-mentions", "sc-strength", "sc-sentiment", "sc-passion", "sc-reach"]) setCard(id, "–", "");
    for (const id of ["top-keywords", "top-users", "top-hashtags", "top-sources"]) $(id).replaceChildren();
    $("chart-volume").replaceChildren();
    $("chart-sentiment").replaceChildren();
    $("period").textContent = "";
    $("accuracy").textContent = "";
  }

  function updateReportLinks() {
    for (const fmt of ["html", "csv", "json"]) {
      const a = $("report-" + fmt);
      if (!state.selection) { a.removeAttribute("href"); continue; }
      const p = selectionParams(state.selection);
      p.set("format", fmt);
      a.href = "/api/listen/report?" + p.toString();
    }
  }

  async function loadScorecard() {
    updateReportLinks();
    if (!state.selection) { clearScorecard(); return; }
    const asked = state.selection;
    const res = await api("/api/listen/scorecard?" + selectionParams(asked).toString());
    if (!sameSelection(asked, state.selection)) return; // changed while loading
    if (!res.ok) throw new Error(errorText(res.data, res.status));
    renderScorecard(res.data);
  }

  // -- charts (SVG) ------------------------------------------------------

  function volumeChart(box, volume) {
    const series = volume.series;
    const W = 640, H = 180, PAD_L = 34, PAD_B = 22, PAD_T = 8;
    const chart = svg("svg", { viewBox: "0 0 " + W + " " + H, class: "chart-svg", role: "img" });
    chart.appendChild(svg("title", {}, T.mentions));
    const max = Math.max(1, ...series.map((b) => b.mentions));
    const spikeStarts = new Set(volume.spikes.filter((s) => s.kind === "volume").map((s) => s.start));
    const innerW = W - PAD_L - 4, innerH = H - PAD_B - PAD_T;
    const step = series.length ? innerW / series.length : innerW;
    chart.appendChild(svg("line", { x1: PAD_L, y1: PAD_T + innerH, x2: W - 4, y2: PAD_T + innerH, class: "axis" }));
    chart.appendChild(svg("text", { x: PAD_L - 4, y: PAD_T + 10, "text-anchor": "end", class: "tick" }, max));
    chart.appendChild(svg("text", { x: PAD_L - 4, y: PAD_T + innerH, "text-anchor": "end", class: "tick" }, 0));
    series.forEach((b, i) => {
      const h = (b.mentions / max) * innerH;
      const negH = (b.negative / max) * innerH;
      const x = PAD_L + i * step + step * 0.1;
      const w = Math.max(1, step * 0.8);
      const bar = svg("rect", {
        x: x.toFixed(1), y: (PAD_T + innerH - h).toFixed(1), width: w.toFixed(1), height: h.toFixed(1),
        class: "bar" + (spikeStarts.has(b.start) ? " spike" : ""),
      });
      bar.appendChild(svg("title", {}, b.start + ": " + b.mentions + " " + T.mentions + ", " + b.negative + " " + T.negative));
      chart.appendChild(bar);
      if (negH > 0) {
        chart.appendChild(svg("rect", {
          x: x.toFixed(1), y: (PAD_T + innerH - negH).toFixed(1), width: w.toFixed(1), height: negH.toFixed(1), class: "bar negative",
        }));
      }
    });
    if (series.length) {
      const label = (s) => s.start.slice(0, volume.bucket === "hour" ? 16 : 10).replace("T", " ");
      chart.appendChild(svg("text", { x: PAD_L, y: H - 6, class: "tick" }, label(series[0])));
      chart.appendChild(svg("text", { x: W - 4, y: H - 6, "text-anchor": "end", class: "tick" }, label(series[series.length - 1])));
    }
    box.replaceChildren(chart);
  }

  function sentimentChart(box, s) {
    const names = ["positive", "neutral", "negative", "unsupported"];
    const W = 320, ROW = 26, H = names.length * ROW + 4, LABEL = 96;
    const chart = svg("svg", { viewBox: "0 0 " + W + " " + H, class: "chart-svg", role: "img" });
    chart.appendChild(svg("title", {}, names.map((n) => T[n] + " " + s[n]).join(", ")));
    const max = Math.max(1, ...names.map((n) => s[n]));
    names.forEach((n, i) => {
      const y = i * ROW + 4;
      const w = (s[n] / max) * (W - LABEL - 40);
      chart.appendChild(svg("text", { x: 0, y: y + 15, class: "tick" }, T[n]));
      chart.appendChild(svg("rect", { x: LABEL, y: y, width: Math.max(0, w).toFixed(1), height: ROW - 8, class: "bar sent-" + n }));
      chart.appendChild(svg("text", { x: LABEL + w + 4, y: y + 15, class: "tick value-" + n }, s[n]));
    });
    box.replaceChildren(chart);
  }

  // -- alerts -------------------------------------------------------------

  function renderAlerts(alerts) {
    state.alerts = alerts;
    const list = $("alert-list");
    list.replaceChildren();
    $("alert-count").textContent = alerts.length ? "(" + alerts.length + ")" : "";
    if (!alerts.length) { list.appendChild(el("li", "muted", T.no_alerts)); return; }
    for (const a of alerts) {
      const li = el("li", "alert alert-" + (a.kind === "volume" ? "volume" : "negative"));
      const what = a.selection.kind === "group" ? T.group + " " + a.selection.value : a.selection.value;
      li.appendChild(el("strong", "alert-what", what));
      const kind = a.kind === "volume" ? T.volume : T.negative_share;
      const value = a.kind === "volume" ? a.value : pct(a.value);
      const base = a.kind === "volume" ? a.baseline : pct(a.baseline);
      li.appendChild(el("span", "alert-detail",
        " " + kind + " " + value + " (" + T.baseline + " " + base + ", z " + a.z + ") · " + a.start));
      list.appendChild(li);
    }
  }

  async function loadAlerts() {
    const res = await api("/api/listen/alerts");
    if (res.ok && res.data && Array.isArray(res.data.alerts)) renderAlerts(res.data.alerts);
  }

  // -- live refresh -------------------------------------------------------

  async function refreshAll() {
    // One refresh at a time; a caller during one waits for it and runs again.
    while (state.refreshing) await state.refreshing.catch(() => {});
    state.refreshing = (async () => {
      await loadQueries();
      await loadScorecard();
      await loadAlerts();
      state.lastFull = Date.now();
    })();
    try { await state.refreshing; } finally { state.refreshing = null; }
  }

  async function poll() {
    try {
      const res = await api("/api/listen/status");
      if (!res.ok) throw new Error(String(res.status));
      $("live-status").textContent = T.live;
      root.classList.remove("offline");
      const st = res.data;
      const changed = st.version !== state.version;
      state.live = st.live || {};
      if (changed || Date.now() - state.lastFull > FULL_REFRESH_MS) {
        await refreshAll();
        state.version = st.version;
      }
    } catch (e) {
      $("live-status").textContent = T.offline;
      root.classList.add("offline");
    } finally {
      setTimeout(poll, POLL_MS);
    }
  }

  $("selection").addEventListener("change", () => {
    const v = $("selection").value;
    const i = v.indexOf(":");
    state.selection = { kind: v.slice(0, i), value: v.slice(i + 1) };
    loadScorecard().catch((e) => { $("form-status").textContent = String(e.message || e); });
  });
  $("days").addEventListener("change", () => {
    $("custom-range").hidden = $("days").value !== "custom";
    loadScorecard().catch((e) => { $("form-status").textContent = String(e.message || e); });
  });
  for (const id of ["range-since", "range-until"]) {
    $(id).addEventListener("change", () => {
      loadScorecard().catch((e) => { $("form-status").textContent = String(e.message || e); });
    });
  }

  setupForm();
  poll();
})();
