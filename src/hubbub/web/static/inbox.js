// The team inbox: views, the case list, the open case (timeline, reply box),
// live for every agent of the workspace.
//
// Everything a network or a customer wrote is hostile: it is put into the page
// with textContent and links only as http(s) hrefs, never as HTML.
// The live socket only says "something changed"; the page then refetches
// through the JSON API, so what it may see is decided in one place.
(function () {
  "use strict";

  const root = document.getElementById("inbox");
  if (!root) return;
  const T = JSON.parse(document.getElementById("strings").textContent);
  const CSRF = document.querySelector('meta[name="csrf-token"]').content;
  const CAN_ACT = root.dataset.canAct === "true";
  const API = "/api/inbox";
  const CLAIM_SECONDS = 120;
  const CLAIM_RENEW_MS = 60000;

  const state = {
    view: "all",
    filter: {},            // one of status / priority / network / label
    cases: [],
    selected: null,        // case id shown in the case pane
    current: null,         // that case's data
    me: null,
    agents: [],
    saved: [],
    claimed: null,         // case id this page holds a claim on
    claimTimer: null,
    replyKey: newKey(),
    listSeq: 0,
    caseSeq: 0,
    ws: null,
  };

  const $ = (id) => document.getElementById(id);

  function fmt(template, values) {
    return String(template).replace(/\{(\w+)\}/g, (m, k) => (k in values ? String(values[k]) : m));
  }

  function newKey() {
    const bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function announce(text) {
    const el = $("announce");
    el.textContent = "";
    // A fresh text node after clearing makes screen readers repeat the same words.
    setTimeout(() => { el.textContent = text; }, 30);
  }

  function safeHref(url) {
    try {
      const u = new URL(url, location.href);
      return u.protocol === "https:" || u.protocol === "http:" ? u.href : null;
    } catch (e) { return null; }
  }

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function when(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    return isNaN(d) ? "" : d.toLocaleString();
  }

  function duration(minutes) {
    const m = Math.round(Math.abs(minutes));
    if (m < 60) return m + " min";
    const h = Math.floor(m / 60);
    if (h < 48) return h + " h " + (m % 60) + " min";
    return Math.floor(h / 24) + " d " + (h % 24) + " h";
  }

  async function api(method, path, body) {
    const init = { method, credentials: "same-origin", headers: {} };
    if (method !== "GET") init.headers["X-CSRF-Token"] = CSRF;
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const res = await fetch(API + path, init);
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    if (!res.ok) {
      const err = new Error(detailOf(data) || res.statusText);
      err.status = res.status;
      err.data = data;
      throw err;
    }
    return data;
  }

  function detailOf(data) {
    if (!data) return "";
    const d = data.detail;
    if (typeof d === "string") return d;
    if (d && typeof d.message === "string") return d.message;
    if (Array.isArray(d) && d.length && typeof d[0].msg === "string") return d[0].msg;
    return "";
  }

  // -- the list ------------------------------------------------------------------

  function query() {
    const p = new URLSearchParams({ view: state.view });
    for (const [k, v] of Object.entries(state.filter)) p.set(k, v);
    return "?" + p.toString();
  }

  async function loadList() {
    const seq = ++state.listSeq;
    let data;
    try { data = await api("GET", "/cases" + query()); }
    catch (e) { if (seq === state.listSeq) announce(T.error + " " + e.message); return; }
    if (seq !== state.listSeq) return;  // a newer load is under way
    state.me = data.me;
    state.cases = data.cases;
    renderCounts(data.counts);
    renderList();
  }

  function renderCounts(c) {
    const set = (key, n) => {
      const node = root.querySelector('[data-count="' + key + '"]');
      if (node) node.textContent = n ? "(" + n + ")" : "";
    };
    set("mine", c.mine); set("unassigned", c.unassigned); set("all", c.all);
    for (const [s, n] of Object.entries(c.by_status || {})) set("status-" + s, n);
  }

  function renderList() {
    const list = $("case-list");
    list.replaceChildren();
    const labels = new Set();
    for (const c of state.cases) {
      for (const l of c.labels) labels.add(l);
      list.append(caseItem(c));
    }
    $("list-empty").hidden = state.cases.length > 0;
    $("list-count").textContent = "(" + state.cases.length + ")";
    const known = $("known-labels");
    known.replaceChildren(...Array.from(labels).sort().map((l) => { const o = el("option"); o.value = l; return o; }));
    markSelected();
  }

  // How an author is named: the server's label ("@handle", else a short DID,
  // see hubbub.author_labels), the full DID in the tooltip.
  function authorEl(tag, cls, p, fallbackId) {
    const node = el(tag, cls, p.author_label || "@" + p.author);
    const id = p.author_id || fallbackId;
    if (id && String(id).startsWith("did:")) node.title = id;
    return node;
  }

  function caseItem(c) {
    const li = el("li", "case-item status-" + c.status);
    li.id = "case-" + c.id;
    li.setAttribute("role", "option");
    li.dataset.id = String(c.id);
    const top = el("div", "ci-top");
    top.append(el("span", "badge badge-" + c.network, networkName(c.network)));
    top.append(authorEl("span", "ci-author", c));
    top.append(el("span", "ci-status", T.statuses[c.status] || c.status));
    top.append(el("span", "ci-priority priority-" + c.priority, T.priorities[c.priority] || c.priority));
    li.append(top);
    li.append(el("div", "ci-preview", c.preview));
    const meta = el("div", "ci-meta");
    meta.append(el("span", "ci-assignee", c.assignee ? fmt(T.assigned_to, { name: c.assignee }) : T.unassigned));
    if (c.being_answered_by && c.being_answered_by !== state.me) {
      meta.append(el("span", "ci-claim", fmt(T.being_answered_by, { name: c.being_answered_by })));
    }
    if (c.labels.length) meta.append(el("span", "ci-labels", c.labels.join(", ")));
    li.append(meta);
    li.addEventListener("click", () => select(c.id, true));
    return li;
  }

  function networkName(n) { return { x: "X", bluesky: "Bluesky", mastodon: "Mastodon" }[n] || n; }

  function markSelected() {
    const list = $("case-list");
    let found = false;
    for (const li of list.children) {
      const on = Number(li.dataset.id) === state.selected;
      li.setAttribute("aria-selected", on ? "true" : "false");
      if (on) { found = true; list.setAttribute("aria-activedescendant", li.id); }
    }
    if (!found) list.removeAttribute("aria-activedescendant");
  }

  function move(step) {
    if (!state.cases.length) return;
    let i = state.cases.findIndex((c) => c.id === state.selected);
    i = i < 0 ? (step > 0 ? 0 : state.cases.length - 1)
              : Math.max(0, Math.min(state.cases.length - 1, i + step));
    select(state.cases[i].id, true);
  }

  async function select(id, focusList) {
    if (state.selected !== id) {
      await releaseClaim();
      state.replyKey = newKey();
      const box = $("reply-text");
      if (box) box.value = "";
      $("reply-status") && ($("reply-status").textContent = "");
    }
    state.selected = id;
    markSelected();
    const li = $("case-" + id);
    if (li) li.scrollIntoView({ block: "nearest" });
    if (focusList) $("case-list").focus();
    await loadCase();
  }

  // -- the case ------------------------------------------------------------------

  async function loadCase() {
    const id = state.selected;
    if (id === null) { showCase(null); return; }
    const seq = ++state.caseSeq;
    let data;
    try { data = await api("GET", "/cases/" + id); }
    catch (e) {
      if (seq !== state.caseSeq) return;
      if (e.status === 404) { state.selected = null; showCase(null); markSelected(); return; }
      announce(T.error + " " + e.message);
      return;
    }
    if (seq !== state.caseSeq || id !== state.selected) return;
    showCase(data);
  }

  function showCase(c) {
    state.current = c;
    $("case-none").hidden = !!c;
    $("case").hidden = !c;
    if (!c) { $("case-h").textContent = T.case_none; return; }
    $("case-h").textContent = fmt(T.case, { id: c.id });
    $("case-author").textContent = c.author_label || "@" + c.author;
    if (c.author_id && String(c.author_id).startsWith("did:")) $("case-author").title = c.author_id;
    else $("case-author").removeAttribute("title");
    $("case-network").textContent = networkName(c.network);
    $("case-status").textContent = (T.statuses[c.status] || c.status) +
      (c.status === "snoozed" && c.snoozed_until ? " " + T.until + " " + when(c.snoozed_until) : "");
    $("case-assignee").textContent = c.assignee || T.unassigned;
    $("case-intent").textContent = classified(c.intent, c.accuracy && c.accuracy.intent);
    $("case-sentiment").textContent = classified(c.sentiment, c.accuracy && c.accuracy.sentiment);
    showClock($("case-first-response"), c.first_response, T.answered_late, c.not_timed);
    showClock($("case-resolution"), c.resolution, T.resolved_late, c.not_timed);
    $("case-labels").textContent = c.labels.length ? c.labels.join(", ") : "–";
    const claim = $("case-claim");
    if (c.being_answered_by && c.being_answered_by !== state.me) {
      claim.hidden = false;
      claim.className = "claim other";
      claim.textContent = fmt(T.being_answered_by, { name: c.being_answered_by });
    } else if (c.being_answered_by === state.me && state.claimed === c.id) {
      claim.hidden = false;
      claim.className = "claim mine";
      claim.textContent = T.you_answer;
    } else {
      claim.hidden = true;
      claim.textContent = "";
    }
    renderTimeline(c);
    if (CAN_ACT) {
      fillAssign(c);
      $("priority").value = c.priority;
      const labels = $("labels-input");
      if (document.activeElement !== labels) labels.value = c.labels.join(", ");
      $("resolve").disabled = c.status === "resolved";
      $("reopen").disabled = c.status !== "resolved" && c.status !== "snoozed" && c.status !== "pending";
    }
  }

  function classified(value, accuracy) {
    if (!value) return "–";
    if (typeof accuracy !== "number") return value;
    return value + " (" + fmt(T.accuracy, { pct: Math.round(accuracy * 100) + "%" }) + ")";
  }

  function showClock(node, clock, lateText, notTimed) {
    node.classList.remove("breached");
    // Seen too late to time (an old post imported or caught up): the reason, no figure.
    if (notTimed || (clock && clock.state === "not timed")) {
      node.textContent = fmt(T.not_timed, { reason: notTimed ? notTimed.reason : "" });
      return;
    }
    if (!clock || clock.target_minutes === null) { node.textContent = T.no_target; return; }
    // A clock stopped after its target is a breach, never "met" (as the JSON's state says).
    if (clock.met_at && clock.breached) {
      node.textContent = fmt(lateText, { time: duration(clock.left_minutes), when: when(clock.met_at) });
    } else if (clock.stopped_at && clock.breached) {
      // Resolved unanswered after its target: stopped at the resolution, not still growing.
      node.textContent = fmt(T.unanswered_late, { time: duration(clock.left_minutes), when: when(clock.stopped_at) });
    } else if (clock.stopped_at) {
      node.textContent = fmt(T.unanswered, { when: when(clock.stopped_at) });
    } else if (clock.met_at) {
      node.textContent = T.met + " " + when(clock.met_at);
    } else if (clock.breached) {
      node.textContent = fmt(T.breached, { time: duration(clock.left_minutes) });
    } else {
      node.textContent = fmt(T.left, { time: duration(clock.left_minutes) });
    }
    if (clock.breached) node.classList.add("breached");
  }

  function renderTimeline(c) {
    const list = $("timeline");
    const posts = new Map(c.posts.map((p) => [p.post_id, p]));
    list.replaceChildren();
    for (const ev of c.timeline) {
      const li = el("li", "ev ev-" + ev.kind);
      const head = el("div", "ev-head");
      const time = el("time", "ev-time", when(ev.at));
      time.dateTime = ev.at;
      head.append(time, " ", ev.kind === "post" ? authorEl("span", "ev-actor", c) : el("span", "ev-actor", ev.actor), " ",
                  el("span", "ev-kind", T["ev_" + ev.kind] || ev.kind));
      const change = describe(ev.detail);
      if (change) head.append(" ", el("span", "ev-detail", change));
      li.append(head);
      let text = ev.text;
      const postId = ev.detail && typeof ev.detail.post_id === "string" ? ev.detail.post_id : null;
      const post = postId ? posts.get(postId) : null;
      if (!text && post) text = post.text;
      if (text) li.append(el("p", "ev-text", text));
      if (ev.outbox_status) {
        // The state in words with its reason ("failed: not sent, safe to retry: …"),
        // not the bare status: the reason is what tells a person what to do.
        li.append(el("span", "ev-outbox", fmt(T.outbox, { status: ev.outbox_text || ev.outbox_status })));
        if (ev.outbox_status === "failed" && !ev.outbox_maybe_sent && ev.outbox_id !== null) {
          li.append(" ", el("span", "ev-outbox-retry", fmt(T.outbox_retry, { id: ev.outbox_id })));
        }
      }
      const href = safeHref(ev.url || (post && post.url) || "");
      if (href) {
        const a = el("a", "ev-link", T.view_post);
        a.href = href;
        a.rel = "noopener noreferrer nofollow";
        a.target = "_blank";
        li.append(" ", a);
      }
      list.append(li);
    }
    // Customer posts the timeline does not name (older data) still show.
    const named = new Set(c.timeline.map((e) => e.detail && e.detail.post_id).filter(Boolean));
    for (const p of c.posts) {
      if (named.has(p.post_id)) continue;
      const li = el("li", "ev ev-post");
      const head = el("div", "ev-head");
      head.append(el("time", "ev-time", when(p.posted_at)), " ", authorEl("span", "ev-actor", p, c.author_id), " ",
                  el("span", "ev-kind", T.ev_post));
      li.append(head, el("p", "ev-text", p.text));
      list.append(li);
    }
  }

  function describe(detail) {
    if (!detail || typeof detail !== "object") return "";
    const parts = [];
    const word = (v) => (v === null || v === undefined || v === "" ? T.nobody
      : T.statuses[v] || T.priorities[v] || String(v));
    if ("from" in detail || "to" in detail) {
      if ("from" in detail) parts.push(T.from + " " + word(detail.from));
      if ("to" in detail) parts.push(T.to + " " + word(detail.to));
    }
    return parts.join(" ");
  }

  function fillAssign(c) {
    const sel = $("assign-to");
    if (document.activeElement === sel) return;  // do not change it under the user
    const options = [["", T.unassigned], ["*auto", T.round_robin]];
    for (const a of state.agents) options.push([a.name, a.name]);
    sel.replaceChildren(...options.map(([v, label]) => { const o = el("option", null, label); o.value = v; return o; }));
    sel.value = c.assignee || "";
  }

  // -- acting ----------------------------------------------------------------------

  async function act(path, body, message) {
    if (state.selected === null) return null;
    const id = state.selected;
    try {
      const out = await api("POST", "/cases/" + id + path, body);
      if (message) announce(typeof message === "function" ? message(out) : message);
      await Promise.all([loadList(), loadCase()]);
      return out;
    } catch (e) {
      announce(T.error + " " + e.message);
      return null;
    }
  }

  function assignTo(name) {
    const body = name === "*auto" ? { auto: true } : { user: name || null };
    return act("/assign", body, (out) => fmt(T.assigned_msg, { id: out.id, name: out.assignee || T.nobody }));
  }

  function setStatus(status, extra) {
    return act("/status", Object.assign({ status }, extra || {}), (out) =>
      status === "resolved" ? fmt(T.resolved_msg, { id: out.id })
      : status === "snoozed" ? fmt(T.snoozed_msg, { id: out.id, until: when(out.snoozed_until) })
      : fmt(T.status_msg, { id: out.id, status: T.statuses[out.status] || out.status }));
  }

  function snooze() {
    const minutes = Number($("snooze-for").value) || 60;
    const until = new Date(Date.now() + minutes * 60000).toISOString();
    return setStatus("snoozed", { until });
  }

  async function claim() {
    if (state.selected === null || !CAN_ACT) return;
    const id = state.selected;
    try {
      await api("POST", "/cases/" + id + "/claim", { seconds: CLAIM_SECONDS });
      state.claimed = id;
      if (!state.claimTimer) state.claimTimer = setInterval(renewClaim, CLAIM_RENEW_MS);
      loadCase();
    } catch (e) {
      if (e.status === 409) {
        const who = e.data && e.data.detail && e.data.detail.being_answered_by;
        announce(who ? fmt(T.being_answered_by, { name: who }) : e.message);
        loadCase();
      } else {
        announce(T.error + " " + e.message);
      }
    }
  }

  function renewClaim() {
    const box = $("reply-text");
    if (state.claimed !== null && state.claimed === state.selected &&
        (document.activeElement === box || (box && box.value.trim()))) {
      api("POST", "/cases/" + state.claimed + "/claim", { seconds: CLAIM_SECONDS }).catch(() => {});
    } else {
      releaseClaim();
    }
  }

  async function releaseClaim() {
    if (state.claimTimer) { clearInterval(state.claimTimer); state.claimTimer = null; }
    const id = state.claimed;
    state.claimed = null;
    if (id === null) return;
    try { await api("DELETE", "/cases/" + id + "/claim"); } catch (e) { /* it runs out by itself */ }
  }

  async function sendReply(ev) {
    ev.preventDefault();
    const box = $("reply-text");
    const text = box.value;
    if (!text.trim() || state.selected === null) return;
    const button = $("reply-send");
    button.disabled = true;
    try {
      await api("POST", "/cases/" + state.selected + "/replies", { text, key: state.replyKey });
      box.value = "";
      state.replyKey = newKey();
      $("reply-status").textContent = T.sent;
      announce(T.sent);
      await releaseClaim();
      await Promise.all([loadList(), loadCase()]);
    } catch (e) {
      $("reply-status").textContent = T.error + " " + e.message;
    } finally {
      button.disabled = false;
    }
  }

  async function addNote(ev) {
    ev.preventDefault();
    const box = $("note-text");
    if (!box.value.trim()) return;
    const out = await act("/notes", { text: box.value }, T.noted);
    if (out) box.value = "";
  }

  async function useSaved() {
    const code = $("saved-reply").value;
    if (!code || state.selected === null) return;
    try {
      const out = await api("GET", "/cases/" + state.selected + "/saved-replies/" + encodeURIComponent(code));
      $("reply-text").value = out.text;
      $("reply-text").focus();
    } catch (e) {
      $("reply-status").textContent = T.error + " " + e.message;
    }
  }

  async function loadPeople() {
    try {
      const data = await api("GET", "/agents");
      state.agents = data.agents;
      state.me = data.me;
    } catch (e) { /* the list still works */ }
    if (!CAN_ACT) return;
    try {
      const data = await api("GET", "/saved-replies");
      state.saved = data.saved_replies;
      const sel = $("saved-reply");
      const first = sel.options[0];
      sel.replaceChildren(first, ...state.saved.map((s) => { const o = el("option", null, s.code); o.value = s.code; return o; }));
    } catch (e) { /* replies can be typed */ }
  }

  // -- views -------------------------------------------------------------------------

  function setView(button) {
    const d = button.dataset;
    state.filter = {};
    if (d.view) state.view = d.view;
    else {
      state.view = "all";
      for (const k of ["status", "priority", "network"]) if (d[k]) state.filter[k] = d[k];
    }
    for (const b of root.querySelectorAll("button.view")) b.setAttribute("aria-pressed", b === button ? "true" : "false");
    $("list-title").textContent = button.firstChild ? button.firstChild.textContent.trim() : "";
    state.selected = null;
    showCase(null);
    loadList();
  }

  // -- keyboard ------------------------------------------------------------------------

  function typing(target) {
    return target instanceof HTMLElement &&
      (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }

  function onKey(ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if ($("help").open) return;  // the dialog handles its own keys (Esc closes it)
    if (ev.key === "Escape" && ev.target === $("reply-text")) {
      ev.target.blur();
      if (!ev.target.value.trim()) releaseClaim();
      $("case-list").focus();
      return;
    }
    if (typing(ev.target)) return;
    const keys = {
      j: () => move(1),
      k: () => move(-1),
      "?": openHelp,
    };
    if (CAN_ACT && state.selected !== null) {
      keys.r = () => { $("reply-text").focus(); };
      keys.a = () => { if (state.me) assignTo(state.me); };
      keys.e = () => setStatus("resolved");
      keys.s = snooze;
    }
    const fn = keys[ev.key];
    if (!fn) return;
    ev.preventDefault();
    fn();
  }

  function openHelp() {
    const dialog = $("help");
    if (!dialog.open) dialog.showModal();
  }

  // -- live ------------------------------------------------------------------------------

  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const ws = new WebSocket(scheme + location.host + API + "/live");
    state.ws = ws;
    ws.addEventListener("open", () => { $("live-status").textContent = T.live; });
    ws.addEventListener("message", (ev) => {
      let msg;
      try { msg = JSON.parse(ev.data); } catch (e) { return; }
      if (!msg || msg.type !== "changed") return;
      loadList();
      if (state.selected !== null) loadCase();
    });
    ws.addEventListener("close", (ev) => {
      $("live-status").textContent = T.offline;
      if (ev.code === 1008) { setTimeout(() => location.reload(), 2000); return; }  // signed out
      setTimeout(connect, 2000);
    });
  }

  // -- start -------------------------------------------------------------------------------

  for (const b of root.querySelectorAll("button.view")) {
    b.setAttribute("aria-pressed", b.dataset.view === "all" ? "true" : "false");
    b.addEventListener("click", () => setView(b));
  }
  $("label-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const label = $("label-filter").value.trim();
    state.view = "all";
    state.filter = label ? { label } : {};
    for (const b of root.querySelectorAll("button.view")) b.setAttribute("aria-pressed", "false");
    $("list-title").textContent = label || "";
    state.selected = null;
    showCase(null);
    loadList();
  });
  $("case-list").addEventListener("keydown", (ev) => {
    if (ev.key === "ArrowDown") { ev.preventDefault(); move(1); }
    else if (ev.key === "ArrowUp") { ev.preventDefault(); move(-1); }
  });
  $("case-list").addEventListener("focus", () => {
    if (state.selected === null && state.cases.length) select(state.cases[0].id, false);
  });
  $("help-open").addEventListener("click", openHelp);
  document.addEventListener("keydown", onKey);
  if (CAN_ACT) {
    $("assign-go").addEventListener("click", () => assignTo($("assign-to").value));
    $("resolve").addEventListener("click", () => setStatus("resolved"));
    $("reopen").addEventListener("click", () => setStatus("open"));
    $("pending").addEventListener("click", () => setStatus("pending"));
    $("snooze").addEventListener("click", snooze);
    $("priority").addEventListener("change", () =>
      act("/priority", { priority: $("priority").value }, (out) =>
        fmt(T.priority_msg, { priority: T.priorities[out.priority] || out.priority })));
    $("labels-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const labels = $("labels-input").value.split(",").map((s) => s.trim()).filter(Boolean);
      act("/labels", { labels }, T.labels_msg);
    });
    $("reply-form").addEventListener("submit", sendReply);
    $("reply-text").addEventListener("focus", () => { if (state.claimed !== state.selected) claim(); });
    $("saved-reply").addEventListener("change", useSaved);
    $("note-form").addEventListener("submit", addNote);
  }
  window.addEventListener("pagehide", () => {
    // The claim would run out anyway; saying so at once frees the case for the others.
    if (state.claimed !== null) {
      fetch(API + "/cases/" + state.claimed + "/claim", {
        method: "DELETE", credentials: "same-origin", keepalive: true, headers: { "X-CSRF-Token": CSRF },
      }).catch(() => {});
    }
  });

  // Exposed for the browser tests: the page's state, read-only in spirit.
  window.hubbubInbox = { state, loadList, loadCase };
  loadPeople().then(loadList);
  connect();
})();
