// Names, icons and words: everything the page says about content comes
// from the session's registries and metadata (falling back to ids), so
// content changes need no change here.

import { state, human, playerById } from './state.js';

export const MINUS = '\u2212';

const meta = () => state.metadata ?? state.defaults?.metadata ?? {};
export const registry = (name) => (state.registries ?? state.defaults?.registries)?.[name] ?? {};

export function fmtNumber(n) {
  if (typeof n !== 'number' || Number.isNaN(n)) return String(n);
  return Number.isInteger(n) ? String(n) : String(Math.round(n * 100) / 100);
}

export function signed(n, format = fmtNumber) {
  if (n > 0) return `+${format(n)}`;
  if (n < 0) return `${MINUS}${format(-n)}`;
  return format(0);
}

export function resourceInfo(key) {
  const m = meta().resources?.[key] ?? registry('resources')[key] ?? {};
  return { icon: m.icon ?? '', label: m.label ?? key, description: m.description ?? '' };
}

export function statInfo(key) {
  const m = meta().stats?.[key] ?? {};
  const percent = Boolean(m.format?.percent || m.displayAsPercent);
  return { icon: m.icon ?? '', label: m.label ?? key, description: m.description ?? '', percent };
}

export function roleInfo(id) {
  const m = meta().populations?.[id] ?? {};
  const r = registry('populations')[id] ?? {};
  return { icon: m.icon ?? r.icon ?? '', label: m.label ?? r.name ?? id, description: m.description ?? r.description ?? '' };
}

export function buildingInfo(id) {
  const m = meta().buildings?.[id] ?? {};
  const r = registry('buildings')[id] ?? {};
  return { icon: r.icon ?? m.icon ?? '', label: r.name ?? m.label ?? id, description: m.description ?? r.description ?? '' };
}

export function developmentInfo(id) {
  const m = meta().developments?.[id] ?? {};
  const r = registry('developments')[id] ?? {};
  return { icon: r.icon ?? m.icon ?? '', label: r.name ?? m.label ?? id, description: m.description ?? r.description ?? '' };
}

export function actionInfo(id) {
  const r = registry('actions')[id] ?? {};
  return { icon: r.icon ?? '', label: r.name ?? id, description: r.description ?? '', category: r.category ?? 'other', order: r.order ?? 99 };
}

export function assetInfo(id) {
  const m = meta().assets?.[id] ?? {};
  return { icon: m.icon ?? '', label: m.label ?? id };
}

export function phaseInfo(phaseId) {
  const fromSnapshot = state.snapshot?.phases?.find((phase) => phase.id === phaseId) ?? {};
  const m = meta().phases?.[phaseId] ?? {};
  return { icon: m.icon ?? fromSnapshot.icon ?? '', label: m.label ?? fromSnapshot.label ?? phaseId };
}

export function stepInfo(phaseId, stepId) {
  const phase = state.snapshot?.phases?.find((p) => p.id === phaseId);
  const step = phase?.steps?.find((s) => s.id === stepId) ?? {};
  const m = meta().phases?.[phaseId]?.steps?.find((s) => s.id === stepId) ?? {};
  return { icon: m.icon ?? step.icon ?? '', label: m.label ?? step.title ?? stepId };
}

export const named = (info) => [info.icon, info.label].filter(Boolean).join(' ');

export function fmtStat(key, value) {
  return statInfo(key).percent ? `${fmtNumber(value * 100)} %` : fmtNumber(value);
}

/** What a source of a payment is called: "⚖️ Council ×1". */
export function sourceName(source) {
  if (!source) return '';
  const count = source.count !== undefined ? ` ×${source.count}` : '';
  switch (source.type) {
    case 'population': return `${named(roleInfo(source.id))}${count}`;
    case 'building': return `${named(buildingInfo(source.id))}${count}`;
    case 'development': return `${named(developmentInfo(source.id))}${count}`;
    default: return `${source.name ?? source.id ?? source.type}${count}`;
  }
}

/** The tier of a tiered resource value (the engine's rule: the last tier
 * whose range holds it; below every tier, the lowest). */
export function tierFor(value) {
  const tiers = state.snapshot?.rules?.tierDefinitions ?? [];
  let found = null;
  for (const tier of tiers) {
    const { min, max } = tier.range ?? {};
    if (typeof min === 'number' && value < min) break;
    if (typeof max === 'number' && value > max) continue;
    found = tier;
  }
  if (!found && tiers.length && typeof tiers[0].range?.min === 'number' && value < tiers[0].range.min) {
    found = tiers[0];
  }
  if (!found) return null;
  const display = found.display ?? {};
  return { id: found.id, icon: display.icon ?? '', label: display.title ?? found.id, summary: display.summary ?? '' };
}

/** "+4 🪙 Gold" items of a `{key: amount}` map, in the map's order. */
export function resourceParts(map, { names = false } = {}) {
  return Object.entries(map ?? {})
    .filter(([, amount]) => amount)
    .map(([key, amount]) => {
      const info = resourceInfo(key);
      return `${signed(amount)} ${names ? named(info) : info.icon || info.label}`;
    });
}

/** "1 ⚡ + 2 🪙" or "free". */
export function describeCosts(costs) {
  const parts = Object.entries(costs ?? {})
    .filter(([, amount]) => amount)
    .map(([key, amount]) => `${fmtNumber(amount)} ${resourceInfo(key).icon || resourceInfo(key).label}`);
  return parts.length ? parts.join(' + ') : 'free';
}

/** Whether a passive only stands for something the board already shows
 * (a building, a development, a person, a mood tier). */
export function isHoldingPassive(passive) {
  const type = passive.meta?.source?.type;
  if (['building', 'development', 'population', 'tiered-resource'].includes(type)) return true;
  if (registry('buildings')[passive.id]) return true;
  return false;
}

/** Words for one seat's changes, from a forecast `PlayerDelta`. */
export function describeDelta(delta, { names = false } = {}) {
  if (!delta) return [];
  const out = resourceParts(delta.resources, { names });
  for (const [key, amount] of Object.entries(delta.stats ?? {})) {
    out.push(`${signed(amount, (n) => fmtStat(key, n))} ${names ? named(statInfo(key)) : statInfo(key).icon || statInfo(key).label}`);
  }
  for (const [role, amount] of Object.entries(delta.population ?? {})) out.push(`${signed(amount)} ${named(roleInfo(role))}`);
  if (delta.lands) out.push(`${signed(delta.lands)} ${named(assetInfo('land'))}`);
  else if (delta.slots) out.push(`${signed(delta.slots)} ${named(assetInfo('slot'))}`);
  for (const id of delta.developmentsAdded ?? []) out.push(`+ ${named(developmentInfo(id))}`);
  for (const id of delta.developmentsRemoved ?? []) out.push(`${MINUS} ${named(developmentInfo(id))}`);
  for (const id of delta.buildingsAdded ?? []) out.push(`+ ${named(buildingInfo(id))}`);
  for (const id of delta.buildingsRemoved ?? []) out.push(`${named(buildingInfo(id))} destroyed`);
  for (const p of delta.passivesAdded ?? []) if (!isHoldingPassive(p) || p.meta?.source?.type === 'tiered-resource') out.push(`${[p.icon, p.name ?? p.id].filter(Boolean).join(' ')} begins`);
  for (const p of delta.passivesRemoved ?? []) if (!isHoldingPassive(p) || p.meta?.source?.type === 'tiered-resource') out.push(`${[p.icon, p.name ?? p.id].filter(Boolean).join(' ')} ends`);
  return out;
}

/** The changes between two wire snapshots of one seat, as a `PlayerDelta`
 * (for the AI's turn, where the server sends snapshots). */
export function deltaBetween(before, after) {
  const diff = (a = {}, b = {}) => {
    const out = {};
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const d = (b[key] ?? 0) - (a[key] ?? 0);
      if (Math.abs(d) > 1e-9) out[key] = Math.round(d * 1e6) / 1e6;
    }
    return out;
  };
  if (!before || !after) return {};
  const devs = (p) => (p.lands ?? []).flatMap((land) => land.developments ?? []);
  const minus = (a, b) => {
    const rest = [...b];
    return a.filter((x) => {
      const at = rest.indexOf(x);
      if (at < 0) return true;
      rest.splice(at, 1);
      return false;
    });
  };
  const ids = (list) => new Set((list ?? []).map((p) => p.id));
  return {
    resources: diff(before.resources, after.resources),
    stats: diff(before.stats, after.stats),
    population: diff(before.population, after.population),
    lands: (after.lands?.length ?? 0) - (before.lands?.length ?? 0),
    developmentsAdded: minus(devs(after), devs(before)),
    developmentsRemoved: minus(devs(before), devs(after)),
    buildingsAdded: minus(after.buildings ?? [], before.buildings ?? []),
    buildingsRemoved: minus(before.buildings ?? [], after.buildings ?? []),
    passivesAdded: (after.passives ?? []).filter((p) => !ids(before.passives).has(p.id)),
    passivesRemoved: (before.passives ?? []).filter((p) => !ids(after.passives).has(p.id)),
  };
}

/** A requirement failure in words: "Population (1) must be below Max
 * Population (1)". */
export function describeRequirement(failure) {
  const requirement = failure?.requirement ?? {};
  const params = requirement.params ?? {};
  if (requirement.method === 'compare' && 'left' in params) {
    const words = { lt: 'below', lte: 'at most', gt: 'above', gte: 'at least', eq: 'equal to', ne: 'other than' };
    const details = failure.details ?? {};
    const side = (operand, value) => {
      if (typeof operand === 'number') return fmtNumber(operand);
      const label = operandLabel(operand);
      return typeof value === 'number' ? `${label} (${fmtNumber(value)})` : label;
    };
    return `${side(params.left, details.left)} must be ${words[params.operator] ?? params.operator} ${side(params.right, details.right)}`;
  }
  return failure?.message ?? requirement.message ?? 'A requirement is not met';
}

function operandLabel(operand) {
  const p = operand?.params ?? {};
  switch (operand?.type) {
    case 'population': return p.role ? named(roleInfo(p.role)) : named(assetInfo('population'));
    case 'stat': return named(statInfo(p.key));
    case 'resource': return named(resourceInfo(p.key));
    case 'development': return `${named(developmentInfo(p.id))} count`;
    default: return operand?.type ?? 'value';
  }
}

/** One line per attack in effect logs: power, absorption, target. */
export function describeAttacks(logs, attackerName) {
  return (logs ?? []).map((entry) => {
    const e = entry.evaluation ?? {};
    const parts = [`${attackerName} attacked with power ${fmtNumber(e.power?.modified ?? e.power?.base ?? 0)}`];
    if (e.absorption && !e.absorption.ignored && e.absorption.before > 0) parts.push(`absorption cut it to ${fmtNumber(e.absorption.damageAfter)}`);
    if (e.fortification && !e.fortification.ignored && e.fortification.damage > 0) parts.push(`fortification soaked ${fmtNumber(e.fortification.damage)}`);
    const t = e.target ?? {};
    if (t.type === 'building') parts.push(t.destroyed ? `${named(buildingInfo(t.id))} destroyed` : `${named(buildingInfo(t.id))} held`);
    else if (t.key) parts.push(`${named(t.type === 'stat' ? statInfo(t.key) : resourceInfo(t.key))} ${fmtNumber(t.before)} → ${fmtNumber(t.after)}`);
    return parts.join(', ');
  });
}

/** Title and cause of a conclusion. */
export function conclusionText(conclusion) {
  const condition = (state.snapshot?.rules?.winConditions ?? []).find((c) => c.id === conclusion.conditionId);
  const display = condition?.display ?? {};
  const winner = playerById(conclusion.winnerId);
  const youWon = conclusion.winnerId === human()?.id;
  const title = youWon ? '🏆 Victory!'
    : human() ? `☠️ Defeat: ${winner?.name ?? conclusion.winnerId} wins` : `🏆 ${winner?.name ?? conclusion.winnerId} wins`;
  const cause = `${display.icon ?? ''} ${display.title ?? conclusion.conditionId}`.trim();
  const description = display.description ?? display.defeat ?? '';
  return { title, cause, description, youWon };
}

/** Fills `{token}` placeholders of overview text with icons and names. */
export function fillTokens(text, tokens = {}) {
  return String(text).replace(/\{(\w+)\}/g, (_, key) => {
    if (key in tokens) return tokens[key];
    if (registry('actions')[key]) return named(actionInfo(key));
    const m = meta();
    for (const table of [m.resources, m.populations, m.assets, m.phases, m.stats, m.developments, m.buildings]) {
      if (table?.[key]?.icon) return table[key].icon;
    }
    if (key.endsWith('Stat') && m.stats?.[key.slice(0, -4)]) return m.stats[key.slice(0, -4)].icon ?? '';
    return '';
  }).replace(/\s{2,}/g, ' ');
}

/** The icon of any content key (action, resource, role, phase...). */
export function iconOf(key) {
  if (registry('actions')[key]) return actionInfo(key).icon;
  return fillTokens(`{${key}}`);
}

export function overview() {
  return meta().overview;
}
