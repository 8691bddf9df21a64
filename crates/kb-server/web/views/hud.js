// The top bar: the game's name, where the game stands (turn, phase, whose
// move) and the buttons every screen needs: how to play, dark mode,
// settings, a new game.

import { h, fill, $ } from '../dom.js';
import { update, savePref, game, currentPhase, playerById, isHumanTurn } from '../state.js';
import { named, phaseInfo } from '../content.js';

export function render(s) {
  const g = s.view === 'game' ? game() : null;
  const dark = s.prefs.theme === 'dark';
  fill($('#topbar'),
    h('h1', { class: 'brand' }, h('span', { 'aria-hidden': 'true' }, '👑'), h('span', { class: 'brand-name' }, ' Kingdom Builder')),
    g ? status(s, g) : h('span', { class: 'spacer' }),
    h('nav', { class: 'tools', 'aria-label': 'Game menu' },
      h('button', { type: 'button', class: 'ghost icon', 'data-key': 'help', 'aria-label': 'How to play', title: 'How to play', onclick: () => update({ dialog: { kind: 'help' } }) }, '❔'),
      h('button', {
        type: 'button', class: 'ghost icon', id: 'theme-toggle', 'data-key': 'theme', 'aria-pressed': String(dark),
        'aria-label': 'Dark mode', title: dark ? 'Dark mode is on' : 'Dark mode is off',
        onclick: () => savePref('theme', dark ? 'light' : 'dark'),
      }, dark ? '🌙' : '☀️'),
      h('button', { type: 'button', class: 'ghost icon', 'data-key': 'settings', 'aria-label': 'Settings', title: 'Settings', onclick: () => update({ dialog: { kind: 'settings' } }) }, '⚙️'),
      s.view === 'game'
        ? h('button', { type: 'button', id: 'to-start', class: 'ghost', 'data-key': 'to-start', 'aria-label': 'New game', title: 'New game', onclick: () => update({ view: 'start', dialog: null, notice: null }) },
          h('span', { class: 'wide', 'aria-hidden': 'true' }, 'New game'), h('span', { class: 'narrow', 'aria-hidden': 'true' }, '➕'))
        : null));
}

/** What the top bar says about a live game's connection. */
const LIVE = { connecting: 'Connecting…', live: '● Live', reconnecting: '⟳ Reconnecting…', ended: 'Finished' };

function status(s, g) {
  const active = playerById(g.activePlayerId);
  let who;
  if (s.replay) who = h('span', { id: 'active-player', class: 'who ai' }, `Replay: move ${s.replay.index} of ${s.replay.events.length}`);
  else if (g.conclusion) who = h('span', { id: 'active-player', class: 'who over' }, 'Game over');
  else if (s.playback) who = h('span', { id: 'active-player', class: 'who ai' }, 'Replaying the AI\'s turn');
  else if (s.busy) who = h('span', { id: 'active-player', class: 'who ai' }, s.busyText || 'Working…');
  else if (isHumanTurn()) who = h('span', { id: 'active-player', class: 'who you' }, 'Your move');
  else who = h('span', { id: 'active-player', class: 'who ai' }, `${active?.name ?? g.activePlayerId}'s turn`);
  const phase = currentPhase();
  return h('div', { id: 'status', class: 'status', role: 'status', 'aria-live': 'polite' },
    h('span', { id: 'turn', class: 'turn-number' }, `Turn ${g.turn}`),
    phase ? h('span', { id: 'phase', class: 'phase' }, named(phaseInfo(phase.id))) : null,
    who,
    s.aiLevel && s.mode === 'ai' ? h('span', { id: 'ai-level-badge', class: 'badge', title: 'The opponent\'s level' }, `AI: ${s.aiLevel}`) : null,
    s.live && !s.replay ? h('span', { id: 'live-status', class: `badge live-${s.live.status}`, dataset: { status: s.live.status } }, LIVE[s.live.status]) : null,
    g.devMode ? h('span', { class: 'badge' }, 'Dev') : null,
  );
}
