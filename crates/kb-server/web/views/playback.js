// The AI's turn, shown: one frame per step (its growth and upkeep, each
// action with what it changed for both kingdoms, then the player's own
// income and upkeep), while the board shows that frame's state. Frames
// advance by themselves (Settings: step by step, fast, or not at all);
// "Next" and "Skip" (or Escape) move on at once.

import { h, fill, $ } from '../dom.js';
import { nextFrame, skipPlayback } from '../play.js';

export function render(s) {
  const el = $('#playback');
  const playback = s.view === 'game' ? s.playback : null;
  el.hidden = !playback;
  if (!playback) {
    fill(el);
    delete el.dataset.frame;
    delete el.dataset.action;
    return;
  }
  const frame = playback.frames[playback.index];
  el.dataset.frame = String(playback.index);
  if (frame.action) el.dataset.action = frame.action;
  else delete el.dataset.action;
  fill(el,
    h('div', { class: 'playback-head' },
      h('h2', { id: 'playback-title' }, frame.title),
      h('span', { class: 'muted' }, `${playback.index + 1} / ${playback.frames.length}`)),
    frame.subtitle ? h('p', { class: 'playback-subtitle' }, frame.subtitle) : null,
    h('ul', { class: 'playback-lines' }, frame.lines.map((line) => h('li', {}, line))),
    h('div', { class: 'buttons' },
      h('button', { type: 'button', id: 'next-frame', 'data-key': 'next-frame', onclick: nextFrame }, 'Next ▶'),
      h('button', { type: 'button', id: 'skip-playback', 'data-key': 'skip-playback', class: 'primary', onclick: skipPlayback }, 'Skip ⏭')));
}
