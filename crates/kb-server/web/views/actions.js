// The player's move: every action with its price, what it changes now and
// where it leaves the player at their next turn (all from the server's
// forecast), a warning on any that bankrupts at the next upkeep; and the
// End turn bar with the next turn's income and upkeep.

import { h, fill, $ } from '../dom.js';
import { state, update, isHumanTurn, human, forecast, apKey, playerById, game } from '../state.js';
import {
  actionInfo, assetInfo, buildingInfo, describeCosts, describeDelta, describeRequirement, developmentInfo,
  fmtNumber, named, phaseInfo, registry, resourceInfo, resourceParts, roleInfo, sourceName,
} from '../content.js';
import { perform, endTurn } from '../play.js';

export function render(s) {
  if (s.view !== 'game' || !s.snapshot) return;
  const el = $('#actions');
  const bar = $('#endbar');
  el.hidden = Boolean(s.playback) || Boolean(s.replay);
  if (s.replay) return;
  const g = game();
  if (g.conclusion) {
    fill(el, h('h2', { id: 'actions-title' }, 'Actions'), h('p', { class: 'muted' }, 'The game is over. ',
      h('button', { type: 'button', class: 'link', 'data-key': 'show-result', onclick: () => update({ dialog: { kind: 'gameover' } }) }, 'Show the result')));
    fill(bar);
    return;
  }
  const f = forecast();
  if (!isHumanTurn() || !f) {
    const active = playerById(g.activePlayerId);
    fill(el, h('h2', { id: 'actions-title' }, 'Actions'),
      h('p', { class: 'muted' }, isHumanTurn() ? 'Working out the numbers…' : `${active?.name ?? 'The other player'} is playing…`));
    fill(bar, endBar(s, null));
    return;
  }
  const me = human();
  const ap = me.resources[apKey()] ?? 0;
  const apInfo = resourceInfo(apKey());
  const groups = new Map();
  for (const entry of sorted(f.actions)) {
    const category = actionInfo(entry.actionId).category;
    if (!groups.has(category)) groups.set(category, []);
    groups.get(category).push(entry);
  }
  const categories = registry('actionCategories');
  fill(el,
    h('div', { class: 'actions-head' },
      h('h2', { id: 'actions-title' }, 'Actions'),
      h('span', { class: 'ap', id: 'ap-left' }, `${apInfo.icon} ${fmtNumber(ap)} ${apInfo.label} left`)),
    [...groups].map(([category, entries]) => {
      const c = categories[category] ?? { title: category };
      return h('section', { class: 'category', 'aria-label': c.title ?? category },
        h('h3', { title: c.description ?? '' }, [c.icon, c.title].filter(Boolean).join(' ')),
        h('ul', { class: 'action-list' }, entries.map((entry) => card(s, entry))));
    }));
  fill(bar, endBar(s, f));
}

function sorted(actions) {
  const categories = registry('actionCategories');
  const position = Object.keys(registry('actions'));
  return [...actions].sort((a, b) => {
    const x = actionInfo(a.actionId);
    const y = actionInfo(b.actionId);
    const cx = categories[x.category]?.order ?? 99;
    const cy = categories[y.category]?.order ?? 99;
    return cx - cy || x.order - y.order || position.indexOf(a.actionId) - position.indexOf(b.actionId);
  });
}

// ---------------------------------------------------------------------------
// Parameters: the pickers come from the candidates the server sent. Each
// parameter (`id`, `landId`, `role`, `choices.<group>`) is one picker; the
// chosen candidate is the one matching every choice.

function paramEntries(params) {
  const out = [];
  for (const [key, value] of Object.entries(params ?? {})) {
    if (key === 'choices' && value && typeof value === 'object') {
      for (const [group, choice] of Object.entries(value)) out.push([`choices.${group}`, choice?.optionId]);
    } else {
      out.push([key, value]);
    }
  }
  return out;
}

function pickers(entry) {
  const keys = [];
  const values = new Map();
  for (const candidate of entry.candidates) {
    for (const [key, value] of paramEntries(candidate.params)) {
      if (!values.has(key)) {
        keys.push(key);
        values.set(key, []);
      }
      if (!values.get(key).includes(value)) values.get(key).push(value);
    }
  }
  return keys.filter((key) => values.get(key).length > 1 || key === 'landId').map((key) => ({ key, values: values.get(key) }));
}

function chosen(entry) {
  const selection = state.selection[entry.actionId] ?? {};
  const score = (candidate) => {
    const params = Object.fromEntries(paramEntries(candidate.params));
    let matches = 0;
    for (const [key, value] of Object.entries(selection)) if (params[key] === value) matches += 1;
    return matches;
  };
  let best = entry.candidates[0];
  let bestScore = -1;
  for (const candidate of entry.candidates) {
    // Prefer what the player picked, then a candidate that works.
    const value = score(candidate) * 2 + (candidate.ok ? 1 : 0);
    if (value > bestScore) {
      best = candidate;
      bestScore = value;
    }
  }
  return best;
}

function choiceLabel(entry, key, value, candidates) {
  if (key === 'landId') {
    const lands = human().lands;
    const index = lands.findIndex((l) => l.id === value);
    const l = lands[index];
    const free = l ? l.slotsMax - l.slotsUsed : 0;
    return `${assetInfo('land').label} ${index + 1} (${free} free)`;
  }
  if (key === 'role') return named(roleInfo(value));
  if (key.startsWith('choices.')) {
    const group = key.slice('choices.'.length);
    const option = groupOf(entry.actionId, group)?.options?.find((o) => o.id === value);
    return option ? [option.icon, option.label ?? option.id].filter(Boolean).join(' ') : value;
  }
  if (registry('buildings')[value]) {
    const price = candidates.find((c) => c.params?.[key] === value)?.costs;
    return `${named(buildingInfo(value))}${price ? ` (${describeCosts(price)})` : ''}`;
  }
  if (registry('developments')[value]) return named(developmentInfo(value));
  return String(value);
}

function groupOf(actionId, groupId) {
  const effects = registry('actions')[actionId]?.effects ?? [];
  return effects.find((e) => e.id === groupId && Array.isArray(e.options));
}

function pickerCaption(entry, key, value) {
  if (key === 'landId') return 'On';
  if (key === 'role') return 'Role';
  if (key.startsWith('choices.')) return groupOf(entry.actionId, key.slice(8))?.title ?? 'Choice';
  if (registry('buildings')[value]) return 'Building';
  if (registry('developments')[value]) return 'Development';
  return key;
}

function pick(actionId, key, value) {
  update({ selection: { ...state.selection, [actionId]: { ...(state.selection[actionId] ?? {}), [key]: value } } });
}

// ---------------------------------------------------------------------------

function card(s, entry) {
  const id = entry.actionId;
  const info = actionInfo(id);
  const candidate = entry.candidates.length ? chosen(entry) : null;
  const me = human();
  let reason = '';
  if (!candidate) reason = 'Nothing to choose from now (no free slot, or everything built).';
  else if (entry.requirements?.length) reason = describeRequirement(entry.requirements[0]);
  else if (!candidate.ok) reason = refusal(candidate);
  const ok = Boolean(candidate?.ok) && !entry.requirements?.length;
  const now = candidate?.ok ? effectLines(candidate) : [];
  const outlook = candidate?.ok ? candidate.outlook : null;
  const warn = outlook?.bankrupt;
  const open = Boolean(state.about[id]);
  const selects = candidate ? pickers(entry).map(({ key, values }) => {
    const current = Object.fromEntries(paramEntries(candidate.params))[key];
    const selectId = `pick-${id}-${key}`.replace(/[^\w-]/g, '-');
    return h('label', { class: 'picker', for: selectId },
      h('span', {}, pickerCaption(entry, key, values[0])),
      h('select', {
        id: selectId, 'data-key': selectId, dataset: { param: key, for: id }, disabled: s.busy,
        onchange: (event) => pick(id, key, event.target.value),
      }, values.map((value) => h('option', { value, selected: value === current }, choiceLabel(entry, key, value, entry.candidates)))));
  }) : [];
  const describedBy = [`now-${id}`, warn ? `warn-${id}` : null, ok ? null : `why-${id}`].filter(Boolean).join(' ');
  return h('li', { class: `action${ok ? '' : ' unavailable'}${warn ? ' danger' : ''}`, dataset: { actionCard: id } },
    h('div', { class: 'action-head' },
      h('span', { class: 'action-name' }, named(info)),
      info.description && now.length ? h('button', {
        type: 'button', class: 'ghost about', 'data-key': `about-${id}`, 'aria-expanded': String(open),
        'aria-controls': `about-${id}`, 'aria-label': `About ${info.label}`,
        onclick: () => update({ about: { ...state.about, [id]: !open } }),
      }, 'ℹ️') : null,
      h('span', { class: 'cost', title: 'Cost' }, candidate?.costs ? describeCosts(candidate.costs) : '')),
    open && now.length ? h('p', { class: 'about-text', id: `about-${id}` }, info.description) : null,
    selects.length ? h('div', { class: 'pickers' }, selects) : null,
    h('p', { class: 'now', id: `now-${id}` },
      now.length ? [h('span', { class: 'tag' }, 'Now'), ' ', now.join(' · ')] : h('span', { class: 'muted' }, info.description)),
    outlook && !warn ? h('p', { class: 'outlook' }, h('span', { class: 'tag' }, 'Next turn'), ' ', outlookText(outlook)) : null,
    warn ? h('p', { class: 'warning', id: `warn-${id}`, role: 'note' }, '⚠ ', bankruptcyText(outlook, 'this')) : null,
    ok ? null : h('p', { class: 'reason', id: `why-${id}` }, reason),
    h('div', { class: 'action-foot' },
      h('button', {
        type: 'button', class: warn ? 'danger small' : 'primary small', 'data-key': `do-${id}`,
        dataset: { action: id }, disabled: s.busy || !ok, 'aria-describedby': describedBy,
        onclick: () => perform(id, candidate),
      }, info.label)));
}

function refusal(candidate) {
  const error = candidate.error ?? {};
  if (error.requirementFailure) return describeRequirement(error.requirementFailure);
  return error.message ?? 'Not possible now';
}

/** "+4 🪙 −1 😊 −1 ⚡" for you, and "Grim: −2 🏰" for the other seat. */
function effectLines(candidate) {
  const me = human();
  return (candidate.effects ?? []).map((delta) => {
    const parts = describeDelta(delta);
    if (!parts.length) return null;
    if (delta.playerId === me.id) return parts.join(' ');
    return `${playerById(delta.playerId)?.name ?? delta.playerId}: ${parts.join(' ')}`;
  }).filter(Boolean);
}

/** "🌳 Growth +2 🪙 · 🧹 Upkeep −2 🪙 → 10 🪙". */
export function outlookText(outlook, { full = false } = {}) {
  const parts = (outlook.phases ?? [])
    .filter((p) => full || !state.snapshot.phases?.find((q) => q.id === p.phase)?.action)
    .map((p) => `${named(phaseInfo(p.phase))} ${resourceParts(p.resources).join(' ')}`);
  const gold = Object.keys(outlook.resources ?? {}).find((key) => key !== apKey() && (outlook.phases ?? []).some((p) => p.resources?.[key]));
  const then = gold ? ` → ${fmtNumber(outlook.resources[gold])} ${resourceInfo(gold).icon}` : '';
  return `${parts.join(' · ') || 'no change'}${then}`;
}

/** The warning's words, with the numbers. */
export function bankruptcyText(outlook, what) {
  const shortfall = outlook?.conclusion?.shortfall;
  const start = what === 'this' ? 'Doing this bankrupts you at your next upkeep' : 'Ending the turn now bankrupts you at this upkeep';
  if (!shortfall) return `${start}: you lose the game.`;
  const icon = resourceInfo(shortfall.key).icon;
  const sources = (shortfall.sources ?? []).map((x) => `${sourceName(x.source)} ${fmtNumber(x.amount)}`).join(', ');
  return `${start}: upkeep asks ${fmtNumber(shortfall.due)} ${icon}${sources ? ` (${sources})` : ''} and you will have ${fmtNumber(shortfall.available)} ${icon}. You lose the game.`;
}

function endBar(s, f) {
  const me = human();
  const ap = me?.resources?.[apKey()] ?? 0;
  const apInfo = resourceInfo(apKey());
  const outlook = f?.endTurn;
  const can = isHumanTurn() && !s.busy && !s.playback && Boolean(f);
  const warn = outlook?.bankrupt;
  return h('div', { class: `endbar-inner${warn ? ' danger' : ''}` },
    h('div', { class: 'endbar-text', id: 'next-turn' },
      outlook ? [h('span', { class: 'tag' }, 'Next turn'), ' ', outlookText(outlook)] : h('span', { class: 'muted' }, s.busyText || 'Waiting…'),
      ap > 0 && can ? h('span', { class: 'muted' }, ` · ${fmtNumber(ap)} ${apInfo.icon} unspent will be lost`) : null,
      warn ? h('p', { class: 'warning', id: 'end-warning', role: 'note' }, '⚠ ', bankruptcyText(outlook, 'end')) : null),
    h('button', {
      type: 'button', id: 'end-turn', 'data-key': 'end-turn', class: warn ? 'danger' : ap > 0 ? 'secondary' : 'primary',
      disabled: !can, 'aria-describedby': 'next-turn', onclick: () => endTurn(),
    }, 'End turn'));
}
