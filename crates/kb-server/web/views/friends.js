// A live game's panel: whether the other players are connected, the
// invitation link for the friend (copyable) and a spectator link. Shown when playing a friend or watching; the connection itself
// is shown in the top bar.

import { h, fill, $ } from '../dom.js';
import { state, playerById } from '../state.js';
import { invite, showError } from '../play.js';

export function render(s) {
  const el = $('#live-panel');
  const live = s.view === 'game' && !s.replay && (s.mode === 'friend' || s.mode === 'watch');
  el.hidden = !live;
  if (!live) return;
  const others = (s.seats?.seats ?? []).filter((seat) => seat.seat !== s.seat && seat.holder !== 'ai');
  const open = others.find((seat) => seat.holder === 'open');
  fill(el,
    h('h2', { id: 'live-title' }, s.mode === 'watch' ? '👀 Watching' : '🤝 Playing a friend'),
    h('ul', { class: 'presence' }, others.map(presence)),
    s.owner && open ? link('B', 'Invitation link for your friend', 'Send this link to the friend you play; it works once.') : null,
    s.owner ? link('spectator', 'Spectator link', 'Anyone with this link can watch, not play.') : null);
}

function presence(seat) {
  const player = playerById(seat.seat);
  const name = player?.name ?? `Seat ${seat.seat}`;
  const text = seat.holder === 'open'
    ? `${name}: waiting for your friend to join`
    : `${name}: ${seat.connected ? 'connected' : 'not connected'}`;
  return h('li', { id: `presence-${seat.seat}`, class: `presence-${seat.connected ? 'on' : 'off'}`, dataset: { connected: String(seat.connected), holder: seat.holder } },
    h('span', { 'aria-hidden': 'true' }, seat.connected ? '🟢 ' : '⚪ '), text);
}

/** A link made on demand, shown in a read-only field with a Copy button. */
function link(seat, label, hint) {
  const url = state.invites[seat];
  const id = `invite-${seat}`;
  if (!url) {
    return h('button', { type: 'button', id: `make-${id}`, 'data-key': `make-${id}`, onclick: () => invite(seat).catch(showError) }, label);
  }
  return h('div', { class: 'invite' },
    h('label', { class: 'field', for: id }, h('span', {}, label)),
    h('div', { class: 'invite-row' },
      h('input', { id, readonly: true, value: url, spellcheck: 'false', onfocus: (e) => e.target.select() }),
      h('button', { type: 'button', 'data-key': `copy-${id}`, onclick: (e) => copy(url, e.target) }, 'Copy')),
    h('p', { class: 'muted' }, hint));
}

async function copy(url, button) {
  try {
    await navigator.clipboard.writeText(url);
    button.textContent = 'Copied';
  } catch {
    // No clipboard (an insecure origin): the field is selected for Ctrl+C.
    button.previousSibling?.select();
    button.textContent = 'Press Ctrl+C';
  }
}
