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
  const key = active && el.contains(active) ? focusKey(active) : null;
  el.replaceChildren();
  append(el, children);
  if (key) {
    const again = el.querySelector(`[data-key="${CSS.escape(key)}"]`) ?? (active.id ? el.querySelector(`#${CSS.escape(active.id)}`) : null);
    if (again && !again.disabled) again.focus({ preventScroll: true });
    else el.querySelector('[data-key]:not(:disabled), button:not(:disabled)')?.focus({ preventScroll: true });
  }
}

function focusKey(el) {
  return el.dataset?.key ?? (el.id || null);
}
