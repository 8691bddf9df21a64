// The chronicle: every move of both seats, in order, kept across reloads.

import { h, fill, $ } from '../dom.js';
import { human } from '../state.js';

let shown = null;

export function render(s) {
  if (s.view !== 'game') return;
  const list = $('#log');
  const last = s.log[s.log.length - 1] ?? null;
  if (!list || (shown && shown.last === last && shown.length === s.log.length)) return;
  shown = { last, length: s.log.length };
  const me = human()?.id;
  fill(list, s.log.map((entry) => {
    const mine = entry.who && entry.who === me;
    const cls = ['entry', entry.kind, entry.who ? (mine ? 'by-you' : 'by-other') : ''].filter(Boolean).join(' ');
    return h('li', { class: cls },
      h('div', { class: 'entry-title' }, entry.title),
      entry.details?.length ? h('div', { class: 'entry-details' }, entry.details.join(' · ')) : null);
  }));
  list.scrollTop = list.scrollHeight;
}
