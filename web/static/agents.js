// The agent table: one row per agent, keyed by id, built once and then changed
// cell by cell; reordered only when the order changed. Filter chips (with the
// counts by state), a pool filter, a search box and sortable columns.
import { h, setAttr, setClass, setHidden, setText } from "./dom.js";
import { dur, num } from "./format.js";
import { t } from "./i18n.js";

export const STATES = ["available", "reserved", "on_call", "wrap_up", "paused", "logged_out"];
const STATE_ORDER = Object.fromEntries(STATES.map((s, i) => [s, i]));

const COLUMNS = [
  { key: "id", label: "col.id", cls: "c-id" },
  { key: "name", label: "col.name", cls: "c-name" },
  { key: "pool", label: "col.pool", cls: "c-pool" },
  { key: "state", label: "col.state", cls: "c-state" },
  { key: "reason", label: "col.reason", cls: "c-reason" },
  { key: "time", label: "col.time", cls: "c-time num" },
  { key: "missed", label: "col.missed", cls: "c-missed num" },
  { key: "skills", label: "col.skills", cls: "c-skills", nosort: true },
];

export function reasonText(reason) {
  if (!reason) return "";
  const key = `reason.${reason}`;
  const s = t(key);
  const text = s === key ? reason : s;
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export class AgentTable {
  /**
   * host: the panel element; hooks: {onPause(agent, button), onUnpause(agent),
   * onLogoff(agent), onManage(agent), now(): engine-clock seconds}
   */
  constructor(host, hooks) {
    this.host = host;
    this.hooks = hooks;
    this.rows = new Map();
    this.order = [];
    this.filter = { state: "", pool: "", q: "" };
    this.sort = { key: "state", dir: 1 };
    this.supervisor = false;
    this.agents = [];
    this.names = null;
    this.stuck = new Set();
    this.build();
  }

  build() {
    this.host.replaceChildren();
    this.rows.clear();
    this.order = [];
    this.chips = new Map();
    const chipBar = h("div", { class: "chips", role: "group", "aria-label": t("col.state") });
    for (const s of ["", ...STATES]) {
      const count = h("span", { class: "chip-count num" }, "0");
      const b = h(
        "button",
        {
          type: "button",
          class: `chip-filter ${s ? `st-${s}` : "st-all"}`,
          testid: `filter-${s || "all"}`,
          "aria-pressed": String(this.filter.state === s),
          onclick: () => {
            this.filter.state = this.filter.state === s ? "" : s;
            this.refresh();
          },
        },
        h("span", { class: "chip-dot", "aria-hidden": "true" }),
        h("span", { class: "chip-label" }, s ? t(`state.${s}`) : t("agents.all_states")),
        count,
      );
      b._count = count;
      this.chips.set(s, b);
      chipBar.append(b);
    }
    this.poolSelect = h("select", {
      testid: "agents-pool",
      "aria-label": t("col.pool"),
      onchange: () => {
        this.filter.pool = this.poolSelect.value;
        this.refresh();
      },
    });
    this.search = h("input", {
      type: "search",
      testid: "agents-search",
      placeholder: t("agents.search"),
      "aria-label": t("agents.search"),
      value: this.filter.q,
      oninput: () => {
        this.filter.q = this.search.value.trim().toLowerCase();
        this.refresh();
      },
    });
    this.shown = h("span", { class: "muted shown", testid: "agents-shown" });
    const head = h(
      "div",
      { class: "agents-head" },
      h("h2", { id: "agents-title" }, t("agents.title")),
      chipBar,
      h("div", { class: "agents-tools" }, this.poolSelect, this.search, this.shown),
    );
    const tr = h("tr", { role: "row" });
    this.sortButtons = new Map();
    for (const c of COLUMNS) {
      if (c.nosort) {
        tr.append(h("th", { class: c.cls, scope: "col", role: "columnheader" }, t(c.label)));
        continue;
      }
      const b = h(
        "button",
        {
          type: "button",
          class: "sort",
          testid: `sort-${c.key}`,
          onclick: () => {
            if (this.sort.key === c.key) this.sort.dir = -this.sort.dir;
            else this.sort = { key: c.key, dir: c.key === "time" || c.key === "missed" ? -1 : 1 };
            this.refresh();
          },
        },
        t(c.label),
        h("span", { class: "arrow", "aria-hidden": "true" }),
      );
      this.sortButtons.set(c.key, b);
      tr.append(h("th", { class: c.cls, scope: "col", role: "columnheader" }, b));
    }
    this.actionsTh = h("th", { class: "c-actions", scope: "col", role: "columnheader" }, t("col.actions"));
    tr.append(this.actionsTh);
    this.tbody = h("tbody", { testid: "agent-rows", role: "rowgroup" });
    this.empty = h("p", { class: "muted empty-note", hidden: true }, t("agents.none"));
    this.table = h(
      "table",
      { class: "agents", role: "table", "aria-labelledby": "agents-title" },
      h("thead", { role: "rowgroup" }, tr),
      this.tbody,
    );
    this.host.append(head, h("div", { class: "table-wrap" }, this.table), this.empty);
    this.poolsKey = "";
    this.setSupervisor(this.supervisor, true);
  }

  setSupervisor(on, force = false) {
    if (on === this.supervisor && !force) return;
    this.supervisor = on;
    this.table.classList.toggle("with-actions", on);
    setHidden(this.actionsTh, !on);
    // Action buttons exist only for supervisors: rebuild the rows.
    for (const row of this.rows.values()) row.tr.remove();
    this.rows.clear();
    this.order = [];
    if (this.agents.length) this.update(this.agents, this.names, this.stuck);
  }

  /** A new snapshot's agents. */
  update(agents, names, stuck) {
    this.agents = agents;
    this.names = names;
    this.stuck = stuck;
    const poolsKey = Object.keys(names.pools).join("|");
    if (poolsKey !== this.poolsKey) {
      this.poolsKey = poolsKey;
      const keep = this.filter.pool;
      this.poolSelect.replaceChildren(
        h("option", { value: "" }, t("agents.pool_all")),
        ...Object.entries(names.pools).map(([id, name]) => h("option", { value: id }, name)),
      );
      this.poolSelect.value = names.pools[keep] ? keep : "";
      this.filter.pool = this.poolSelect.value;
    }
    const seen = new Set();
    for (const a of agents) {
      seen.add(a.id);
      let row = this.rows.get(a.id);
      if (!row) {
        row = this.makeRow(a);
        this.rows.set(a.id, row);
      }
      this.fill(row, a, names);
    }
    for (const [id, row] of this.rows) {
      if (!seen.has(id)) {
        row.tr.remove();
        this.rows.delete(id);
      }
    }
    this.refresh();
  }

  /** Filter, count, sort and place the rows (after an update or a filter change). */
  refresh() {
    const counts = Object.fromEntries(STATES.map((s) => [s, 0]));
    let loggedIn = 0;
    const { state, pool, q } = this.filter;
    const visible = [];
    for (const a of this.agents) {
      if (!pool || a.pool === pool) {
        counts[a.state] = (counts[a.state] || 0) + 1;
        if (a.state !== "logged_out") loggedIn += 1;
      }
      if (pool && a.pool !== pool) continue;
      if (state ? a.state !== state : a.state === "logged_out") continue;
      if (q && !a.id.toLowerCase().includes(q) && !a.name.toLowerCase().includes(q)) continue;
      visible.push(a);
    }
    for (const [s, chip] of this.chips) {
      setText(chip._count, num(s ? counts[s] : loggedIn));
      setAttr(chip, "aria-pressed", String(state === s));
    }
    for (const [key, b] of this.sortButtons) {
      const on = this.sort.key === key;
      setAttr(b.parentElement, "aria-sort", on ? (this.sort.dir > 0 ? "ascending" : "descending") : null);
      setText(b.lastChild, on ? (this.sort.dir > 0 ? "▲" : "▼") : "");
    }
    visible.sort(this.comparator());
    setText(this.shown, t("agents.shown", { n: num(visible.length) }));
    setHidden(this.empty, visible.length > 0);
    // Place rows only where the order changed.
    const ids = visible.map((a) => a.id);
    const same = ids.length === this.order.length && ids.every((id, i) => id === this.order[i]);
    if (!same) {
      const wanted = new Set(ids);
      for (const id of this.order) {
        if (!wanted.has(id)) this.rows.get(id)?.tr.remove();
      }
      let cursor = this.tbody.firstChild;
      for (const id of ids) {
        const tr = this.rows.get(id).tr;
        if (tr === cursor) cursor = cursor.nextSibling;
        else this.tbody.insertBefore(tr, cursor);
      }
      this.order = ids;
    }
    this.tick();
  }

  comparator() {
    const { key, dir } = this.sort;
    const pools = this.names ? this.names.pools : {};
    const byId = (a, b) => a.id.localeCompare(b.id, undefined, { numeric: true });
    const keyed = {
      id: (a, b) => byId(a, b),
      name: (a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }),
      pool: (a, b) => (pools[a.pool] || a.pool).localeCompare(pools[b.pool] || b.pool),
      state: (a, b) => STATE_ORDER[a.state] - STATE_ORDER[b.state] || a.since - b.since,
      reason: (a, b) => a.reason.localeCompare(b.reason),
      time: (a, b) => b.since - a.since, // ascending time in state = latest since first
      missed: (a, b) => a.missed - b.missed,
    }[key];
    return (a, b) => dir * keyed(a, b) || byId(a, b);
  }

  makeRow(a) {
    const cells = {
      id: h("td", { class: "c-id" }),
      name: h("td", { class: "c-name" }),
      pool: h("td", { class: "c-pool" }),
      state: h("td", { class: "c-state" }),
      reason: h("td", { class: "c-reason" }),
      time: h("td", { class: "c-time num", testid: `time-${a.id}` }),
      missed: h("td", { class: "c-missed num" }),
      skills: h("td", { class: "c-skills" }),
    };
    const chip = h("span", { class: "state-chip", testid: `state-${a.id}` });
    cells.state.append(chip);
    for (const td of Object.values(cells)) td.setAttribute("role", "cell");
    const tr = h("tr", { dataset: { id: a.id }, testid: `agent-${a.id}`, role: "row" }, ...Object.values(cells));
    const row = { tr, cells, chip, agent: a, key: {} };
    if (this.supervisor) {
      const pause = h("button", {
        type: "button",
        class: "btn small",
        testid: `pause-${a.id}`,
        "aria-haspopup": "menu",
        onclick: (e) => this.hooks.onPause(row.agent, e.currentTarget),
      }, t("act.pause"));
      const unpause = h("button", {
        type: "button",
        class: "btn small",
        testid: `unpause-${a.id}`,
        onclick: () => this.hooks.onUnpause(row.agent),
      }, t("act.unpause"));
      const logoff = h("button", {
        type: "button",
        class: "btn small subtle",
        testid: `logoff-${a.id}`,
        onclick: (e) => this.armLogoff(row, e.currentTarget),
      }, t("act.logoff"));
      const manage = h("button", {
        type: "button",
        class: "btn small subtle more",
        testid: `manage-${a.id}`,
        "aria-haspopup": "dialog",
        title: t("act.manage"),
        "aria-label": t("act.manage"),
        onclick: () => this.hooks.onManage(row.agent),
      }, "⋯");
      row.buttons = { pause, unpause, logoff, manage };
      tr.append(h("td", { class: "c-actions", role: "cell" }, pause, unpause, logoff, manage));
    }
    return row;
  }

  /** Log off asks once more on the button itself (no blocking confirm()). */
  armLogoff(row, button) {
    if (button.classList.contains("armed")) {
      clearTimeout(button._timer);
      button.classList.remove("armed");
      button.textContent = t("act.logoff");
      this.hooks.onLogoff(row.agent);
      return;
    }
    button.classList.add("armed");
    button.textContent = t("act.logoff_confirm");
    button._timer = setTimeout(() => {
      button.classList.remove("armed");
      button.textContent = t("act.logoff");
    }, 4000);
  }

  fill(row, a, names) {
    row.agent = a;
    const c = row.cells;
    setText(c.id, a.id);
    setText(c.name, a.name);
    setAttr(c.name, "title", a.name);
    const poolName = names.pools[a.pool] || a.pool;
    setText(c.pool, poolName);
    setAttr(c.pool, "title", poolName);
    if (row.key.state !== a.state) {
      row.key.state = a.state;
      row.chip.className = `state-chip st-${a.state}`;
      setText(row.chip, t(`state.${a.state}`));
      row.chip.dataset.state = a.state;
    }
    // A pause or log-off asked for during a call waits for its end: say so.
    const pending = a.pending ? t(`agent.pending.${a.pending}`) : "";
    setText(c.reason, [reasonText(a.reason), pending].filter(Boolean).join(" · "));
    setText(c.missed, a.missed ? num(a.missed) : "0");
    setClass(c.missed, "warn", a.missed > 0);
    const skillsKey = JSON.stringify(a.skills);
    if (row.key.skills !== skillsKey) {
      row.key.skills = skillsKey;
      const entries = Object.entries(a.skills).sort((x, y) => y[1] - x[1]);
      const text = entries.map(([s, lvl]) => `${names.skills[s] || s} ${lvl}`).join(" · ");
      setText(c.skills, text);
      setAttr(c.skills, "title", text);
    }
    setClass(row.tr, "stuck", this.stuck.has(a.id));
    if (row.buttons) {
      const b = row.buttons;
      const out = a.state === "logged_out";
      const paused = a.state === "paused";
      setHidden(b.pause, out || paused);
      setHidden(b.unpause, !paused);
      setHidden(b.logoff, out);
    }
  }

  /** Once a second: times in state tick on. */
  tick() {
    const now = this.hooks.now();
    if (now === null) return;
    for (const id of this.order) {
      const row = this.rows.get(id);
      setText(row.cells.time, dur(now - row.agent.since));
    }
  }
}
