// Small DOM helpers: build elements, and change them only when a value changed
// (an update a second with hundreds of agents must not rewrite the page).

/** h("div", {class: "x", dataset: {testid: "y"}, onclick: f}, child, "text", ...) */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") el.className = v;
      else if (k === "dataset") Object.assign(el.dataset, v);
      else if (k === "testid") el.dataset.testid = v;
      else if (k === "text") el.textContent = v;
      else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
      else if (k === "hidden") el.hidden = Boolean(v);
      else if (k === "disabled") el.disabled = Boolean(v);
      else if (k === "value") el.value = v;
      else if (k === "checked") el.checked = Boolean(v);
      else el.setAttribute(k, v === true ? "" : String(v));
    }
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Set an element's text if it differs from what we last set (no DOM read). */
export function setText(el, value) {
  const s = String(value);
  if (el._text !== s) {
    el._text = s;
    el.textContent = s;
  }
}

export function setAttr(el, name, value) {
  const key = `_a_${name}`;
  if (el[key] !== value) {
    el[key] = value;
    if (value === null || value === undefined || value === false) el.removeAttribute(name);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
}

export function setClass(el, name, on) {
  const key = `_c_${name}`;
  if (el[key] !== on) {
    el[key] = on;
    el.classList.toggle(name, on);
  }
}

export function setHidden(el, hidden) {
  if (el._hidden !== hidden) {
    el._hidden = hidden;
    el.hidden = hidden;
  }
}

export function setStyle(el, prop, value) {
  const key = `_s_${prop}`;
  if (el[key] !== value) {
    el[key] = value;
    el.style.setProperty(prop, value);
  }
}

/** A CSS-safe token for ids used in data-testid and class names. */
export function token(s) {
  return String(s).replace(/[^A-Za-z0-9_-]/g, "_");
}
