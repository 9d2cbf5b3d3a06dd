// A few lines instead of a framework: build elements from data, never from HTML strings.

const PROPERTIES = new Set(['value', 'checked', 'disabled', 'selected', 'open', 'hidden',
  'textContent', 'htmlFor']);

/** h('button', {class: 'big', onclick: fn}, 'text', child, [more]) */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value == null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'class') {
      el.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
    } else if (PROPERTIES.has(key)) {
      el[key] = value;
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

export const $ = (selector, root = document) => root.querySelector(selector);

let uid = 0;
/** A unique id for pairing a label with its control. */
export const newId = (prefix = 'f') => `${prefix}-${++uid}`;

/** A labelled form field: label above, control below, optional hint. */
export function field(label, control, hint) {
  const id = control.id || newId();
  control.id = id;
  return h('div', { class: 'field' },
    h('label', { for: id }, label), control,
    hint ? h('p', { class: 'hint' }, hint) : null);
}
