// DOM helpers: element creation without HTML parsing (server strings can
// never inject markup), and re-rendering that keeps the keyboard focus.

export const $ = (selector) => document.querySelector(selector);

/**
 * Creates an element. `attrs` keys starting with `on` attach listeners;
 * `dataset` sets data attributes; `disabled`, `checked`, `value`, `hidden`
 * and `selected` are properties; other keys are attributes (`true` means
 * present). Children may be strings, nodes, arrays or null.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (['disabled', 'checked', 'value', 'hidden', 'selected'].includes(key)) {
      el[key] = value;
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/**
 * Replaces the children of `el`. If the focus was inside it, the element
 * with the same `data-key` (or id) gets it back, so re-rendering never
 * throws a keyboard user back to the top of the page.
 */
export function fill(el, ...children) {
  if (!el) return;
  const active = document.activeElement;
  let key = active && el.contains(active) ? focusKey(active) : null;
  // The focus was lost here earlier (its control was disabled while a
  // request ran) and nothing else has it: take it back when possible.
  if (!key && lost?.container === el && (!active || active === document.body)) key = lost.key;
  el.replaceChildren();
  append(el, children);
  if (!key) return;
  const again = el.querySelector(`[data-key="${CSS.escape(key)}"]`) ?? el.querySelector(`#${CSS.escape(key)}`);
  if (again && !again.disabled) {
    again.focus({ preventScroll: true });
    lost = null;
  } else {
    lost = { container: el, key };
  }
}

/** Where the keyboard focus was when its control went away for a moment. */
let lost = null;

function focusKey(el) {
  return el.dataset?.key ?? (el.id || null);
}
