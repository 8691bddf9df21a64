// The replay's controls: which move is shown, the first, previous, next
// and last move, a slider over every move, and the way back to the game.
// The board shows the game at that move and the chronicle what each move
// did, the shown one marked.

import { h, fill, $ } from '../dom.js';
import { step, closeReplay } from '../replay.js';

export function render(s) {
  const el = $('#replay');
  const replay = s.view === 'game' ? s.replay : null;
  el.hidden = !replay;
  if (!replay) {
    delete el.dataset.version;
    return;
  }
  const last = replay.events.length;
  const at = replay.index;
  el.dataset.version = String(at);
  el.dataset.last = String(last);
  const button = (id, label, text, to, disabled) => h('button', {
    type: 'button', id, 'data-key': id, 'aria-label': label, title: label, disabled: disabled || s.busy, onclick: () => step(to),
  }, text);
  fill(el,
    h('div', { class: 'playback-head' },
      h('h2', { id: 'replay-title' }, '⏮ Replay'),
      h('span', { id: 'replay-position', class: 'muted' }, `Move ${at} of ${last}`)),
    h('label', { class: 'field' }, h('span', { class: 'sr-only' }, 'Move shown'),
      h('input', { id: 'replay-slider', 'data-key': 'replay-slider', type: 'range', min: '1', max: String(last), value: String(at), onchange: (e) => step(Number(e.target.value)) })),
    h('div', { class: 'buttons' },
      button('replay-first', 'First move', '⏮', 1, at <= 1),
      button('replay-prev', 'Previous move', '◀', at - 1, at <= 1),
      button('replay-next', 'Next move', '▶', at + 1, at >= last),
      button('replay-last', 'Last move', '⏭', last, at >= last),
      h('button', { type: 'button', id: 'close-replay', 'data-key': 'close-replay', class: 'primary', onclick: () => closeReplay() }, 'Back to the game')));
}
