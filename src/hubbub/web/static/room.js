// The live room page. Every piece of network text goes into the page with
// textContent or as an attribute value set through the DOM — never innerHTML —
// so a post, a name or a link cannot inject markup or script.
"use strict";

(function () {
  const root = document.getElementById("room");
  if (!root) return;
  const TAG = root.dataset.tag;
  const CSRF = root.dataset.csrf;
  const IS_HOST = root.dataset.host === "true";
  const PROJECTOR = root.dataset.projector === "true";
  const T = JSON.parse(document.getElementById("strings").textContent);
  // "/w/NAME" on a workspace's public URL: its API is under the same prefix.
  const BASE = root.dataset.base || "";
  const API = BASE + "/api/rooms/" + encodeURIComponent(TAG);
  const CROSSPOST_WINDOW_MS = 5 * 60 * 1000;
  const MAX_SHOWN = PROJECTOR ? 60 : 2000;
  const NETWORK_LABEL = { x: "X", bluesky: "Bluesky", mastodon: "Mastodon", web: "Web" };

  const $ = (id) => document.getElementById(id);
  const list = $("posts");

  const state = {
    room: { public: true, allow_guests: false, approval: false, roles: [], me: { name: null, host: false } },
    roles: new Map(),     // "network:handle" → host|guest
    shown: new Map(),     // post id → {post, el}
    crossposts: new Map(),// xkey → {el, at, networks:Set}
    questions: new Map(), // question post id → n
    waiting: [],          // arrived but not shown yet (paused or slow mode)
    paused: false,
    slowRate: 0,
    slowTimer: null,
    langs: new Set(),
    qaView: false,
    ws: null,
    loaded: false,
    early: [],            // WebSocket posts that arrived before the first page load
    cursor: null,         // store cursor of the newest post this page has been given
    catchingUp: false,
    catchUpAgain: false,
    synced: false,        // this socket is live and everything before it was fetched
    lastEntered: 0,       // entered_at of the newest live post on this socket
    hover: false,         // paused while the pointer is over the stream
    removed: new Set(),   // "network id" of posts a host removed
    rolesLoaded: false,
  };

  // -- helpers ------------------------------------------------------------

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // How an author is named: the server's label ("@handle", else a short DID,
  // see hubbub.author_labels), the full DID in the tooltip.
  function authorLabel(p) {
    return p.author_label || (p.author ? "@" + p.author : "");
  }

  function authorEl(tag, cls, p, text) {
    const node = el(tag, cls, text);
    if (p.author_id && p.author_id.startsWith("did:")) node.title = p.author_id;
    return node;
  }

  async function send(path, body) {
    const res = await fetch(path.startsWith("/api/") ? BASE + path : API + path, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": CSRF },
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    if (!res.ok) {
      const detail = data && typeof data.detail === "string" ? data.detail : String(res.status);
      throw new Error(detail);
    }
    return data;
  }

  function roleOf(p) {
    if (p.author_id && p.author_id.startsWith("web:guest:")) return null;
    if (!state.rolesLoaded && p.role) return p.role;
    return state.roles.get(p.network + ":" + String(p.author || "").toLowerCase().replace(/^@/, "")) || null;
  }

  // Plain text with http(s) links made clickable; everything else stays text.
  function fillText(node, text) {
    const re = /https?:\/\/[^\s<>"']+/gi;
    let last = 0;
    let m;
    while ((m = re.exec(text)) !== null) {
      if (m.index > last) node.appendChild(document.createTextNode(text.slice(last, m.index)));
      const raw = m[0];
      let href = null;
      try {
        const u = new URL(raw);
        if (u.protocol === "http:" || u.protocol === "https:") href = u.href;
      } catch (e) { href = null; }
      if (href) {
        const a = el("a", "link", raw);
        a.href = href;
        a.rel = "nofollow noopener noreferrer";
        a.target = "_blank";
        node.appendChild(a);
      } else {
        node.appendChild(document.createTextNode(raw));
      }
      last = m.index + raw.length;
    }
    if (last < text.length) node.appendChild(document.createTextNode(text.slice(last)));
  }

  function timeLabel(iso) {
    const d = new Date(iso);
    if (isNaN(d.getTime())) return "";
    return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }

  function badge(network) {
    const b = el("span", "badge badge-" + (NETWORK_LABEL[network] ? network : "other"),
                 NETWORK_LABEL[network] || network);
    b.dataset.network = network;
    return b;
  }

  // -- rendering ----------------------------------------------------------

  function render(p) {
    const li = el("li", "post");
    li.dataset.id = p.id;
    li.dataset.network = p.network;
    li.crossposts = [p]; // the posts this entry shows (show() merges cross-posts in)
    li.dataset.authorId = p.author_id || "";
    li.dataset.langs = (p.langs || []).join(" ");
    li.dataset.repost = p.repost_of ? "true" : "false";
    if (p.question) li.dataset.question = String(p.question);
    if (p.answer) li.dataset.answer = String(p.answer);
    const role = roleOf(p);
    if (role) { li.dataset.role = role; li.classList.add("role-" + role); }

    const meta = el("div", "meta");
    const badges = el("span", "badges");
    badges.appendChild(badge(p.network));
    meta.appendChild(badges);
    meta.appendChild(authorEl("span", "name", p, p.author_name || authorLabel(p)));
    meta.appendChild(authorEl("span", "handle", p, authorLabel(p)));
    if (role) meta.appendChild(el("span", "role-label", T[role] || role));
    if (p.author_id && p.author_id.startsWith("web:guest:")) meta.appendChild(el("span", "role-label guest-label", T.guest));
    if (p.repost_of) meta.appendChild(el("span", "kind", T.repost));
    const time = el("time", "time", timeLabel(p.created_at));
    time.dateTime = p.created_at || "";
    time.title = p.created_at || "";
    meta.appendChild(time);
    if (IS_HOST && !PROJECTOR) {
      const tools = el("span", "tools");
      for (const action of ["mute", "block"]) {
        const b = el("button", "tool tool-" + action, T[action]);
        b.type = "button";
        b.addEventListener("click", () => hideAuthor(action === "mute" ? "muted" : "blocked", p));
        tools.appendChild(b);
      }
      for (const action of ["pin", "remove"]) {
        const b = el("button", "tool tool-" + action, T[action]);
        b.type = "button";
        // Remove takes out every network's post of a merged cross-post entry.
        const targets = () => (action === "remove" ? li.crossposts : [p]);
        b.addEventListener("click", () => targets().forEach((q) => moderate(action, q, true)));
        tools.appendChild(b);
      }
      meta.appendChild(tools);
    }
    li.appendChild(meta);

    const body = p.repost ? repostBody(p) : el("p", "text");
    if (!p.repost) fillText(body, p.text || "");
    // A repost shows its original's words: the original's warning folds it too.
    const original = p.repost && p.repost.original;
    const warning = p.content_warning || (original && original.content_warning);
    if (warning || p.sensitive || (original && original.sensitive)) {
      // Folded until the reader opens it (native <details>, no script needed).
      const details = el("details", "cw");
      details.appendChild(el("summary", "cw-summary", warning || T.sensitive));
      details.appendChild(body);
      li.appendChild(details);
    } else {
      li.appendChild(body);
    }
    return li;
  }

  // A repost with nothing of its own to show (a Bluesky repost, a Mastodon
  // reblog, a retweet cut short with "…"): "reposted by @x" and the
  // original's author and text, or, when the store does not have the
  // original, the post's own words (if any) and a note saying so. Never blank.
  function repostBody(p) {
    const box = el("div", "repost-body");
    box.appendChild(el("p", "repost-by", "↻ " + T.reposted_by.replace("{who}", p.repost.by || authorLabel(p))));
    const original = p.repost.original;
    if (original) {
      const quote = el("blockquote", "original");
      quote.dataset.network = original.network;
      quote.dataset.id = original.id;
      quote.appendChild(authorEl("span", "handle original-author", original, original.author_label));
      const text = el("p", "text");
      fillText(text, original.text || "");
      quote.appendChild(text);
      box.appendChild(quote);
    } else {
      if ((p.text || "").trim()) {
        const own = el("p", "text");
        fillText(own, p.text);
        box.appendChild(own);
      }
      box.appendChild(el("p", "text repost-missing", T.repost_missing));
    }
    return box;
  }

  function noteLang(p) {
    for (const lang of p.langs || []) {
      if (state.langs.has(lang)) continue;
      state.langs.add(lang);
      const opt = el("option", null, lang);
      opt.value = lang;
      const select = $("f-lang");
      if (select) select.appendChild(opt);
    }
  }

  // Show one post now: merge a cross-post into the entry it repeats, else add it.
  function show(p) {
    if (state.shown.has(p.id)) return;
    if (state.removed.has(p.network + " " + p.id)) return;
    if (PROJECTOR && p.spam) return;
    if (p.question) state.questions.set(p.id, p.question);
    if (!p.answer && p.reply_to && state.questions.has(p.reply_to)) p.answer = state.questions.get(p.reply_to);
    noteLang(p);
    const at = Date.parse(p.created_at) || Date.now();
    if (!p.repost_of && p.xkey) {
      const twin = state.crossposts.get(p.xkey);
      if (twin && !twin.networks.has(p.network) && Math.abs(twin.at - at) <= CROSSPOST_WINDOW_MS) {
        twin.networks.add(p.network);
        twin.el.querySelector(".badges").appendChild(badge(p.network));
        twin.el.dataset.network += " " + p.network;
        twin.el.crossposts.push(p);
        state.shown.set(p.id, { post: p, el: twin.el });
        return;
      }
    }
    const li = render(p);
    state.shown.set(p.id, { post: p, el: li });
    if (!p.repost_of && p.xkey) state.crossposts.set(p.xkey, { el: li, at: at, networks: new Set([p.network]) });
    applyFilters(li);
    list.insertBefore(li, list.firstChild);
    while (list.children.length > MAX_SHOWN) {
      const old = list.lastChild;
      list.removeChild(old);
      state.shown.delete(old.dataset.id);
    }
    if (state.qaView && (p.question || p.answer || p.reply_to)) scheduleQA();
  }

  // -- pause and slow mode ------------------------------------------------

  function updateWaiting() {
    const count = $("waiting-count");
    if (count) count.textContent = String(state.waiting.length);
    const box = $("waiting");
    if (box) box.classList.toggle("has-waiting", state.waiting.length > 0);
  }

  function arrive(p) {
    if (state.shown.has(p.id)) return;
    state.waiting.push(p);
    pump();
  }

  function held() { return state.paused || state.hover; }

  function pump() {
    if (!held() && state.slowRate === 0) {
      while (state.waiting.length) show(state.waiting.shift());
    }
    updateWaiting();
  }

  function slowTick() {
    if (!held() && state.waiting.length) show(state.waiting.shift());
    updateWaiting();
  }

  function setPaused(paused) {
    state.paused = paused;
    const b = $("pause");
    if (b) {
      b.textContent = paused ? T.resume : T.pause;
      b.setAttribute("aria-pressed", paused ? "true" : "false");
    }
    root.classList.toggle("paused", held());
    pump();
  }

  function setHover(on) {
    state.hover = on;
    root.classList.toggle("paused", held());
    pump();
  }

  function setSlow() {
    const on = $("slow-on").checked;
    let rate = parseFloat($("slow-rate").value);
    if (!isFinite(rate)) rate = 1;
    rate = Math.min(10, Math.max(0.3, rate));
    if (state.slowTimer) { clearInterval(state.slowTimer); state.slowTimer = null; }
    state.slowRate = on ? rate : 0;
    if (on) state.slowTimer = setInterval(slowTick, 1000 / rate);
    pump();
  }

  // -- filters -----------------------------------------------------------

  function filters() {
    const val = (id) => { const n = $(id); return n ? n : null; };
    return {
      reposts: val("f-reposts") && val("f-reposts").checked,
      people: val("f-people") && val("f-people").checked,
      questions: val("f-questions") && val("f-questions").checked,
      answers: val("f-answers") ? parseInt(val("f-answers").value, 10) : NaN,
      network: val("f-network") ? val("f-network").value : "",
      lang: val("f-lang") ? val("f-lang").value : "",
    };
  }

  function applyFilters(li, f) {
    f = f || filters();
    const d = li.dataset;
    let visible = true;
    if (f.reposts && d.repost === "true") visible = false;
    if (f.people && !d.role) visible = false;
    if (f.questions && !d.question) visible = false;
    if (!isNaN(f.answers) && d.answer !== String(f.answers)) visible = false;
    if (f.network && !d.network.split(" ").includes(f.network)) visible = false;
    if (f.lang && !d.langs.split(" ").includes(f.lang)) visible = false;
    li.hidden = !visible;
  }

  function refilter() {
    const f = filters();
    for (const li of list.children) applyFilters(li, f);
    if (state.qaView) renderQA();
  }

  // -- Q&A view ----------------------------------------------------------

  let qaTimer = null;
  function scheduleQA() {
    if (qaTimer) return;
    qaTimer = setTimeout(() => { qaTimer = null; renderQA(); }, 1000);
  }

  async function renderQA() {
    let data;
    try {
      const res = await fetch(API + "/qa", { credentials: "same-origin" });
      if (!res.ok) return;
      data = await res.json();
    } catch (e) { return; }
    const box = $("qa");
    box.replaceChildren();
    for (const q of data.questions || []) {
      const section = el("section", "qa-question");
      section.dataset.question = String(q.number);
      const h = el("h2", "qa-title");
      h.appendChild(el("span", "qa-n", "Q" + q.number + " "));
      h.appendChild(el("span", "qa-text", q.text));
      section.appendChild(h);
      const ul = el("ul", "qa-answers");
      for (const a of q.answers || []) {
        if (state.removed.has(a.network + " " + a.id)) continue;
        const li = el("li", "qa-answer");
        li.dataset.id = a.id;
        li.appendChild(badge(a.network));
        li.appendChild(authorEl("span", "name", a, a.author_name || authorLabel(a)));
        const t = el("span", "text");
        fillText(t, " " + a.text);
        li.appendChild(t);
        ul.appendChild(li);
      }
      if (!ul.children.length) ul.appendChild(el("li", "qa-none", T.no_answers));
      section.appendChild(ul);
      box.appendChild(section);
    }
    box.dataset.loaded = "true";
  }

  // -- pins and removals -------------------------------------------------

  function renderPins(pins) {
    const box = $("pins");
    if (!box) return;
    box.replaceChildren();
    for (const p of pins || []) {
      if (state.removed.has(p.network + " " + p.id)) continue;
      const li = render(p);
      li.classList.add("pinned");
      li.querySelectorAll(".tool-pin").forEach((b) => {
        b.textContent = T.unpin;
        const fresh = b.cloneNode(true);
        fresh.addEventListener("click", () => moderate("pin", p, false));
        b.replaceWith(fresh);
      });
      box.appendChild(li);
    }
    box.hidden = !box.children.length;
  }

  async function loadPins() {
    try {
      const res = await fetch(API + "/pins", { credentials: "same-origin" });
      if (res.ok) renderPins(await res.json());
    } catch (e) { /* the next pin event brings them */ }
  }

  function dropPost(network, id) {
    state.removed.add(network + " " + id);
    const v = state.shown.get(id);
    if (v && v.post.network === network) {
      if (v.el.parentNode) v.el.parentNode.removeChild(v.el);
      state.shown.delete(id);
    }
    // Its reposts already shown go with it: they show its words.
    for (const [rid, r] of Array.from(state.shown)) {
      if (r.post.network === network && r.post.repost_of === id) {
        if (r.el.parentNode) r.el.parentNode.removeChild(r.el);
        state.shown.delete(rid);
      }
    }
    state.waiting = state.waiting.filter((w) => !(w.network === network && (w.id === id || w.repost_of === id)));
    updateWaiting();
    if (state.qaView) scheduleQA();
  }

  async function moderate(action, p, on) {
    try {
      await send("/" + action, { network: p.network, id: p.id, on: on });
      if (action === "remove") dropPost(p.network, p.id);
    } catch (e) { status(String(e.message || e)); }
  }

  // Room events between the posts on the WebSocket.
  function onEvent(ev) {
    if (ev.event === "pins") renderPins(ev.pins);
    else if (ev.event === "removed" && ev.on !== false) dropPost(String(ev.network), String(ev.post));
    else if (ev.event === "removed") { state.removed.delete(ev.network + " " + ev.post); }
    else if (ev.event === "room") loadState();
  }

  // -- host tools --------------------------------------------------------

  async function hideAuthor(role, p) {
    try {
      const room = await send("/people", {
        role: role, network: p.network, who: p.author_id, label: authorLabel(p), on: true,
      });
      applyRoom(room);
      for (const [id, v] of Array.from(state.shown.entries())) {
        if (v.post.author_id === p.author_id && v.post.network === p.network) {
          if (v.el.parentNode) v.el.parentNode.removeChild(v.el);
          state.shown.delete(id);
        }
      }
      state.waiting = state.waiting.filter((w) => !(w.author_id === p.author_id && w.network === p.network));
      updateWaiting();
    } catch (e) { status(String(e.message || e)); }
  }

  function rehighlight() {
    for (const li of list.children) {
      const v = state.shown.get(li.dataset.id);
      if (!v) continue;
      const role = roleOf(v.post);
      if ((li.dataset.role || null) === role) continue;
      li.classList.remove("role-host", "role-guest");
      const old = li.querySelector(".meta .role-label:not(.guest-label)");
      if (old) old.remove();
      if (role) {
        li.dataset.role = role;
        li.classList.add("role-" + role);
        const label = el("span", "role-label", T[role] || role);
        li.querySelector(".meta .handle").after(label);
      } else {
        delete li.dataset.role;
      }
      applyFilters(li);
    }
  }

  function applyRoom(room) {
    Object.assign(state.room, room);
    state.roles = new Map((room.roles || []).map((r) => [r.network + ":" + r.handle, r.role]));
    state.rolesLoaded = true;
    rehighlight();
    if (IS_HOST) {
      $("s-public").checked = room.public !== false;
      $("s-guests").checked = !!room.allow_guests;
      $("s-approval").checked = !!room.approval;
      const people = $("people");
      people.replaceChildren();
      for (const r of room.roles || []) {
        const li = el("li", "person role-" + r.role);
        li.appendChild(el("span", null, (T[r.role] || r.role) + ": " + NETWORK_LABEL[r.network] + " @" + r.handle));
        people.appendChild(li);
      }
      const hidden = $("hidden-list");
      hidden.replaceChildren();
      for (const h of room.hidden || []) {
        const li = el("li", "person");
        li.appendChild(el("span", null, (T[h.role === "muted" ? "mute" : "block"]) + ": " +
          (NETWORK_LABEL[h.network] || h.network) + " " + h.label));
        const b = el("button", "tool", T.unblock);
        b.type = "button";
        b.addEventListener("click", async () => {
          try { applyRoom(await send("/people", { role: h.role, network: h.network, who: h.author_id, on: false })); }
          catch (e) { status(String(e.message || e)); }
        });
        li.appendChild(b);
        hidden.appendChild(li);
      }
    }
    setupCompose();
  }

  let queueTimer = null;
  async function pollQueue() {
    if (!IS_HOST) return;
    if (!state.room.approval) { $("queue").replaceChildren(); return; }
    try {
      const res = await fetch(API + "/pending", { credentials: "same-origin" });
      if (!res.ok) return;
      const posts = await res.json();
      const queue = $("queue");
      queue.replaceChildren();
      if (!posts.length) queue.appendChild(el("li", "queue-empty", T.empty_queue));
      for (const p of posts) {
        const li = el("li", "queued");
        li.dataset.id = p.id;
        li.appendChild(badge(p.network));
        li.appendChild(authorEl("span", "name", p, p.author_name || authorLabel(p)));
        const t = p.repost ? repostBody(p) : el("span", "text");
        if (!p.repost) fillText(t, " " + p.text);
        li.appendChild(t);
        for (const [label, approve] of [[T.approve, true], [T.reject, false]]) {
          const b = el("button", approve ? "approve" : "reject", label);
          b.type = "button";
          b.addEventListener("click", async () => {
            try {
              await send("/decide", { network: p.network, id: p.id, approve: approve });
              if (li.parentNode) li.parentNode.removeChild(li);
            } catch (e) { status(String(e.message || e)); }
          });
          li.appendChild(b);
        }
        queue.appendChild(li);
      }
    } catch (e) { /* next poll retries */ }
  }

  // -- compose -----------------------------------------------------------

  // Mirrors hubbub.web.compose: X weighs links 23 and wide characters 2.
  const X_LIGHT = [[0, 4351], [8192, 8205], [8208, 8223], [8242, 8247]];
  function xLength(text) {
    let total = 0;
    const parts = text.normalize("NFC").split(/(https?:\/\/[^\s]+)/i);
    parts.forEach((part, i) => {
      if (i % 2 === 1) { total += 23; return; }
      for (const ch of part) {
        const cp = ch.codePointAt(0);
        total += X_LIGHT.some(([lo, hi]) => cp >= lo && cp <= hi) ? 1 : 2;
      }
    });
    return total;
  }
  function graphemes(text) {
    if (typeof Intl !== "undefined" && Intl.Segmenter) {
      let n = 0;
      for (const _ of new Intl.Segmenter(undefined, { granularity: "grapheme" }).segment(text)) n++;
      return n;
    }
    return Array.from(text).length;
  }
  function hasTag(text) {
    const want = TAG.toLowerCase();
    const re = /(?:^|[^\w&])#([^\s#.,!?;:()\[\]{}"'<>]+)/g;
    let m;
    while ((m = re.exec(text)) !== null) if (m[1].toLowerCase() === want) return true;
    return false;
  }
  function withTag(text) {
    text = text.trim();
    if (hasTag(text)) return text;
    return text ? text + " #" + TAG : "#" + TAG;
  }
  function countCompose() {
    const text = withTag($("c-text").value);
    const counts = { x: [xLength(text), 280], bluesky: [graphemes(text), 300], mastodon: [text.length, 500] };
    for (const [net, [n, max]] of Object.entries(counts)) {
      const out = $("n-" + net);
      out.textContent = String(n);
      out.classList.toggle("over", n > max);
    }
  }

  function setupCompose() {
    const box = $("compose");
    if (!box) return;
    // Hosts post anywhere; guests and viewers where the room takes guest posts.
    const me = state.room.me || {};
    const signedIn = !!me.name;
    const canPost = !!me.host || (!!state.room.allow_guests && state.room.public !== false);
    box.hidden = !canPost;
    $("c-name").hidden = signedIn;
    for (const n of box.querySelectorAll(".member-only")) n.hidden = !signedIn;
  }

  async function post() {
    const text = $("c-text").value;
    const msg = $("c-msg");
    msg.textContent = "";
    try {
      const sent = await send("/posts", { text: text, name: $("c-name").value || null, thread: $("c-thread").checked });
      $("c-text").value = "";
      countCompose();
      msg.textContent = sent && sent.held ? T.held : T.sent;
    } catch (e) {
      msg.textContent = T.error + " " + String(e.message || e);
    }
  }

  // -- live connection ---------------------------------------------------

  function status(text) { const s = $("status"); if (s) s.textContent = text; }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const ws = new WebSocket(scheme + location.host + API + "/live");
    state.ws = ws;
    state.synced = false;
    state.lastEntered = 0;
    ws.addEventListener("open", () => {
      status(T.connected);
      // Live from here on (the server subscribed this socket before opening
      // it); everything stored since this page's cursor comes from the feed,
      // in order, while posts sent live meanwhile wait in early. On a first
      // connection that opens after the first page loaded, this closes the
      // gap between that page and the subscription too.
      if (state.cursor !== null) catchUp();
    });
    ws.addEventListener("message", (ev) => {
      let p;
      try { p = JSON.parse(ev.data); } catch (e) { return; }
      if (p && typeof p.event === "string") { onEvent(p); return; }
      if (!p || typeof p.id !== "string") return;
      if (typeof p.entered_at === "number" && state.ws === ws) state.lastEntered = Math.max(state.lastEntered, p.entered_at);
      if (!state.loaded || state.catchingUp) state.early.push(p); else arrive(p);
    });
    ws.addEventListener("close", () => {
      status(T.offline);
      // Reconnect, then fill any gap from the API (duplicates are skipped by id).
      // Reconnect; the open handler catches up on what was missed.
      setTimeout(connect, 2000);
    });
  }

  async function load() {
    try {
      const res = await fetch(API + "/feed?last=100", { credentials: "same-origin" });
      if (res.ok) {
        const data = await res.json();
        for (const p of data.posts) if (!state.shown.has(p.id)) show(p);
        state.cursor = data.cursor;
      }
    } catch (e) { /* the WebSocket still delivers */ }
    state.loaded = true;
    flushEarly();
    // The socket may have subscribed after this page's snapshot: fetch the gap.
    if (state.ws && state.ws.readyState === 1) catchUp();
  }

  function flushEarly() {
    const early = state.early;
    state.early = [];
    for (const p of early) arrive(p);
  }

  async function catchUp() {
    if (state.cursor === null) { await load(); return; }
    if (state.catchingUp) { state.catchUpAgain = true; return; }
    state.catchingUp = true;
    const ws = state.ws;
    let complete = false;
    try {
      for (;;) {
        const res = await fetch(API + "/feed?after=" + encodeURIComponent(state.cursor) + "&limit=200",
                                { credentials: "same-origin" });
        if (!res.ok) break;
        const data = await res.json();
        for (const p of data.posts) arrive(p);
        state.cursor = data.cursor;
        if (!data.more) { complete = true; break; }
      }
    } catch (e) { /* the next reconnect tries again from the same cursor */ }
    state.catchingUp = false;
    flushEarly();
    if (state.catchUpAgain) { state.catchUpAgain = false; catchUp(); return; }
    if (complete && state.ws === ws && ws && ws.readyState === 1) state.synced = true;
    loadPins();
    if (state.qaView) renderQA();
  }

  // Move the cursor up while the socket stays open, so that catching up
  // after a drop asks for what was missed, not for the whole session.
  async function refreshCursor() {
    const ws = state.ws;
    if (!ws || ws.readyState !== 1 || !state.synced || state.catchingUp || !state.lastEntered) return;
    try {
      const res = await fetch(API + "/cursor?seen=" + encodeURIComponent(state.lastEntered), { credentials: "same-origin" });
      if (!res.ok) return;
      const data = await res.json();
      if (state.ws === ws && state.synced && !state.catchingUp && data.cursor > state.cursor) state.cursor = data.cursor;
    } catch (e) { /* keep the cursor we have */ }
  }

  async function loadState() {
    try {
      const res = await fetch(API + "/state", { credentials: "same-origin" });
      if (res.ok) applyRoom(await res.json());
    } catch (e) { /* defaults: read-only */ }
  }

  // -- wiring ------------------------------------------------------------

  function wire() {
    if (PROJECTOR) return;
    $("pause").addEventListener("click", () => setPaused(!state.paused));
    document.addEventListener("keydown", (ev) => {
      if (ev.key !== " " && ev.code !== "Space") return;
      const t = ev.target;
      if (t && (t.isContentEditable || ["INPUT", "TEXTAREA", "SELECT", "BUTTON"].includes(t.tagName))) return;
      ev.preventDefault();
      setPaused(!state.paused);
    });
    list.addEventListener("mouseenter", () => setHover(true));
    list.addEventListener("mouseleave", () => setHover(false));
    $("slow-on").addEventListener("change", setSlow);
    $("slow-rate").addEventListener("change", setSlow);
    for (const id of ["f-reposts", "f-people", "f-questions", "f-network", "f-lang"]) $(id).addEventListener("change", refilter);
    $("f-answers").addEventListener("input", refilter);
    $("view-qa").addEventListener("click", () => {
      state.qaView = !state.qaView;
      $("view-qa").setAttribute("aria-pressed", state.qaView ? "true" : "false");
      $("qa").hidden = !state.qaView;
      list.hidden = state.qaView;
      if (state.qaView) renderQA();
    });
    $("c-text").addEventListener("input", countCompose);
    $("c-send").addEventListener("click", post);
    countCompose();
    if (IS_HOST) {
      $("s-public").addEventListener("change", async (ev) => {
        try { applyRoom(await send("/settings", { public: ev.target.checked })); } catch (e) { status(String(e.message || e)); }
      });
      $("close-guests").addEventListener("click", async () => {
        try { await send("/api/guests/close", {}); await loadState(); status(T.guests_closed); } catch (e) { status(String(e.message || e)); }
      });
      $("s-guests").addEventListener("change", async (ev) => {
        try { applyRoom(await send("/settings", { allow_guests: ev.target.checked })); } catch (e) { status(String(e.message || e)); }
      });
      $("s-approval").addEventListener("change", async (ev) => {
        try { applyRoom(await send("/settings", { approval: ev.target.checked })); pollQueue(); } catch (e) { status(String(e.message || e)); }
      });
      $("person-form").addEventListener("submit", async (ev) => {
        ev.preventDefault();
        try {
          applyRoom(await send("/people", {
            role: $("p-role").value, network: $("p-network").value, who: $("p-handle").value, on: true,
          }));
          $("p-handle").value = "";
        } catch (e) { status(String(e.message || e)); }
      });
      queueTimer = setInterval(pollQueue, 1500);
    }
  }

  wire();
  connect();
  loadState().then(load).then(loadPins).then(pollQueue);
  setInterval(refreshCursor, 30000);
  window.hubbubRoom = { state: state }; // for debugging in the console
})();
