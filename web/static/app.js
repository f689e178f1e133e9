// The wallboard: one page, no build step. It reads the session, listens to the
// update stream (/api/stream, event "update", one whole Update per event), draws
// the queues, surge, vendors, pools, the day's chart and the agents, ticks waits
// and times in state every second between updates, and sends supervisors' actions.
import { AgentTable, STATES, reasonText } from "./agents.js";
import { DayChart } from "./chart.js";
import { h, setAttr, setClass, setHidden, setStyle, setText } from "./dom.js";
import { clock, dayTime, dur, hhmm, num, pct, setSiteTimeZone, span } from "./format.js";
import { applyStatic, initialLang, lang, rememberLang, setLang, t } from "./i18n.js";

const $ = (id) => document.getElementById(id);

const S = {
  role: null, // "viewer" | "supervisor" | null (not signed in)
  update: null,
  arrivedAt: 0, // performance.now() when the update arrived (ms)
  lastWall: null, // Date.now() of the last update (ms), for "last update"
  conn: "connecting",
  es: null,
  wall: false,
  retry: null,
};

/** The engine clock now: snapshot.at + (browser now - arrival) x speed. */
function engineNow() {
  const u = S.update;
  if (!u) return null;
  return u.snapshot.at + ((performance.now() - S.arrivedAt) / 1000) * (u.snapshot.speed || 1);
}

function isSupervisor() {
  return S.role === "supervisor" && !S.wall;
}

// ---------------------------------------------------------------- toast

let toastTimer = null;
function toast(message, ok) {
  const el = $("toast");
  el.replaceChildren(
    h("span", { class: "toast-mark", "aria-hidden": "true" }, ok ? "✓" : "!"),
    h("span", { class: "toast-text" }, message),
    h("button", { type: "button", class: "toast-close", "aria-label": t("act.close"), onclick: () => showToast(el, false) }, "×"),
  );
  el.dataset.ok = String(Boolean(ok));
  el.className = `toast ${ok ? "ok" : "bad"}`;
  showToast(el, true);
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => showToast(el, false), ok ? 6000 : 12000);
}

/** The toast is a manual popover where the browser has them: in the top layer, it
 * stays visible above the agent dialog's backdrop. */
function showToast(el, on) {
  const popover = typeof el.showPopover === "function";
  if (popover) {
    if (el.matches(":popover-open")) el.hidePopover();
    el.hidden = false;
    if (on) el.showPopover();
    else el.hidden = true;
  } else {
    el.hidden = !on;
  }
}

// ---------------------------------------------------------------- session

async function checkSession() {
  let res;
  try {
    res = await fetch("/api/session", { credentials: "same-origin", headers: { Accept: "application/json" } });
  } catch {
    setConn("closed");
    scheduleRetry(checkSession, 5000);
    return;
  }
  if (res.status === 200) {
    const body = await res.json().catch(() => ({}));
    signedIn(body.role);
  } else if (res.status === 401) {
    showLogin();
  } else {
    setConn("closed");
    scheduleRetry(checkSession, 5000);
  }
}

function scheduleRetry(fn, ms) {
  clearTimeout(S.retry);
  S.retry = setTimeout(fn, ms);
}

function signedIn(role) {
  S.role = role === "supervisor" ? "supervisor" : "viewer";
  $("login").hidden = true;
  document.body.classList.remove("booting", "signed-out");
  document.body.classList.toggle("role-supervisor", S.role === "supervisor");
  setText($("role"), t(`head.role.${S.role}`));
  $("logout-btn").hidden = false;
  rebuild();
  connect();
}

function showLogin(message) {
  S.role = null;
  closeStream();
  document.body.classList.remove("booting", "role-supervisor");
  document.body.classList.add("signed-out");
  $("logout-btn").hidden = true;
  setText($("role"), "");
  const err = $("login-error");
  err.hidden = !message;
  if (message) err.textContent = message;
  $("login").hidden = false;
  $("login-token").value = "";
  $("login-token").focus();
}

async function login(event) {
  event.preventDefault();
  const input = $("login-token");
  const token = input.value;
  input.value = ""; // never kept: the server's HttpOnly cookie is the session
  await loginWith(token);
}

/** A `#token=...` fragment (what `acd demo` prints): log in with it once and drop it
 * from the address bar and history; a fragment never reaches the server's logs. */
async function loginFromFragment() {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (!m) return false;
  history.replaceState(null, "", location.pathname + location.search);
  await loginWith(decodeURIComponent(m[1]));
  return true;
}

async function loginWith(token) {
  let res;
  try {
    res = await fetch("/api/session", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ token }),
    });
  } catch {
    showLogin(t("login.unreachable"));
    return;
  }
  const body = await res.json().catch(() => ({}));
  if (res.ok) signedIn(body.role);
  else showLogin(body.error || body.message || `${t("login.failed")} (${res.status})`);
}

async function logout() {
  try {
    await fetch("/api/session", { method: "DELETE", credentials: "same-origin" });
  } catch {
    /* signed out here anyway */
  }
  S.update = null;
  showLogin();
}

// ---------------------------------------------------------------- stream

function connect() {
  closeStream();
  setConn("connecting");
  const es = new EventSource("/api/stream");
  S.es = es;
  es.addEventListener("open", () => setConn("live"));
  es.addEventListener("update", (e) => {
    let u;
    try {
      u = JSON.parse(e.data);
    } catch {
      return;
    }
    S.update = u;
    S.arrivedAt = performance.now();
    S.lastWall = Date.now();
    setSiteTimeZone(u.time_zone);
    setConn("live");
    render();
  });
  // A quiet floor sends no updates; the heartbeat (every 15 s) says the stream lives.
  es.addEventListener("heartbeat", () => {
    S.lastWall = Date.now();
    setConn("live");
  });
  es.addEventListener("error", () => {
    if (S.es !== es) return;
    if (es.readyState === EventSource.CLOSED) {
      // The server refused the stream (a non-200 answer, e.g. the session ended):
      // find out why, then reconnect or ask for the token.
      setConn("closed");
      S.es = null;
      scheduleRetry(checkSession, 3000);
    } else {
      setConn("reconnecting"); // the browser retries by itself, with Last-Event-ID
    }
  });
}

function closeStream() {
  if (S.es) S.es.close();
  S.es = null;
}

function setConn(state) {
  S.conn = state;
  const el = $("conn");
  setAttr(el, "data-state", state);
  setText($("conn-text"), t(`conn.${state}`));
  document.body.classList.toggle("stale", state !== "live" && S.update !== null);
  tickConn();
}

function tickConn() {
  const last = $("last-update");
  if (!S.lastWall) {
    setText(last, S.role ? t("conn.never") : "");
    return;
  }
  const ago = Math.max(0, Math.round((Date.now() - S.lastWall) / 1000));
  const at = S.update ? clock(S.update.snapshot.at) : "";
  const text = t("conn.last", { time: at }) + (ago >= 3 ? ` ${t("conn.ago", { ago: dur(ago) })}` : "");
  setText(last, text);
  setClass(last, "late", ago >= 20);
}

// ---------------------------------------------------------------- building blocks

function figure(label, testid, cls = "") {
  const val = h("span", { class: "val num", testid }, "—");
  const el = h("div", { class: `fig ${cls}` }, h("span", { class: "lbl" }, label), val);
  return { el, val };
}

function bar(testid, label) {
  const fill = h("span", { class: "bar-fill" });
  const text = h("span", { class: "bar-text num" });
  const track = h("span", { class: "bar-track", role: "meter", "aria-label": label, "aria-valuemin": "0" }, fill);
  const el = h("div", { class: "bar", testid }, h("span", { class: "bar-label" }, label), text, track);
  return { el, fill, text, track };
}

function setBar(b, value, max, alert) {
  const share = max ? Math.min(1, value / max) : 0;
  setStyle(b.fill, "width", `${(share * 100).toFixed(1)}%`);
  setText(b.text, max ? `${num(value)} / ${num(max)}` : `${num(value)} · ${t("vendor.nocap")}`);
  setAttr(b.track, "aria-valuenow", String(value));
  setAttr(b.track, "aria-valuemax", max ? String(max) : null);
  setClass(b.el, "alert", Boolean(alert));
  setClass(b.el, "nocap", !max);
}

// ---------------------------------------------------------------- views

const V = {
  tiles: new Map(),
  queuesKey: "",
  vendors: new Map(),
  vendorsKey: "",
  pools: new Map(),
  poolsKey: "",
  totals: null,
  surge: null,
  ann: null,
  annKey: "",
  alertsKey: "",
  alertEls: [],
  chart: null,
  agents: null,
};

/** (Re)build every view's skeleton: at start, after a language, role or mode change. */
function rebuild() {
  applyStatic();
  $("lang-btn").textContent = t("lang.switch");
  $("lang-btn").title = t("lang.switch_title");
  $("login-lang").textContent = t("lang.switch");
  document.title = t("app.title");
  if (S.role) setText($("role"), t(`head.role.${S.role}`));
  V.queuesKey = "";
  V.vendorsKey = "";
  V.poolsKey = "";
  V.annKey = "";
  V.alertsKey = "";
  V.totals = null;
  V.surge = null;
  if (V.chart) V.chart.reset();
  if (V.agents) {
    V.agents.build();
    V.agents.setSupervisor(isSupervisor(), true);
  }
  setConn(S.conn);
  if (S.update) render();
}

function render() {
  const u = S.update;
  if (!u) return;
  const started = performance.now();
  const snap = u.snapshot;
  document.body.classList.remove("booting");
  setText($("site-name"), snap.site);
  renderStage(snap);
  renderAlerts(u);
  renderTotals(u);
  renderQueues(u);
  renderSurge(u);
  renderAnnouncement(u);
  renderVendors(u);
  renderPools(u);
  if (!S.wall) {
    if (!V.chart) V.chart = new DayChart($("chart"));
    // Completed intervals only: the current one is partial (the tiles show it).
    const done = (snap.intervals || []).filter((i) => i.start < snap.interval_start);
    V.chart.update(done, u.service_level_target);
    const stuck = new Set(u.alerts.filter((a) => a.kind === "agent_stuck").map((a) => a.subject));
    V.agents.setSupervisor(isSupervisor());
    V.agents.update(snap.agents, u.names, stuck);
    renderDialog();
  }
  tick();
  window.__wallboardRenderMs = performance.now() - started; // for performance checks
}

let agentIndex = { update: null, byId: new Map() };
function agentById(id) {
  const u = S.update;
  if (!u) return undefined;
  if (agentIndex.update !== u) agentIndex = { update: u, byId: new Map(u.snapshot.agents.map((a) => [a.id, a])) };
  return agentIndex.byId.get(id);
}

function stageName(stage) {
  return stage ? t("surge.stage", { n: stage }) : t("surge.stage0");
}

function renderStage(snap) {
  const chip = $("stage-chip");
  setText(chip, stageName(snap.stage) + (snap.stage_pinned ? ` · ${t("surge.pinned_short")}` : ""));
  setAttr(chip, "data-pinned", String(snap.stage_pinned));
  setAttr(chip, "data-stage", String(snap.stage));
  setAttr(chip, "title", `${snap.stage_pinned ? t("surge.pinned") : S.update.surge_auto ? t("surge.auto") : t("surge.manual")} · ${t("surge.since", { time: dayTime(snap.stage_since, snap.at) })}`);
}

// ---- alerts

function alertSubject(a, u) {
  if (a.kind === "vendor_cap") return u.names.vendors[a.subject] || a.subject;
  if (a.kind === "agent_stuck") {
    const agent = agentById(a.subject);
    return agent ? `${agent.name} (${agent.id})` : a.subject;
  }
  return u.names.queues[a.subject] || a.subject;
}

function alertText(a, u, now) {
  const ticking = a.since !== null && a.since !== undefined && now !== null;
  const value = ticking ? now - a.since : a.value;
  let v, th, detail;
  if (a.kind === "service_level") {
    v = pct(a.value);
    th = pct(a.threshold);
  } else if (a.kind === "vendor_cap") {
    v = pct(a.value);
    th = pct(a.threshold);
    detail = t(`cap.${a.detail}`);
  } else {
    v = dur(value);
    th = dur(a.threshold);
    detail = a.kind === "agent_stuck" ? t(`state.${a.detail}`) : a.detail;
  }
  return t(`alert.${a.kind}`, { subject: alertSubject(a, u), value: v, threshold: th, detail });
}

const ALERT_KINDS = ["service_level", "longest_wait", "vendor_cap", "agent_stuck"];
const alertsPerKind = () => (S.wall ? 3 : 6);

function renderAlerts(u) {
  const box = $("alerts");
  const alerts = u.alerts || [];
  setHidden(box, alerts.length === 0);
  document.body.classList.toggle("has-alerts", alerts.length > 0);
  const key = lang() + "|" + alerts.map((a) => `${a.kind}:${a.subject}:${a.detail}`).join("|");
  if (key !== V.alertsKey) {
    const newCount = alerts.length;
    const oldCount = V.alertsKey ? V.alertsKey.split("|").length - 1 : 0;
    V.alertsKey = key;
    setText($("alerts-count"), alerts.length === 1 ? t("alerts.count_one") : t("alerts.count", { n: num(alerts.length) }));
    const groups = $("alert-groups");
    groups.replaceChildren();
    V.alertEls = [];
    for (const kind of ALERT_KINDS) {
      const of = alerts.filter((a) => a.kind === kind);
      if (!of.length) continue;
      const list = h("ul", { class: "alert-list" });
      for (const a of of.slice(0, alertsPerKind())) {
        const li = h("li", { class: "alert-item", testid: `alert-${a.kind}-${a.subject}` });
        list.append(li);
        V.alertEls.push({ li, alert: a });
      }
      if (of.length > alertsPerKind()) {
        list.append(h("li", { class: "alert-more" }, t("alerts.more", { n: num(of.length - alertsPerKind()) })));
      }
      groups.append(h("div", { class: "alert-group", testid: `alerts-${kind}` }, h("h3", {}, t(`alert.kind.${kind}`)), list));
    }
    if (newCount > oldCount) setText($("alerts-live"), t("alerts.count", { n: num(newCount) }));
  } else {
    // Same alerts: take the fresh records (values), keep the elements.
    let i = 0;
    for (const kind of ALERT_KINDS) {
      const of = alerts.filter((a) => a.kind === kind).slice(0, alertsPerKind());
      for (const a of of) V.alertEls[i++].alert = a;
    }
  }
  tickAlerts();
}

function tickAlerts() {
  const u = S.update;
  if (!u) return;
  const now = engineNow();
  for (const { li, alert } of V.alertEls) setText(li, alertText(alert, u, now));
}

// ---- totals

const TOTAL_FIGS = [
  ["waiting", "totals.waiting"],
  ["offered", "fig.offered"],
  ["answered", "fig.answered"],
  ["abandoned", "fig.abandoned"],
  ["answer_rate", "fig.answer_rate"],
  ["service_level", "fig.service_level"],
  ["service_level_asterisk", "fig.service_level_asterisk"],
  ["asa_seconds", "fig.asa"],
  ["aht_seconds", "fig.aht"],
  ["overflowed", "fig.overflowed"],
  ["callbacks_requested", "fig.callbacks_requested"],
  ["in_ivr", "totals.in_ivr"],
];

function fmtFigure(key, v) {
  if (key === "answer_rate" || key.startsWith("service_level")) return pct(v);
  if (key.endsWith("_seconds")) return dur(v);
  return num(v);
}

function renderTotals(u) {
  const host = $("totals");
  if (!V.totals) {
    host.querySelectorAll(".fig").forEach((e) => e.remove());
    V.totals = {};
    for (const [key, label] of TOTAL_FIGS) {
      const f = figure(t(label), `total-${key}`, `t-${key}`);
      if (key === "service_level_asterisk") f.el.title = t("fig.service_level_asterisk_title");
      if (key === "asa_seconds") f.el.title = t("fig.asa_title");
      if (key === "aht_seconds") f.el.title = t("fig.aht_title");
      V.totals[key] = f;
      host.append(f.el);
    }
  }
  const tot = u.snapshot.totals;
  const target = u.service_level_target;
  for (const [key] of TOTAL_FIGS) {
    let v;
    if (key === "waiting") v = u.snapshot.queues.reduce((s, q) => s + q.waiting, 0);
    else if (key === "in_ivr") v = u.snapshot.calls_in_ivr;
    else v = tot[key];
    setText(V.totals[key].val, fmtFigure(key, v));
    if (key === "service_level") setClass(V.totals[key].el, "under", typeof v === "number" && v < target);
  }
}

// ---- queues

function makeTile(name, u) {
  const title = u.names.queues[name] || name;
  const waiting = figure(t("queue.waiting"), `waiting-${name}`, "big-fig");
  const longest = figure(t("queue.longest"), `longest-${name}`, "big-fig");
  const slLabel = h("span", { class: "lbl" }, t("fig.service_level"));
  const slVal = h("span", { class: "val num", testid: `sl-${name}` });
  const slTarget = h("span", { class: "sl-target num" });
  const slFill = h("span", { class: "sl-fill" });
  const slMark = h("span", { class: "sl-mark", "aria-hidden": "true" });
  const slAst = h("span", { class: "num", testid: `sl-ast-${name}` });
  const sl = h(
    "div",
    { class: "sl" },
    h("div", { class: "sl-line" },
      slLabel,
      slVal,
      slTarget,
    ),
    h("span", { class: "sl-track", "aria-hidden": "true" }, slFill, slMark),
    h("div", { class: "sl-ast", title: t("fig.service_level_asterisk_title") },
      h("span", { class: "lbl" }, t("fig.service_level_asterisk")), " ", slAst),
  );
  const small = {};
  const smallRow = h("div", { class: "small-figs" });
  for (const [key, label, tip] of [
    ["answer_rate", "fig.answer_rate"],
    ["asa_seconds", "fig.asa", "fig.asa_title"],
    ["aht_seconds", "fig.aht", "fig.aht_title"],
    ["agents", "queue.agents_short", "queue.agents"],
  ]) {
    const f = figure(t(label), `${key === "agents" ? "agents" : key.replace("_seconds", "")}-${name}`, `s-${key}`);
    if (tip) f.el.title = t(tip);
    small[key] = f;
    smallRow.append(f.el);
  }
  const counts = {};
  const tbody = h("tbody");
  for (const key of ["offered", "answered", "abandoned"]) {
    const today = h("td", { class: "num", testid: `${key}-${name}` });
    const interval = h("td", { class: "num", testid: `${key}-interval-${name}` });
    counts[key] = { today, interval };
    tbody.append(h("tr", {}, h("th", { scope: "row" }, t(`fig.${key}`)), today, interval));
  }
  const intervalHead = h("th", { scope: "col" }, t("queue.interval"));
  const table = h(
    "table",
    { class: "counts" },
    h("thead", {}, h("tr", {}, h("td"), h("th", { scope: "col" }, t("queue.today")), intervalHead)),
    tbody,
  );
  const cbVal = h("span", { class: "num", testid: `callbacks-${name}` });
  const ovVal = h("span", { class: "num", testid: `overflowed-${name}` });
  const foot = h(
    "div",
    { class: "tile-foot" },
    h("span", {}, h("span", { class: "lbl" }, t("queue.callbacks_waiting")), " ", cbVal),
    h("span", { title: t("fig.overflowed_title") }, h("span", { class: "lbl" }, t("fig.overflowed")), " ", ovVal),
  );
  const badge = h("span", { class: "ann-badge", testid: `announce-badge-${name}`, hidden: true, title: t("queue.announcement_on") }, t("ann.badge"));
  const el = h(
    "article",
    { class: "tile", testid: `queue-${name}`, "aria-label": title },
    h("header", {}, h("h3", { title }, title), badge),
    h("div", { class: "big-figs" }, waiting.el, longest.el),
    sl,
    smallRow,
    table,
    foot,
  );
  return { el, name, waiting, longest, slLabel, slVal, slTarget, slFill, slMark, slAst, small, counts, intervalHead, cbVal, ovVal, badge, sl, q: null };
}

function renderQueues(u) {
  const host = $("queues");
  const queues = u.snapshot.queues;
  const key = queues.map((q) => q.name).join("|");
  if (key !== V.queuesKey) {
    V.queuesKey = key;
    V.tiles.clear();
    host.replaceChildren();
    for (const q of queues) {
      const tile = makeTile(q.name, u);
      V.tiles.set(q.name, tile);
      host.append(tile.el);
    }
    host.style.setProperty("--tiles", String(queues.length));
  }
  const target = u.service_level_target;
  const slAlerts = new Set(u.alerts.filter((a) => a.kind === "service_level").map((a) => a.subject));
  const waitAlerts = new Set(u.alerts.filter((a) => a.kind === "longest_wait").map((a) => a.subject));
  const ann = u.snapshot.announcement || [];
  const annQueues = u.snapshot.announcement_queues || [];
  const snap = u.snapshot;
  for (const q of queues) {
    const tile = V.tiles.get(q.name);
    tile.q = q;
    const f = q.figures || {};
    const iv = q.interval || {};
    setText(tile.waiting.val, num(q.waiting));
    setClass(tile.waiting.el, "zero", q.waiting === 0);
    const sl = f.service_level;
    setText(tile.slVal, pct(sl));
    setText(tile.slLabel, t("queue.sl", { t: span(q.service_level_seconds) }));
    setText(tile.slTarget, t("queue.target", { target: pct(target) }));
    setAttr(tile.sl, "title", t("fig.service_level_title", { t: span(q.service_level_seconds) }));
    setStyle(tile.slFill, "width", `${((typeof sl === "number" ? sl : 0) * 100).toFixed(1)}%`);
    setStyle(tile.slMark, "left", `${(target * 100).toFixed(1)}%`);
    setClass(tile.sl, "under", typeof sl === "number" && sl < target);
    setClass(tile.sl, "none", typeof sl !== "number");
    setText(tile.slAst, pct(f.service_level_asterisk));
    setText(tile.small.answer_rate.val, pct(f.answer_rate));
    setText(tile.small.asa_seconds.val, dur(f.asa_seconds));
    setText(tile.small.aht_seconds.val, dur(f.aht_seconds));
    setText(tile.small.agents.val, `${num(q.agents_available)} / ${num(q.agents_staffed)}`);
    setClass(tile.small.agents.el, "none-free", q.agents_available === 0 && q.waiting > 0);
    for (const k of ["offered", "answered", "abandoned"]) {
      setText(tile.counts[k].today, num(f[k]));
      setText(tile.counts[k].interval, num(iv[k]));
    }
    setAttr(tile.intervalHead, "title", t("queue.interval"));
    setText(tile.intervalHead, t("queue.interval_from", { time: hhmm(snap.interval_start) }));
    setText(tile.cbVal, num(q.callbacks_waiting));
    setText(tile.ovVal, num(f.overflowed));
    const on = ann.length > 0 && (annQueues.length === 0 || annQueues.includes(q.name));
    setHidden(tile.badge, !on);
    setClass(tile.el, "alert", slAlerts.has(q.name) || waitAlerts.has(q.name));
    setClass(tile.longest.el, "alert", waitAlerts.has(q.name));
  }
  tickQueues();
}

function tickQueues() {
  const now = engineNow();
  if (now === null) return;
  for (const tile of V.tiles.values()) {
    const q = tile.q;
    if (!q) continue;
    const wait = q.oldest_since === null || q.oldest_since === undefined ? null : Math.max(0, now - q.oldest_since);
    const text = wait === null ? t("dur.none") : dur(wait);
    setText(tile.longest.val, text);
    setClass(tile.longest.el, "long", text.length > 5);
    setClass(tile.longest.el, "zero", wait === null);
  }
}

// ---- surge

function renderSurge(u) {
  const host = $("surge-panel");
  const snap = u.snapshot;
  if (!V.surge) {
    const stage = h("span", { class: "surge-stage num", testid: "surge-stage" });
    const mode = h("span", { class: "surge-mode", testid: "surge-mode" });
    const since = h("span", { class: "muted num", testid: "surge-since" });
    const rate = h("dd", { class: "num", testid: "surge-rate" });
    const distancing = h("dd", { class: "num", testid: "surge-distancing" });
    const remote = h("dd", { class: "num", testid: "surge-remote" });
    const ivr = h("dd", { class: "num", testid: "surge-ivr" });
    const controls = h("div", { class: "surge-controls controls", role: "group", "aria-label": t("surge.pin") });
    host.replaceChildren(
      h("h2", {}, t("surge.title")),
      h("div", { class: "surge-head" }, stage, mode, since),
      h(
        "dl",
        { class: "kv" },
        h("dt", { title: t("surge.rate_title") }, t("surge.rate")), rate,
        h("dt", {}, t("surge.distancing")), distancing,
        h("dt", {}, t("surge.remote")), remote,
        h("dt", {}, t("surge.in_ivr")), ivr,
      ),
      controls,
    );
    V.surge = { stage, mode, since, rate, distancing, remote, ivr, controls, buttonsKey: "" };
  }
  const s = V.surge;
  setText(s.stage, stageName(snap.stage));
  setAttr(s.stage, "data-stage", String(snap.stage));
  setText(s.mode, snap.stage_pinned ? t("surge.pinned") : S.update.surge_auto ? t("surge.auto") : t("surge.manual"));
  setClass(s.mode, "pinned", snap.stage_pinned);
  setText(s.since, t("surge.since", { time: dayTime(snap.stage_since, snap.at) }));
  setText(s.rate, t("surge.rate_value", { n: num(snap.inbound_calls_per_day) }));
  setText(s.distancing, snap.distancing_level);
  const remotePools = snap.pools.filter((p) => p.kind === "remote");
  setText(
    s.remote,
    remotePools.length
      ? remotePools
          .map((p) => {
            const inService = Object.entries(p.by_state).reduce((n, [st, c]) => n + (st === "logged_out" ? 0 : c), 0) - p.standby;
            return `${num(inService)} / ${p.size === null ? "∞" : num(p.size)}`;
          })
          .join(", ")
      : "—",
  );
  setText(s.ivr, num(snap.calls_in_ivr));
  // Pin buttons: stage 0 and every configured stage.
  const maxStage = Math.max(snap.stage, ...(S.update.stages || []).map((st) => st.stage), 0);
  const bkey = `${isSupervisor()}|${maxStage}|${lang()}`;
  if (bkey !== s.buttonsKey) {
    s.buttonsKey = bkey;
    s.controls.replaceChildren();
    s.pins = [];
    if (isSupervisor()) {
      s.controls.append(h("span", { class: "lbl" }, t("surge.pin")));
      for (let n = 0; n <= maxStage; n++) {
        const b = h("button", { type: "button", class: "btn small", testid: `pin-stage-${n}`, onclick: () => pinStage(n) }, n ? String(n) : t("surge.stage0"));
        b.title = t("surge.pin_n", { n: stageName(n) });
        s.pins.push(b);
        s.controls.append(b);
      }
      s.release = h("button", { type: "button", class: "btn small", testid: "release-stage", onclick: () => pinStage(null) }, t("surge.release"));
      s.controls.append(s.release);
    }
  }
  if (s.pins) {
    s.pins.forEach((b, n) => setAttr(b, "aria-pressed", String(snap.stage_pinned && snap.stage === n)));
    if (s.release) s.release.disabled = !snap.stage_pinned;
  }
}

// ---- announcement

function renderAnnouncement(u) {
  const host = $("announce-panel");
  const snap = u.snapshot;
  const ann = snap.announcement || [];
  const annQueues = snap.announcement_queues || [];
  const key = `${isSupervisor()}|${lang()}|${snap.queues.map((q) => q.name).join(",")}`;
  if (key !== V.annKey) {
    V.annKey = key;
    const status = h("p", { class: "ann-status", testid: "announce-status" });
    const media = h("p", { class: "ann-media mono", testid: "announce-current" });
    host.replaceChildren(h("h2", {}, t("ann.title")), status, media);
    V.ann = { status, media, rows: new Map() };
    if (isSupervisor()) {
      const input = h("input", {
        type: "text",
        class: "mono",
        testid: "announce-media",
        spellcheck: "false",
        value: ann.length ? ann.join(", ") : "sound:custom/surge-covid-info",
      });
      V.ann.input = input;
      const list = h("ul", { class: "ann-queues" });
      for (const q of snap.queues) {
        const state = h("span", { class: "ann-state" });
        const start = h("button", { type: "button", class: "btn small", testid: `announce-start-${q.name}`, onclick: () => announce(q.name, true) }, t("ann.start"));
        const stop = h("button", { type: "button", class: "btn small", testid: `announce-stop-${q.name}`, onclick: () => announce(q.name, false) }, t("ann.stop"));
        const name = u.names.queues[q.name] || q.name;
        list.append(h("li", {}, h("span", { class: "ann-q", title: name }, name), state, start, stop));
        V.ann.rows.set(q.name, { state, start, stop });
      }
      host.append(
        h("details", { class: "ann-controls controls" },
          h("summary", {}, `${t("ann.start")} / ${t("ann.stop")}`),
          h("label", { class: "field" }, h("span", { class: "lbl" }, t("ann.media")), input),
          list,
        ),
      );
    }
  }
  const a = V.ann;
  if (ann.length) {
    const scope = annQueues.length
      ? t("ann.for_some", { queues: annQueues.map((q) => u.names.queues[q] || q).join(", ") })
      : t("ann.for_all");
    setText(a.status, `${t("ann.playing")} · ${scope}`);
    setText(a.media, ann.join(", "));
  } else {
    setText(a.status, t("ann.none"));
    setText(a.media, "");
  }
  setClass(a.status, "on", ann.length > 0);
  setHidden(a.media, ann.length === 0);
  for (const [name, row] of a.rows) {
    const on = ann.length > 0 && (annQueues.length === 0 || annQueues.includes(name));
    setText(row.state, on ? t("ann.on") : t("ann.off"));
    setClass(row.state, "on", on);
    row.stop.disabled = !on;
  }
}

// ---- vendors

function renderVendors(u) {
  const host = $("vendors-panel");
  const vendors = u.snapshot.vendors;
  const key = vendors.map((v) => v.name).join("|");
  if (key !== V.vendorsKey) {
    V.vendorsKey = key;
    V.vendors.clear();
    host.replaceChildren(h("h2", {}, t("vendors.title")));
    for (const v of vendors) {
      const name = u.names.vendors[v.name] || v.name;
      const active = bar(`vendor-${v.name}-active`, t("vendor.active"));
      const hour = bar(`vendor-${v.name}-hour`, t("vendor.hour"));
      const day = bar(`vendor-${v.name}-day`, t("vendor.day"));
      const el = h("div", { class: "vendor", testid: `vendor-${v.name}` }, h("h3", { title: name }, name), active.el, hour.el, day.el);
      V.vendors.set(v.name, { el, active, hour, day });
      host.append(el);
    }
    if (!vendors.length) host.append(h("p", { class: "muted" }, "—"));
  }
  const near = new Map(u.alerts.filter((a) => a.kind === "vendor_cap").map((a) => [a.subject, a.detail]));
  for (const v of vendors) {
    const b = V.vendors.get(v.name);
    const cap = near.get(v.name);
    setBar(b.active, v.active, v.max_concurrent, cap === "concurrent");
    setBar(b.hour, v.this_hour, v.max_per_hour, cap === "hour");
    setBar(b.day, v.today, v.max_per_day, cap === "day");
    setClass(b.el, "alert", cap !== undefined);
  }
}

// ---- pools

const POOL_STATES = STATES.filter((s) => s !== "logged_out");
// The bar splits "paused" into paused by hand and standby (paused by the pool's size cap).
const POOL_SEGMENTS = [...POOL_STATES, "standby"];

function renderPools(u) {
  const host = $("pools-panel");
  const pools = u.snapshot.pools;
  const key = pools.map((p) => p.name).join("|");
  if (key !== V.poolsKey) {
    V.poolsKey = key;
    V.pools.clear();
    host.replaceChildren(h("h2", {}, t("pools.title")));
    for (const p of pools) {
      const name = u.names.pools[p.name] || p.name;
      const meta = h("div", { class: "pool-meta muted" });
      const stack = h("div", { class: "stack", "aria-hidden": "true" });
      const segs = {};
      const legend = h("ul", { class: "pool-states" });
      const counts = {};
      for (const s of POOL_SEGMENTS) {
        segs[s] = h("span", { class: `seg st-${s}` });
        stack.append(segs[s]);
        counts[s] = h("span", { class: "num", testid: `pool-${p.name}-${s}` });
        const label = s === "standby" ? t("reason.standby") : t(`state.${s}`);
        legend.append(h("li", { class: `st-${s}` }, h("span", { class: "sw", "aria-hidden": "true" }), h("span", { class: "lbl" }, label.charAt(0).toUpperCase() + label.slice(1)), " ", counts[s]));
      }
      const el = h(
        "div",
        { class: "pool", testid: `pool-${p.name}` },
        h("h3", {}, h("span", { class: "pool-name", title: name }, name), h("span", { class: `kind kind-${p.kind}` }, t(`pool.kind.${p.kind}`))),
        meta,
        stack,
        legend,
      );
      V.pools.set(p.name, { el, meta, segs, counts });
      host.append(el);
    }
  }
  for (const p of pools) {
    const v = V.pools.get(p.name);
    const loggedIn = POOL_STATES.reduce((n, s) => n + (p.by_state[s] || 0), 0);
    const parts = [
      t("pool.logged_in", { n: num(loggedIn) }),
      p.size === null || p.size === undefined ? t("pool.nocap") : t("pool.cap", { n: num(p.size) }),
    ];
    if (p.occupancy !== null && p.occupancy !== undefined) parts.push(t("pool.occupancy", { p: pct(p.occupancy) }));
    setText(v.meta, parts.join(" · "));
    const scale = Math.max(loggedIn, p.size || 0, 1);
    for (const s of POOL_SEGMENTS) {
      let n = s === "standby" ? p.standby : p.by_state[s] || 0;
      if (s === "paused") n = Math.max(0, n - p.standby);
      setStyle(v.segs[s], "width", `${((n / scale) * 100).toFixed(2)}%`);
      setText(v.counts[s], num(n));
      setClass(v.counts[s].parentElement, "zero", n === 0);
    }
  }
}

// ---------------------------------------------------------------- actions

async function act(url, body, label) {
  let res;
  try {
    res = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    });
  } catch (error) {
    toast(`${label}: ${t("toast.network", { error: error.message })}`, false);
    return false;
  }
  const data = await res.json().catch(() => ({}));
  if (res.status === 401) {
    toast(`${label}: ${t("toast.session")}`, false);
    showLogin(t("toast.session"));
    return false;
  }
  let message;
  if (res.status === 422 && data.field) message = t("toast.field", { error: data.error || data.message || "", field: data.field });
  else message = data.message || data.error || (res.status === 403 ? t("toast.forbidden") : "");
  const ok = res.ok && data.ok !== false;
  if (!message) message = ok ? t("toast.ok") : `${t("toast.failed")} (${t("toast.status", { status: res.status })})`;
  toast(`${label}: ${message}`, ok);
  return ok;
}

const enc = encodeURIComponent;

function agentLabel(a) {
  return `${a.name} (${a.id})`;
}

function pauseAgent(a, reason) {
  return act(`/api/agents/${enc(a.id)}/pause`, { reason }, `${t("act.pause")} ${agentLabel(a)} · ${reasonText(reason)}`);
}
function unpauseAgent(a) {
  return act(`/api/agents/${enc(a.id)}/unpause`, {}, `${t("act.unpause")} ${agentLabel(a)}`);
}
function logoffAgent(a) {
  return act(`/api/agents/${enc(a.id)}/logoff`, {}, `${t("act.logoff")} ${agentLabel(a)}`);
}
function movePool(a, pool) {
  const name = S.update ? S.update.names.pools[pool] || pool : pool;
  return act(`/api/agents/${enc(a.id)}/pool`, { pool }, `${t("act.move_to")} ${agentLabel(a)} → ${name}`);
}
function setSkill(a, skill, level) {
  const name = S.update ? S.update.names.skills[skill] || skill : skill;
  return act(`/api/agents/${enc(a.id)}/skills`, { skill, level }, `${agentLabel(a)} · ${name} ${level === null ? t("act.none_level") : level}`);
}
function pinStage(stage) {
  return act("/api/surge", { stage }, stage === null ? t("surge.release") : t("surge.pin_n", { n: stageName(stage) }));
}
function announce(queue, start) {
  const name = S.update ? S.update.names.queues[queue] || queue : queue;
  let media = [];
  if (start) {
    const raw = V.ann && V.ann.input ? V.ann.input.value : "";
    media = raw.split(",").map((s) => s.trim()).filter(Boolean);
  }
  return act(`/api/queues/${enc(queue)}/announcement`, { media }, `${t("ann.title")} · ${name} · ${start ? t("ann.start") : t("ann.stop")}`);
}

// ---- the pause-reason menu

const PAUSE_REASONS = ["break", "abusive_call", "training", "meeting"];
let menuAgent = null;

function openPauseMenu(agent, button) {
  const menu = $("pause-menu");
  menuAgent = agent;
  const other = h("input", { type: "text", testid: "pause-reason-text", placeholder: t("act.other_text"), "aria-label": t("act.other_text"), maxlength: "40" });
  const go = h("button", { type: "button", class: "btn small", testid: "pause-reason-other" }, t("act.other_go"));
  const submitOther = () => {
    const reason = other.value.trim();
    if (!reason) {
      other.focus();
      return;
    }
    closePauseMenu();
    pauseAgent(agent, reason);
  };
  go.addEventListener("click", submitOther);
  other.addEventListener("keydown", (e) => {
    if (e.key === "Enter") submitOther();
  });
  menu.replaceChildren(
    h("div", { class: "menu-title" }, `${t("act.pause_reason")} · ${agentLabel(agent)}`),
    ...PAUSE_REASONS.map((r) =>
      h("button", {
        type: "button",
        role: "menuitem",
        class: "menu-item",
        testid: `pause-reason-${r}`,
        onclick: () => {
          closePauseMenu();
          pauseAgent(agent, r);
        },
      }, reasonText(r)),
    ),
    h("div", { class: "menu-other" }, other, go),
  );
  menu.hidden = false;
  const r = button.getBoundingClientRect();
  const mw = menu.offsetWidth;
  const mh = menu.offsetHeight;
  let left = Math.min(window.innerWidth - mw - 8, r.left);
  let top = r.bottom + 4;
  if (top + mh > window.innerHeight - 8) top = Math.max(8, r.top - mh - 4);
  menu.style.left = `${Math.max(8, left) + window.scrollX}px`;
  menu.style.top = `${top + window.scrollY}px`;
  menu.querySelector(".menu-item").focus();
  menu._opener = button;
}

function closePauseMenu() {
  const menu = $("pause-menu");
  if (menu.hidden) return;
  menu.hidden = true;
  menuAgent = null;
  if (menu._opener && document.contains(menu._opener)) menu._opener.focus();
}

// ---- the agent dialog (pool, skills, state)

let dialogAgentId = null;
let dialogParts = null;

function openAgentDialog(agent) {
  dialogAgentId = agent.id;
  buildDialog();
  $("agent-dialog").showModal();
}

function buildDialog() {
  const dlg = $("agent-dialog");
  const u = S.update;
  const a = u && agentById(dialogAgentId);
  if (!a) return;
  const title = h("h2", { id: "dlg-title" });
  const stateLine = h("p", { class: "dlg-state", testid: "dlg-state" });
  const reason = h("select", { testid: "dlg-pause-reason", "aria-label": t("act.pause_reason") },
    ...PAUSE_REASONS.map((r) => h("option", { value: r }, reasonText(r))),
    h("option", { value: "__other" }, reasonText("other")),
  );
  const other = h("input", { type: "text", testid: "dlg-pause-other", placeholder: t("act.other_text"), "aria-label": t("act.other_text"), hidden: true, maxlength: "40" });
  reason.addEventListener("change", () => (other.hidden = reason.value !== "__other"));
  const pauseBtn = h("button", { type: "button", class: "btn", testid: "dlg-pause", onclick: () => {
    const r = reason.value === "__other" ? other.value.trim() : reason.value;
    if (!r) return other.focus();
    pauseAgent(currentDialogAgent(), r);
  } }, t("act.pause"));
  const unpauseBtn = h("button", { type: "button", class: "btn", testid: "dlg-unpause", onclick: () => unpauseAgent(currentDialogAgent()) }, t("act.unpause"));
  const logoffBtn = h("button", { type: "button", class: "btn subtle", testid: "dlg-logoff", onclick: (e) => {
    const b = e.currentTarget;
    if (!b.classList.contains("armed")) {
      b.classList.add("armed");
      b.textContent = t("act.logoff_confirm");
      setTimeout(() => { b.classList.remove("armed"); b.textContent = t("act.logoff"); }, 4000);
      return;
    }
    b.classList.remove("armed");
    b.textContent = t("act.logoff");
    logoffAgent(currentDialogAgent());
  } }, t("act.logoff"));
  const poolSel = h("select", { testid: "dlg-pool", "aria-label": t("act.move_to") },
    ...Object.entries(u.names.pools).map(([id, name]) => h("option", { value: id }, name)),
  );
  poolSel.value = a.pool;
  const moveBtn = h("button", { type: "button", class: "btn", testid: "dlg-pool-move", onclick: () => movePool(currentDialogAgent(), poolSel.value) }, t("act.move"));
  const skillRows = h("tbody");
  const skillSelects = new Map();
  for (const [id, name] of Object.entries(u.names.skills)) {
    const sel = h("select", { testid: `dlg-skill-${id}`, "aria-label": name },
      h("option", { value: "" }, t("act.none_level")),
      ...[1, 2, 3, 4, 5].map((n) => h("option", { value: String(n) }, String(n))),
    );
    sel.value = a.skills[id] ? String(a.skills[id]) : "";
    const set = h("button", { type: "button", class: "btn small", testid: `dlg-skill-set-${id}`, onclick: () => setSkill(currentDialogAgent(), id, sel.value ? Number(sel.value) : null) }, t("act.set"));
    skillSelects.set(id, sel);
    skillRows.append(h("tr", {}, h("th", { scope: "row" }, name), h("td", {}, sel), h("td", {}, set)));
  }
  // Listen, whisper or barge on the agent's call: the supervisor's own phone rings.
  // Their endpoint is remembered in this browser (it is not a secret).
  const phone = h("input", { type: "text", testid: "dlg-supervise-endpoint", placeholder: "PJSIP/supervisor1", "aria-label": t("act.supervise_phone"), maxlength: "80", value: localStorage.getItem("acd.supervisorPhone") || "" });
  const supervise = (mode) => () => {
    const endpoint = phone.value.trim();
    if (!endpoint) return phone.focus();
    localStorage.setItem("acd.supervisorPhone", endpoint);
    const agent = currentDialogAgent();
    if (!agent.call_id) return toast(`${t(`act.${mode}`)}: ${t("act.supervise_no_call")}`, false);
    act(`/api/calls/${encodeURIComponent(agent.call_id)}/${mode}`, { endpoint }, `${t(`act.${mode}`)} · ${agentLabel(agent)}`);
  };
  const superviseRow = h("div", { class: "row" }, phone,
    ...["listen", "whisper", "barge"].map((mode) => h("button", { type: "button", class: "btn", testid: `dlg-${mode}`, onclick: supervise(mode) }, t(`act.${mode}`))),
  );
  const superviseSection = h("section", {}, h("h3", {}, t("act.supervise")), superviseRow);
  dlg.replaceChildren(
    h("form", { method: "dialog", class: "dlg-body" },
      h("header", {}, title, h("button", { class: "btn subtle", testid: "dlg-close", value: "close", "aria-label": t("act.close") }, "×")),
      stateLine,
      superviseSection,
      h("section", {}, h("h3", {}, t("act.pause_reason")), h("div", { class: "row" }, reason, other, pauseBtn, unpauseBtn, logoffBtn)),
      h("section", {}, h("h3", {}, t("act.move_to")), h("div", { class: "row" }, poolSel, moveBtn)),
      h("section", {}, h("h3", {}, t("act.skills")), h("table", { class: "skills" }, skillRows)),
    ),
  );
  dialogParts = { title, stateLine, pauseBtn, unpauseBtn, logoffBtn, superviseSection };
  renderDialog();
}

function currentDialogAgent() {
  const u = S.update;
  return (u && agentById(dialogAgentId)) || { id: dialogAgentId, name: dialogAgentId, state: "", reason: "", since: 0 };
}

function renderDialog() {
  const dlg = $("agent-dialog");
  if (!dlg.open || !dialogParts) return;
  if (!isSupervisor()) {
    dlg.close();
    return;
  }
  const a = currentDialogAgent();
  setText(dialogParts.title, t("act.manage_title", { name: agentLabel(a) }));
  const p = dialogParts;
  p.pauseBtn.hidden = a.state === "paused" || a.state === "logged_out";
  p.unpauseBtn.hidden = a.state !== "paused";
  p.logoffBtn.hidden = a.state === "logged_out";
  p.superviseSection.hidden = a.state !== "on_call" || !a.call_id;
  tickDialog();
}

function tickDialog() {
  const dlg = $("agent-dialog");
  if (!dlg.open || !dialogParts) return;
  const a = currentDialogAgent();
  const now = engineNow();
  const state = t(`state.${a.state}`) + (a.reason ? ` (${reasonText(a.reason)})` : "");
  setText(dialogParts.stateLine, t("act.state_now", { state, time: now === null || !a.since ? "—" : dur(now - a.since) }));
}

// ---------------------------------------------------------------- tick, modes, start

function tick() {
  setText($("clock"), S.update ? clock(engineNow()) : "—");
  tickConn();
  tickQueues();
  tickAlerts();
  if (!S.wall && V.agents) V.agents.tick();
  tickDialog();
}

function setWall(on) {
  S.wall = on;
  document.body.classList.toggle("wall", on);
  const url = new URL(window.location.href);
  if (on) url.searchParams.set("wall", "1");
  else url.searchParams.delete("wall");
  history.replaceState(null, "", url);
  closePauseMenu();
  if ($("agent-dialog").open) $("agent-dialog").close();
  rebuild();
}

function switchLang() {
  const next = lang() === "ko" ? "en" : "ko";
  setLang(next);
  rememberLang(next);
  rebuild();
}

function start() {
  setLang(initialLang());
  const params = new URLSearchParams(window.location.search);
  S.wall = params.get("wall") === "1";
  document.body.classList.toggle("wall", S.wall);
  V.agents = new AgentTable($("agents-panel"), {
    onPause: openPauseMenu,
    onUnpause: unpauseAgent,
    onLogoff: logoffAgent,
    onManage: openAgentDialog,
    now: engineNow,
  });
  $("lang-btn").addEventListener("click", switchLang);
  $("login-lang").addEventListener("click", switchLang);
  $("wall-btn").addEventListener("click", () => setWall(true));
  $("wall-exit").addEventListener("click", () => setWall(false));
  $("logout-btn").addEventListener("click", logout);
  $("login-form").addEventListener("submit", login);
  document.addEventListener("keydown", (e) => {
    if (e.key !== "Escape") return;
    if (!$("pause-menu").hidden) closePauseMenu();
    else if (S.wall && !$("agent-dialog").open) setWall(false);
  });
  document.addEventListener("click", (e) => {
    const menu = $("pause-menu");
    if (!menu.hidden && !menu.contains(e.target) && e.target !== menu._opener) closePauseMenu();
  });
  $("agent-dialog").addEventListener("close", () => {
    dialogParts = null;
    const row = document.querySelector(`[data-testid="manage-${CSS.escape(dialogAgentId || "")}"]`);
    if (row) row.focus();
  });
  // The sticky alert banner's height, for scrolling and the agent table's height.
  new ResizeObserver(() => {
    const el = $("alerts");
    document.documentElement.style.setProperty("--alerts-h", `${el.hidden ? 0 : el.offsetHeight}px`);
  }).observe($("alerts"));
  rebuild();
  setInterval(tick, 1000);
  loginFromFragment().then((tried) => tried || checkSession());
}

start();
