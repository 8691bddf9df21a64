// The two kingdoms: resources (with the mood tier and, for the player, the
// value at their next turn), stats, people, lands, buildings and effects;
// and, on a phone, a one-line glance at both above the actions. While the
// AI's turn is played back, they show the frame's state, with what just
// changed marked.

import { h, fill, $ } from '../dom.js';
import { state, update, game, players, human, forecast } from '../state.js';
import {
  assetInfo, buildingInfo, deltaBetween, developmentInfo, fmtNumber, fmtStat, isHoldingPassive, named,
  resourceInfo, roleInfo, signed, statInfo, tierFor,
} from '../content.js';

/** The seats to draw: the playback frame's, or the game's. */
function seats(s) {
  const frame = s.playback?.frames?.[s.playback.index];
  return frame?.players ?? players();
}

/** What changed for each seat in this frame (`{A: delta, B: delta}`). */
function changes(s) {
  const playback = s.playback;
  if (!playback) return {};
  const frame = playback.frames[playback.index];
  const previous = playback.index > 0 ? playback.frames[playback.index - 1].players : null;
  const out = {};
  for (const seat of frame.players ?? []) {
    const before = (previous ?? []).find((p) => p.id === seat.id);
    if (before) out[seat.id] = deltaBetween(before, seat);
  }
  return out;
}

export function render(s) {
  if (s.view !== 'game' || !s.snapshot) return;
  const me = human();
  const list = seats(s);
  const ordered = [list.find((p) => p.id === me?.id), ...list.filter((p) => p.id !== me?.id)].filter(Boolean);
  const changed = changes(s);
  fill($('#board'), ordered.map((p) => kingdom(p, changed[p.id])));
  fill($('#glance'), ordered.map((p) => glance(p, changed[p.id])));
}

function glance(player, delta) {
  const me = player.id === human()?.id;
  return h('a', { class: `glance-row${me ? ' you' : ' ai'}`, href: `#player-${player.id}` },
    h('strong', { class: 'glance-name' }, me ? 'You' : player.name),
    Object.entries(player.resources).map(([key, value]) => {
      const info = resourceInfo(key);
      const moved = delta?.resources?.[key];
      return h('span', { class: `glance-value${moved ? ' changed' : ''}`, title: info.label },
        h('span', { 'aria-hidden': 'true' }, info.icon), h('span', { class: 'sr-only' }, `${info.label} `), fmtNumber(value));
    }));
}

function kingdom(player, delta) {
  const g = game();
  const me = player.id === human()?.id;
  const isActive = g.activePlayerId === player.id && !g.conclusion;
  const f = forecast();
  const next = me && f?.endTurn?.playerId === player.id ? f.endTurn.resources : null;
  const tieredKey = state.snapshot.rules?.tieredResourceKey;
  const resources = Object.entries(player.resources).map(([key, value]) => {
    const info = resourceInfo(key);
    const tier = key === tieredKey ? tierFor(value) : null;
    const moved = delta?.resources?.[key];
    const later = next && typeof next[key] === 'number' && next[key] !== value ? next[key] : null;
    return h('li', { class: `resource${moved ? ' changed' : ''}`, dataset: { resource: key } },
      h('span', { class: 'icon', 'aria-hidden': 'true' }, info.icon),
      h('span', { class: 'label' }, info.label),
      h('strong', { class: 'value' }, fmtNumber(value)),
      moved ? h('span', { class: `delta ${moved > 0 ? 'up' : 'down'}` }, signed(moved)) : null,
      tier ? h('span', { class: 'tier', title: tier.summary, dataset: { tier: tier.id } }, `${tier.icon} ${tier.label}`) : null,
      later !== null ? h('span', { class: 'next', title: 'At your next turn, if the opponent leaves you alone' }, `next turn ${fmtNumber(later)}`) : null);
  });
  const stats = Object.entries(player.stats)
    .filter(([key, value]) => value || player.statsHistory?.[key])
    .map(([key, value]) => {
      const info = statInfo(key);
      const moved = delta?.stats?.[key];
      return h('li', { class: `chip stat${moved ? ' changed' : ''}`, title: info.description, dataset: { stat: key } },
        `${info.icon} ${info.label} `, h('strong', {}, fmtStat(key, value)));
    });
  const total = Object.values(player.population).reduce((a, b) => a + b, 0);
  const people = Object.entries(player.population).filter(([, count]) => count).map(([role, count]) => {
    const info = roleInfo(role);
    const moved = delta?.population?.[role];
    return h('li', { class: `chip role${moved ? ' changed' : ''}`, title: info.description, dataset: { role } },
      `${info.icon} ${info.label} `, h('strong', {}, String(count)));
  });
  const land = assetInfo('land');
  const lands = player.lands.map((l, index) => {
    const slots = [];
    for (let i = 0; i < Math.max(l.slotsMax, l.developments.length); i += 1) {
      const dev = l.developments[i];
      const info = dev ? developmentInfo(dev) : null;
      slots.push(h('li', { class: dev ? 'slot filled' : 'slot', title: info ? `${info.label}: ${info.description}` : 'Free slot' },
        info ? `${info.icon} ${info.label}` : 'free'));
    }
    return h('li', { class: l.tilled ? 'land tilled' : 'land', dataset: { land: l.id } },
      h('span', { class: 'land-name' }, `${land.icon} ${index + 1}`),
      h('ul', { class: 'slots', 'aria-label': `${land.label} ${index + 1}` }, slots));
  });
  const buildings = player.buildings.map((id) => {
    const info = buildingInfo(id);
    return h('li', { class: 'chip', title: info.description, dataset: { building: id } }, named(info));
  });
  const passives = (player.passives ?? []).filter((p) => !isHoldingPassive(p)).map((p) => {
    const title = [p.detail && p.detail.includes(' ') ? p.detail : '', p.meta?.removal?.text].filter(Boolean).join(' — ');
    return h('li', { class: 'chip passive', title }, [p.icon, p.name ?? p.id].filter(Boolean).join(' '));
  });
  const row = (label, content) => h('div', { class: 'row' }, h('h3', {}, label), content);
  return h('article', {
    class: `card player${isActive ? ' active' : ''}${me ? ' you' : ' ai'}`, id: `player-${player.id}`,
    dataset: { player: player.id }, 'aria-labelledby': `player-${player.id}-name`,
  },
  h('header', { class: 'player-head' },
    h('h2', { id: `player-${player.id}-name` }, h('span', { 'aria-hidden': 'true' }, player.aiControlled ? '🤖 ' : '🧑 '), player.name, me ? ' (you)' : ''),
    me ? h('button', { type: 'button', id: 'rename', class: 'ghost small', 'data-key': 'rename', 'aria-label': 'Rename your kingdom\'s ruler', onclick: () => update({ dialog: { kind: 'rename' } }) }, '✏️ Rename') : null,
    isActive ? h('span', { class: 'badge active-badge' }, 'Playing') : null),
  h('ul', { class: 'resources', 'aria-label': 'Resources' }, resources),
  row(`${named(assetInfo('population'))} ${total}/${fmtNumber(player.stats.maxPopulation ?? total)}`, people.length ? h('ul', { class: 'chips' }, people) : h('span', { class: 'muted' }, 'nobody')),
  stats.length ? row('Stats', h('ul', { class: 'chips' }, stats)) : null,
  row(land.label ? `${land.label}s` : 'Lands', h('ul', { class: 'lands' }, lands)),
  buildings.length ? row('Buildings', h('ul', { class: 'chips' }, buildings)) : null,
  passives.length ? row('Effects', h('ul', { class: 'chips' }, passives)) : null);
}
