// Kingdom Builder: the browser client served at `/` by `kingdom serve`.
//
// A human plays the seat that is not AI-controlled (A) against the built-in
// AI (B). Everything the page shows comes from the server: names, icons and
// descriptions from the session's registries and metadata, costs and
// requirements from the action query routes, so content changes need no
// change here.
//
// How it works:
// - `app` holds the session: id, version, latest snapshot, registries,
//   metadata, the chronicle (log) and the picker selections.
// - Every server call goes through `api()`, which turns any failure into an
//   `ApiError` with a readable message; callers show it with `showError()`.
// - `drive()` moves the game along until the human has something to decide:
//   it advances through steps that are not action phases and lets the AI play
//   its turn with `POST .../ai-turn`.
// - `render()` rebuilds the page from `app`; the action panel is refreshed
//   again when live costs and requirements arrive (`loadActionInfo()`).
// - The session id, token and chronicle are kept in localStorage, so a reload
//   (even after a server restart) resumes the game.
//
// `document.body.dataset.busy` is "true" while a request that changes the game
// is in flight; tests wait on it.

const API = '/api';
const DEFAULT_TOKEN = 'local-dev';
const STORE = {
  token: 'kb.token',
  session: 'kb.session',
  name: 'kb.playerName',
  devMode: 'kb.devMode',
  log: (sessionId) => `kb.log.${sessionId}`,
};
/** Chronicle entries kept per game. */
const LOG_LIMIT = 300;
/** Most automatic steps `drive()` takes before it stops and asks the human. */
const DRIVE_LIMIT = 60;
const MINUS = '\u2212';

const app = {
  token: DEFAULT_TOKEN,
  sessionId: null,
  version: null,
  snapshot: null,
  registries: null,
  /** Metadata of the session (from its snapshot). */
  metadata: null,
  /** `GET /metadata`: the server's default registries and metadata, used
   * before a session is loaded (start screen). */
  defaults: null,
  log: [],
  busy: false,
  busyText: '',
  driving: false,
  /** Picker selections: action id -> param name -> value. */
  params: {},
  /** Live action info for one session version (see `loadActionInfo`). */
  info: { version: null, costs: new Map(), requirements: new Map(), options: new Map(), errors: new Map() },
};

// ---------------------------------------------------------------------------
// Small helpers

const $ = (selector) => document.querySelector(selector);

/**
 * Creates an element. `attrs` keys starting with `on` attach listeners;
 * `dataset` sets data attributes; other keys become attributes (or
 * properties for `disabled`, `checked`, `value`, `hidden`).
 * Children may be strings, nodes, arrays or null. Text is never parsed as
 * HTML, so server strings cannot inject markup.
 */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (['disabled', 'checked', 'value', 'hidden'].includes(key)) {
      el[key] = value;
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  appendChildren(el, children);
  return el;
}

function appendChildren(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces the children of `el` (children as for `h`). */
function fill(el, ...children) {
  el.replaceChildren();
  appendChildren(el, children);
}

function fmtNumber(n) {
  if (typeof n !== 'number' || Number.isNaN(n)) return String(n);
  return Number.isInteger(n) ? String(n) : String(Math.round(n * 100) / 100);
}

function signed(n, format = fmtNumber) {
  if (n > 0) return `+${format(n)}`;
  if (n < 0) return `${MINUS}${format(-n)}`;
  return format(0);
}

const storage = {
  get(key) {
    try { return localStorage.getItem(key); } catch { return null; }
  },
  set(key, value) {
    try {
      if (value === null || value === undefined) localStorage.removeItem(key);
      else localStorage.setItem(key, value);
    } catch { /* storage full or disabled: the game still works, without resume */ }
  },
};

// ---------------------------------------------------------------------------
// Server access

class ApiError extends Error {
  constructor(status, body, message) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

/**
 * Calls the API. Writes (`write: true`) send the session version as
 * `If-Match`, so a move made on a stale page is refused instead of applied.
 */
async function api(method, path, body, { write = false } = {}) {
  const headers = { Accept: 'application/json' };
  if (app.token) headers.Authorization = `Bearer ${app.token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (write && app.version !== null) headers['If-Match'] = `"${app.version}"`;
  let response;
  try {
    response = await fetch(API + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new ApiError(0, null, `Cannot reach the server (${error.message}). Is it running?`);
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!response.ok || data?.status === 'error') {
    throw new ApiError(response.status, data, errorMessage(response.status, data, text));
  }
  return data;
}

/** The readable message of a failed call: the envelope's `message` or the
 * action route's `error`, with the failing requirement spelled out. */
function errorMessage(status, data, text) {
  let message = data?.message ?? data?.error ?? (text ? text.slice(0, 200) : '') ?? '';
  if (!message) message = `The server answered ${status}.`;
  const failure = data?.requirementFailure;
  if (failure) message = `${message}: ${describeRequirement(failure)}`;
  if (Array.isArray(data?.issues) && data.issues.length) {
    message += ` (${data.issues.map((issue) => issue.message ?? JSON.stringify(issue)).join('; ')})`;
  }
  if (status === 401 || status === 403) {
    message = `The server refused access: ${message} Check the access token on the start screen.`;
  }
  return message;
}

const sessionPath = (suffix = '') => `/sessions/${encodeURIComponent(app.sessionId)}${suffix}`;

/** Takes a SessionState-like answer into `app`. */
function applyState(data) {
  if (data.snapshot) app.snapshot = data.snapshot;
  if (data.registries) app.registries = data.registries;
  if (data.snapshot?.metadata) app.metadata = data.snapshot.metadata;
  if (typeof data.version === 'number') app.version = data.version;
}

async function refresh() {
  applyState(await api('GET', sessionPath('/snapshot')));
}

// ---------------------------------------------------------------------------
// Content lookups: names, icons and descriptions from the registries and
// metadata, falling back to the id.

const meta = () => app.metadata ?? app.defaults?.metadata ?? {};
const registry = (name) => (app.registries ?? app.defaults?.registries)?.[name] ?? {};

function resourceInfo(key) {
  const m = meta().resources?.[key] ?? registry('resources')[key] ?? {};
  return { icon: m.icon ?? '', label: m.label ?? key, description: m.description ?? '' };
}

function statInfo(key) {
  const m = meta().stats?.[key] ?? {};
  const percent = Boolean(m.format?.percent || m.displayAsPercent);
  return { icon: m.icon ?? '', label: m.label ?? key, description: m.description ?? '', percent };
}

function roleInfo(id) {
  const m = meta().populations?.[id] ?? {};
  const r = registry('populations')[id] ?? {};
  return { icon: m.icon ?? r.icon ?? '', label: m.label ?? r.name ?? id, description: m.description ?? r.description ?? '' };
}

function buildingInfo(id) {
  const m = meta().buildings?.[id] ?? {};
  const r = registry('buildings')[id] ?? {};
  return { icon: r.icon ?? m.icon ?? '', label: r.name ?? m.label ?? id, description: m.description ?? r.description ?? '' };
}

function developmentInfo(id) {
  const m = meta().developments?.[id] ?? {};
  const r = registry('developments')[id] ?? {};
  return { icon: r.icon ?? m.icon ?? '', label: r.name ?? m.label ?? id, description: m.description ?? r.description ?? '' };
}

function actionInfo(id) {
  const r = registry('actions')[id] ?? {};
  return { icon: r.icon ?? '', label: r.name ?? id, description: r.description ?? '' };
}

function assetInfo(id) {
  const m = meta().assets?.[id] ?? {};
  return { icon: m.icon ?? '', label: m.label ?? id };
}

function phaseInfo(phaseId) {
  const fromSnapshot = app.snapshot?.phases?.find((phase) => phase.id === phaseId) ?? {};
  const m = meta().phases?.[phaseId] ?? {};
  return { icon: m.icon ?? fromSnapshot.icon ?? '', label: m.label ?? fromSnapshot.label ?? phaseId };
}

function stepInfo(phaseId, stepId) {
  const phase = app.snapshot?.phases?.find((p) => p.id === phaseId);
  const step = phase?.steps?.find((s) => s.id === stepId) ?? {};
  const m = meta().phases?.[phaseId]?.steps?.find((s) => s.id === stepId) ?? {};
  return { icon: m.icon ?? step.icon ?? '', label: m.label ?? step.title ?? stepId };
}

const named = (info) => [info.icon, info.label].filter(Boolean).join(' ');

function fmtStat(key, value) {
  return statInfo(key).percent ? `${fmtNumber(value * 100)} %` : fmtNumber(value);
}

/** The tier of a tiered resource value: the last tier whose range holds it,
 * scanning up to the first tier whose minimum is above it; below every tier
 * means the lowest one (the engine's rule). */
function tierFor(value) {
  const tiers = app.snapshot?.rules?.tierDefinitions ?? [];
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
  return {
    id: found.id,
    icon: display.icon ?? '',
    label: display.title ?? found.id,
    summary: display.summary ?? '',
  };
}

/** Fills `{token}` placeholders of overview text with icons and names. */
function fillTokens(text, tokens = {}) {
  return String(text).replace(/\{(\w+)\}/g, (_, key) => {
    if (key in tokens) return tokens[key];
    if (registry('actions')[key]) return named(actionInfo(key));
    const lookups = [
      meta().resources, meta().populations, meta().assets, meta().phases,
      meta().stats, meta().developments, meta().buildings,
    ];
    for (const table of lookups) if (table?.[key]?.icon) return table[key].icon;
    if (key.endsWith('Stat') && meta().stats?.[key.slice(0, -4)]) return meta().stats[key.slice(0, -4)].icon ?? '';
    return '';
  }).replace(/\s{2,}/g, ' ');
}

/** The icon of any content key (action, resource, role, phase...). */
function iconOf(key) {
  if (registry('actions')[key]) return actionInfo(key).icon;
  return fillTokens(`{${key}}`);
}

// ---------------------------------------------------------------------------
// Game state helpers

const game = () => app.snapshot?.game;
const players = () => game()?.players ?? [];
const playerById = (id) => players().find((p) => p.id === id);
/** The human's seat: the first player the AI does not control. */
const human = () => players().find((p) => !p.aiControlled) ?? players()[0];
const currentPhase = () => app.snapshot?.phases?.[game()?.phaseIndex] ?? null;
const isHumanActionTurn = () => {
  const g = game();
  return Boolean(g && !g.conclusion && g.activePlayerId === human()?.id && currentPhase()?.action);
};
const apKey = () => app.snapshot?.actionCostResource || 'ap';
const displayName = (player) => (player.id === human()?.id ? `${player.name} (you)` : player.name);

/** Plain-language changes from `before` to `after` (two player snapshots or
 * trace sides): resources, stats, people, lands, developments, buildings,
 * mood, and passives that come and go. */
function describeChanges(before, after) {
  if (!before || !after) return [];
  const out = [];
  const keys = (a, b) => [...new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})])];
  for (const key of keys(before.resources, after.resources)) {
    const delta = (after.resources?.[key] ?? 0) - (before.resources?.[key] ?? 0);
    if (Math.abs(delta) > 1e-9) out.push(`${signed(delta)} ${named(resourceInfo(key))}`);
  }
  const tiered = app.snapshot?.rules?.tieredResourceKey;
  if (tiered && before.resources && after.resources) {
    const was = tierFor(before.resources[tiered] ?? 0);
    const now = tierFor(after.resources[tiered] ?? 0);
    if (was && now && was.id !== now.id) out.push(`mood ${named(was)} → ${named(now)}`);
  }
  for (const key of keys(before.stats, after.stats)) {
    const delta = (after.stats?.[key] ?? 0) - (before.stats?.[key] ?? 0);
    if (Math.abs(delta) > 1e-9) out.push(`${signed(delta, (n) => fmtStat(key, n))} ${named(statInfo(key))}`);
  }
  for (const key of keys(before.population, after.population)) {
    const delta = (after.population?.[key] ?? 0) - (before.population?.[key] ?? 0);
    if (delta) out.push(`${signed(delta)} ${named(roleInfo(key))}`);
  }
  const landsBefore = new Map((before.lands ?? []).map((land) => [land.id, land]));
  (after.lands ?? []).forEach((land, index) => {
    const old = landsBefore.get(land.id);
    const landName = `${assetInfo('land').label} ${index + 1}`;
    if (!old) out.push(`new ${named(assetInfo('land'))} (${landName}, ${land.slotsMax} ${land.slotsMax === 1 ? 'slot' : 'slots'})`);
    else if (land.slotsMax > old.slotsMax) out.push(`${landName} tilled to ${land.slotsMax} slots`);
    const counts = new Map();
    for (const d of old?.developments ?? []) counts.set(d, (counts.get(d) ?? 0) - 1);
    for (const d of land.developments ?? []) counts.set(d, (counts.get(d) ?? 0) + 1);
    for (const [d, n] of counts) {
      if (n > 0) out.push(`${named(developmentInfo(d))} built on ${landName}`);
      if (n < 0) out.push(`${named(developmentInfo(d))} lost on ${landName}`);
    }
  });
  const had = new Set(before.buildings ?? []);
  const has = new Set(after.buildings ?? []);
  for (const b of has) if (!had.has(b)) out.push(`${named(buildingInfo(b))} built`);
  for (const b of had) if (!has.has(b)) out.push(`${named(buildingInfo(b))} destroyed`);
  // Passives: only those not already told above (tiers, buildings,
  // developments and people have their own lines).
  const told = (p) => p.meta?.source?.type === 'tiered-resource' || isHoldingPassive(p);
  const passivesBefore = new Map((before.passives ?? []).map((p) => [p.id, p]));
  const passivesAfter = new Map((after.passives ?? []).map((p) => [p.id, p]));
  for (const [id, p] of passivesAfter) {
    if (!passivesBefore.has(id) && !told(p)) out.push(`${[p.icon, p.name ?? id].filter(Boolean).join(' ')} begins`);
  }
  for (const [id, p] of passivesBefore) {
    if (!passivesAfter.has(id) && !told(p)) out.push(`${[p.icon, p.name ?? id].filter(Boolean).join(' ')} ends`);
  }
  return out;
}

/** Whether a passive only stands for something the board already shows: a
 * building, a development or a hired person (their effects' carriers). */
function isHoldingPassive(passive) {
  const type = passive.meta?.source?.type;
  if (type === 'building' || type === 'development' || type === 'population') return true;
  if (registry('buildings')[passive.id]) return true;
  const labels = [
    ...Object.keys(registry('buildings')).map((id) => buildingInfo(id).label),
    ...Object.keys(registry('developments')).map((id) => developmentInfo(id).label),
    ...Object.keys(registry('populations')).map((id) => roleInfo(id).label),
  ];
  return labels.includes(passive.name);
}

/** One line per player whose state changed since `before`: the actor's
 * first and unprefixed, then "You: …" or "<name>: …". */
function changesOfPlayers(before, actorId) {
  const lines = [];
  for (const p of [...players()].sort((a, b) => (b.id === actorId) - (a.id === actorId))) {
    const changes = describeChanges(before?.game?.players?.find((q) => q.id === p.id), p);
    if (!changes.length) continue;
    const who = p.id === actorId ? '' : `${p.id === human()?.id ? 'You' : p.name}: `;
    lines.push(`${who}${changes.join(', ')}`);
  }
  return lines;
}

/** A requirement failure in words, e.g. "Population (1) must be below Max
 * Population (1)". */
function describeRequirement(failure) {
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

function describeCosts(costs) {
  const parts = Object.entries(costs ?? {})
    .filter(([, amount]) => amount)
    .map(([key, amount]) => `${fmtNumber(amount)} ${resourceInfo(key).icon || resourceInfo(key).label}`);
  return parts.length ? parts.join(' + ') : 'free';
}

/** One line per attack in an answer's effect logs. */
function describeAttacks(snapshot, attackerName) {
  const entries = snapshot?.metadata?.effectLogs?.['attack:perform'] ?? [];
  return entries.map((entry) => {
    const e = entry.evaluation ?? {};
    const parts = [`${attackerName} attacked with power ${fmtNumber(e.power?.modified ?? e.power?.base ?? 0)}`];
    if (e.absorption && !e.absorption.ignored && e.absorption.before > 0) {
      parts.push(`absorption cut it to ${fmtNumber(e.absorption.damageAfter)}`);
    }
    if (e.fortification && !e.fortification.ignored && e.fortification.damage > 0) {
      parts.push(`fortification soaked ${fmtNumber(e.fortification.damage)}`);
    }
    const t = e.target ?? {};
    if (t.type === 'building') {
      parts.push(t.destroyed ? `${named(buildingInfo(t.id))} destroyed` : `${named(buildingInfo(t.id))} held`);
    } else if (t.key) {
      const info = t.type === 'stat' ? statInfo(t.key) : resourceInfo(t.key);
      parts.push(`${named(info)} ${fmtNumber(t.before)} → ${fmtNumber(t.after)}`);
    }
    return parts.join(', ');
  });
}

// ---------------------------------------------------------------------------
// The chronicle

function addLog(entry) {
  app.log.push({ turn: game()?.turn ?? 0, ...entry });
  if (app.log.length > LOG_LIMIT) app.log.splice(0, app.log.length - LOG_LIMIT);
  if (app.sessionId) storage.set(STORE.log(app.sessionId), JSON.stringify(app.log));
}

/** Adds a "Turn N" heading when the turn number moved on. */
function noteTurn() {
  const turn = game()?.turn;
  if (turn === undefined) return;
  const last = [...app.log].reverse().find((entry) => entry.kind === 'turn');
  if (!last || last.turn !== turn) addLog({ kind: 'turn', title: `Turn ${turn}` });
}

/** Logs the end of the game once, and brings the banner into view. */
function noteConclusion() {
  const conclusion = game()?.conclusion;
  if (!conclusion || app.log.some((entry) => entry.kind === 'end')) return;
  const { title, text } = conclusionText(conclusion);
  addLog({ kind: 'end', title, details: [text] });
  render();
  $('#game-over').scrollIntoView({ block: 'start' });
}

function loadLog(sessionId) {
  try {
    const saved = JSON.parse(storage.get(STORE.log(sessionId)) ?? '[]');
    return Array.isArray(saved) ? saved : [];
  } catch {
    return [];
  }
}

// ---------------------------------------------------------------------------
// Playing

function setBusy(busy, text = '') {
  app.busy = busy;
  app.busyText = busy ? text : '';
  document.body.dataset.busy = String(busy);
  renderStatus();
  renderActions();
}

function showError(error) {
  const message = error instanceof ApiError ? error.message : `Something went wrong: ${error?.message ?? error}`;
  $('#notice-text').textContent = message;
  $('#notice').hidden = false;
  if (!(error instanceof ApiError)) console.error(error);
}

function clearError() {
  $('#notice').hidden = true;
  $('#notice-text').textContent = '';
}

/** Advances one step and tells the chronicle what it did. */
async function advanceStep() {
  const before = app.snapshot;
  const data = await api('POST', sessionPath('/advance'), undefined, { write: true });
  applyState(data);
  const result = data.advance ?? {};
  const actor = result.player?.id ?? before?.game?.activePlayerId;
  const previous = before?.game?.players?.find((p) => p.id === actor);
  const who = actor === human()?.id ? null : playerById(actor)?.name;
  const phase = phaseInfo(result.phase);
  if (result.skipped) {
    const sources = (result.skipped.sources ?? []).map((s) => s.meta?.source?.name ?? s.id).join(', ');
    const what = result.skipped.type === 'phase' ? named(phase) : named(stepInfo(result.phase, result.skipped.stepId ?? result.step));
    addLog({ kind: 'step', who: actor, title: `${who ? `${who}: ` : ''}${what} skipped${sources ? ` (${sources})` : ''}` });
  } else if (currentPhaseWasAction(before)) {
    const changes = describeChanges(previous, result.player);
    addLog({ kind: 'step', who: actor, title: `${who ?? 'You'} ended the turn`, details: changes });
  } else {
    const changes = describeChanges(previous, result.player);
    if (changes.length) {
      const step = stepInfo(result.phase, result.step);
      const sources = (result.effects ?? [])
        .filter((effect) => effect.meta?.source?.type === 'population' && effect.params?.amount)
        .map((effect) => `${named(roleInfo(effect.meta.source.id))} ×${effect.meta.source.count}: ${fmtNumber(effect.params.amount)} ${resourceInfo(effect.params.key).icon}`);
      addLog({ kind: 'step', who: actor, title: `${who ? `${who}: ` : ''}${phase.icon} ${step.label}`, details: [...changes, ...sources] });
    }
  }
  noteTurn();
}

function currentPhaseWasAction(snapshot) {
  return Boolean(snapshot?.phases?.[snapshot?.game?.phaseIndex]?.action);
}

/** Lets the AI play its turn, then tells the chronicle what it did. */
async function aiTurn(player) {
  const before = app.snapshot;
  const versionBefore = app.version;
  // `mode: 'turn'`: the AI's whole turn in one request (the default is the reference's one step).
  const data = await api('POST', sessionPath('/ai-turn'), { playerId: player.id, mode: 'turn' }, { write: true });
  applyState(data);
  const changed = app.version !== versionBefore;
  const actions = data.actions ?? [];
  if (actions.length || changed) {
    // Group repeated actions: "Tax ×2".
    const counts = [];
    for (const action of actions) {
      const last = counts[counts.length - 1];
      if (last && last.id === action.actionId) last.n += 1;
      else counts.push({ id: action.actionId, n: 1 });
    }
    const played = counts.length
      ? `played ${counts.map(({ id, n }) => `${named(actionInfo(id))}${n > 1 ? ` ×${n}` : ''}`).join(', ')}`
      : 'played no action';
    const details = [...changesOfPlayers(before, player.id), ...describeAttacks(data.snapshot, player.name)];
    addLog({ kind: 'ai', who: player.id, title: `🤖 ${player.name} ${played}`, details });
  }
  noteTurn();
  return changed;
}

/**
 * Moves the game on until the human must decide or the game is over:
 * advances steps outside action phases and lets the AI play. Stops after
 * DRIVE_LIMIT steps or at the first error (the status bar then offers to
 * continue).
 */
async function drive() {
  if (app.driving || !app.snapshot) return;
  app.driving = true;
  try {
    for (let i = 0; i < DRIVE_LIMIT; i += 1) {
      const g = game();
      if (!g || g.conclusion) break;
      const active = playerById(g.activePlayerId);
      if (active?.aiControlled) {
        setBusy(true, `${active.name} is playing…`);
        const changed = await aiTurn(active);
        // An AI that did nothing is waiting for a step it does not take
        // itself: take it for it.
        if (!changed) await advanceStep();
      } else if (!currentPhase()?.action) {
        setBusy(true, 'Advancing…');
        await advanceStep();
      } else {
        break;
      }
      render();
    }
  } catch (error) {
    showError(error);
    await refresh().catch(() => {});
  } finally {
    app.driving = false;
    noteConclusion();
    setBusy(false);
    render();
  }
}

/** Performs one action of the human with the picked parameters. */
async function perform(actionId) {
  if (app.busy) return;
  clearError();
  const params = actionParams(actionId);
  const before = app.snapshot;
  setBusy(true, `${actionInfo(actionId).label}…`);
  try {
    const data = await api('POST', sessionPath('/actions'), { actionId, params }, { write: true });
    applyState(data);
    const me = human();
    const details = [...changesOfPlayers(before, me.id), ...describeAttacks(data.snapshot, 'You')];
    const nested = (data.traces ?? []).map((trace) => named(actionInfo(trace.id)));
    if (nested.length) details.push(`(${nested.join(' → ')})`);
    addLog({
      kind: 'action',
      who: me.id,
      title: `You: ${named(actionInfo(actionId))} — paid ${describeCosts(data.costs)}`,
      details,
    });
  } catch (error) {
    showError(error);
    addLog({ kind: 'error', title: `${named(actionInfo(actionId))} failed`, details: [error.message] });
    await refresh().catch(() => {});
  } finally {
    setBusy(false);
  }
  render();
  await drive();
}

async function endTurn() {
  if (app.busy) return;
  clearError();
  setBusy(true, 'Ending the turn…');
  try {
    await advanceStep();
  } catch (error) {
    showError(error);
    await refresh().catch(() => {});
  } finally {
    setBusy(false);
  }
  render();
  await drive();
}

// ---------------------------------------------------------------------------
// Action parameters, discovered from the action's effects: a `$name`
// placeholder in a development, building or population effect asks for that
// kind of id; effect groups (with `options`) ask for one option each.

function paramSpecs(actionId) {
  const specs = [];
  const seen = new Set();
  const visit = (effects) => {
    for (const effect of effects ?? []) {
      if (Array.isArray(effect.options)) {
        if (!seen.has('choices')) specs.push({ kind: 'choices', param: 'choices' });
        seen.add('choices');
        continue;
      }
      for (const [name, value] of Object.entries(effect.params ?? {})) {
        if (typeof value !== 'string' || !value.startsWith('$')) continue;
        const param = value.slice(1);
        let kind = null;
        if (effect.type === 'development' && name === 'id') kind = 'development';
        else if (effect.type === 'development' && name === 'landId') kind = 'land';
        else if (effect.type === 'building' && name === 'id') kind = 'building';
        else if (effect.type === 'population' && name === 'role') kind = 'role';
        if (kind && !seen.has(param)) {
          seen.add(param);
          specs.push({ kind, param });
        }
      }
      visit(effect.effects);
    }
  };
  visit(registry('actions')[actionId]?.effects);
  // The main choice first, the optional land last.
  const order = { development: 0, building: 0, role: 0, choices: 1, land: 2 };
  return specs.sort((a, b) => order[a.kind] - order[b.kind]);
}

/** The values a picker offers: `[{value, label, title}]`. */
function pickerChoices(spec, actionId) {
  const me = human();
  switch (spec.kind) {
    case 'development':
      return Object.entries(registry('developments'))
        .filter(([, d]) => !d.system)
        .map(([id]) => ({ value: id, label: named(developmentInfo(id)), title: developmentInfo(id).description }));
    case 'building':
      return Object.keys(registry('buildings'))
        .filter((id) => !me.buildings.includes(id))
        .map((id) => {
          const costs = app.info.costs.get(costKey(actionId, { [spec.param]: id }));
          return {
            value: id,
            label: `${named(buildingInfo(id))}${costs ? ` — ${describeCosts(costs)}` : ''}`,
            title: buildingInfo(id).description,
          };
        });
    case 'role':
      return Object.keys(registry('populations'))
        .map((id) => ({ value: id, label: named(roleInfo(id)), title: roleInfo(id).description }));
    case 'land':
      return [
        { value: '', label: 'First free land', title: '' },
        ...me.lands.map((land, index) => ({ land, index }))
          .filter(({ land }) => land.slotsUsed < land.slotsMax)
          .map(({ land, index }) => ({
            value: land.id,
            label: `${assetInfo('land').label} ${index + 1} (${land.slotsMax - land.slotsUsed} free)`,
            title: land.id,
          })),
      ];
    default:
      return [];
  }
}

/** The selected value of a picker, falling back to its first choice. */
function picked(actionId, spec) {
  const choices = pickerChoices(spec, actionId);
  const chosen = app.params[actionId]?.[spec.param];
  if (choices.some((choice) => choice.value === chosen)) return chosen;
  return choices[0]?.value;
}

function pickedOption(actionId, group) {
  const chosen = app.params[actionId]?.[`choice:${group.id}`];
  return group.options.some((o) => o.id === chosen) ? chosen : group.options[0]?.id;
}

/** The params sent with the action (and its cost query). */
function actionParams(actionId) {
  const params = {};
  for (const spec of paramSpecs(actionId)) {
    if (spec.kind === 'choices') {
      const groups = app.info.options.get(actionId) ?? [];
      if (groups.length) {
        params.choices = {};
        for (const group of groups) params.choices[group.id] = { optionId: pickedOption(actionId, group) };
      }
    } else {
      const value = picked(actionId, spec);
      if (value) params[spec.param] = value;
    }
  }
  return params;
}

function costKey(actionId, params) {
  return `${actionId}|${JSON.stringify(params)}`;
}

/** Actions the human can see: their unlocked ones, ordered by category and
 * order as the content says. */
function visibleActions() {
  const me = human();
  const actions = registry('actions');
  const categories = registry('actionCategories');
  const position = Object.keys(actions);
  return (me?.actions ?? [])
    .filter((id) => actions[id])
    .sort((a, b) => {
      const ca = categories[actions[a].category]?.order ?? 99;
      const cb = categories[actions[b].category]?.order ?? 99;
      if (ca !== cb) return ca - cb;
      const oa = actions[a].order ?? 99;
      const ob = actions[b].order ?? 99;
      return oa - ob || position.indexOf(a) - position.indexOf(b);
    });
}

/**
 * Fetches, for the current session version, each visible action's
 * requirements, options and cost (for the picked params, and per building so
 * the picker can show prices), then re-renders the action panel. Answers for
 * an older version are dropped.
 */
async function loadActionInfo() {
  if (!isHumanActionTurn()) return;
  const version = app.version;
  if (app.info.version !== version) {
    app.info = { version, costs: new Map(), requirements: new Map(), options: new Map(), errors: new Map() };
  }
  const info = app.info;
  const jobs = [];
  const once = (map, key, load) => {
    if (map.has(key)) return;
    map.set(key, null); // pending
    jobs.push(load().then(
      (value) => map.set(key, value),
      (error) => { map.delete(key); info.errors.set(key, error.message); },
    ));
  };
  const actionsPath = (id, suffix) => sessionPath(`/actions/${encodeURIComponent(id)}${suffix}`);
  for (const id of visibleActions()) {
    once(info.requirements, id, async () => (await api('POST', actionsPath(id, '/requirements'), {})).requirements ?? []);
    if (paramSpecs(id).some((spec) => spec.kind === 'choices')) {
      once(info.options, id, async () => (await api('GET', actionsPath(id, '/options'))).groups ?? []);
    }
  }
  await Promise.all(jobs.splice(0));
  if (app.info !== info) return;
  for (const id of visibleActions()) {
    const params = actionParams(id);
    once(info.costs, costKey(id, params), async () => (await api('POST', actionsPath(id, '/costs'), { params })).costs ?? {});
    for (const spec of paramSpecs(id).filter((s) => s.kind === 'building')) {
      for (const { value } of pickerChoices(spec, id)) {
        const only = { [spec.param]: value };
        once(info.costs, costKey(id, only), async () => (await api('POST', actionsPath(id, '/costs'), { params: only })).costs ?? {});
      }
    }
  }
  await Promise.all(jobs);
  if (app.info === info) renderActions();
}

/** Whether an action can be taken now, and if not, why. */
function availability(actionId) {
  const me = human();
  const key = costKey(actionId, actionParams(actionId));
  const error = app.info.errors.get(key) ?? app.info.errors.get(actionId);
  const costs = app.info.costs.get(key);
  const failures = app.info.requirements.get(actionId);
  for (const spec of paramSpecs(actionId)) {
    if (spec.kind !== 'land' && spec.kind !== 'choices' && !pickerChoices(spec, actionId).length) {
      const what = { development: 'development', building: 'building', role: 'role' }[spec.kind];
      return { costs, ok: false, reason: `No ${what} left to choose` };
    }
    if (spec.kind === 'land' && pickerChoices(spec, actionId).length <= 1) {
      return { costs, ok: false, reason: `No free ${assetInfo('slot').label.toLowerCase()} on your lands` };
    }
  }
  if (error) return { costs, ok: false, reason: error };
  if (failures === undefined || failures === null || costs === undefined || costs === null) {
    return { costs, ok: false, pending: true, reason: 'Checking…' };
  }
  if (failures.length) return { costs, ok: false, reason: describeRequirement(failures[0]) };
  for (const [resource, amount] of Object.entries(costs)) {
    const have = me.resources[resource] ?? 0;
    if (amount > have) {
      return { costs, ok: false, reason: `Needs ${fmtNumber(amount)} ${named(resourceInfo(resource))} (you have ${fmtNumber(have)})` };
    }
  }
  return { costs, ok: true, reason: '' };
}

// ---------------------------------------------------------------------------
// Rendering

function render() {
  const view = app.snapshot ? 'game' : document.body.dataset.view;
  document.body.dataset.view = view;
  $('#loading').hidden = true;
  if (view !== 'game') return;
  $('#start').hidden = true;
  $('#game').hidden = false;
  $('#to-start').hidden = false;
  $('#dev-badge').hidden = !game()?.devMode;
  const g = game();
  const gameEl = $('#game');
  gameEl.dataset.turn = String(g.turn);
  gameEl.dataset.phase = g.currentPhase;
  gameEl.dataset.step = g.currentStep;
  gameEl.dataset.active = g.activePlayerId;
  gameEl.dataset.session = app.sessionId;
  document.title = g.conclusion ? 'Game over · Kingdom Builder' : `Turn ${g.turn} · Kingdom Builder`;
  renderGameOver();
  renderStatus();
  renderBoard();
  renderActions();
  renderLog();
  // Live costs and requirements, once per session version.
  if (!app.busy && isHumanActionTurn() && app.info.version !== app.version) {
    loadActionInfo().catch(showError);
  }
}

function conclusionText(conclusion) {
  const condition = (app.snapshot?.rules?.winConditions ?? []).find((c) => c.id === conclusion.conditionId);
  const display = condition?.display ?? {};
  const winner = playerById(conclusion.winnerId);
  const youWon = conclusion.winnerId === human()?.id;
  const title = youWon ? '🏆 Victory!' : `☠️ Defeat — ${winner?.name ?? conclusion.winnerId} wins`;
  const loser = playerById(conclusion.loserId);
  const cause = `${display.icon ?? ''} ${display.title ?? conclusion.conditionId}`.trim();
  const text = `${cause}: ${display.description ?? ''} (${loser?.id === human()?.id ? 'you' : loser?.name ?? conclusion.loserId} lost)`;
  return { title, text, youWon };
}

function renderGameOver() {
  const el = $('#game-over');
  const conclusion = game()?.conclusion;
  el.hidden = !conclusion;
  el.replaceChildren();
  if (!conclusion) return;
  const { title, text, youWon } = conclusionText(conclusion);
  el.className = `game-over ${youWon ? 'won' : 'lost'}`;
  el.dataset.condition = conclusion.conditionId;
  el.dataset.winner = conclusion.winnerId;
  appendChildren(el, [
    h('h2', {}, title),
    h('p', {}, text),
    h('button', { type: 'button', class: 'primary', onclick: () => { clearError(); showStart(); } }, 'Start a new game'),
  ]);
}

function renderStatus() {
  const el = $('#status');
  if (!el || !app.snapshot) return;
  const g = game();
  const active = playerById(g.activePlayerId);
  const phase = phaseInfo(g.currentPhase);
  const step = stepInfo(g.currentPhase, g.currentStep);
  const track = (app.snapshot.phases ?? []).map((p, index) => h('li', {
    class: index === g.phaseIndex ? 'current' : index < g.phaseIndex ? 'done' : '',
  }, named(phaseInfo(p.id))));
  let message;
  if (g.conclusion) message = 'The game is over.';
  else if (app.busy) message = app.busyText || 'Working…';
  else if (isHumanActionTurn()) message = 'Your move: choose actions, then end your turn.';
  else message = `Waiting for ${active?.name ?? g.activePlayerId}.`;
  const stuck = !g.conclusion && !app.busy && !isHumanActionTurn();
  fill(el,
    h('div', { class: 'turn' },
      h('span', { id: 'turn', class: 'turn-number' }, `Turn ${g.turn}`),
      g.conclusion
        ? h('span', { id: 'active-player', class: 'who' }, 'Game over')
        : h('span', { id: 'active-player', class: active?.aiControlled ? 'who ai' : 'who you' },
          active?.aiControlled ? `${active.name}'s turn` : 'Your turn'),
      h('span', { id: 'phase', class: 'phase' }, `${named(phase)} · ${step.icon ? `${step.icon} ` : ''}${step.label}`)),
    h('ol', { class: 'phase-track' }, track),
    h('p', { id: 'status-text', class: app.busy ? 'busy' : '' }, message),
    stuck ? h('button', { id: 'continue', type: 'button', onclick: () => { clearError(); drive(); } }, 'Continue ▶') : null,
  );
}

function renderBoard() {
  const board = $('#board');
  const me = human();
  const ordered = [me, ...players().filter((p) => p !== me)];
  fill(board, ordered.map(renderPlayer));
}

function renderPlayer(player) {
  const g = game();
  const isActive = g.activePlayerId === player.id && !g.conclusion;
  const tieredKey = app.snapshot.rules?.tieredResourceKey;
  const resources = Object.entries(player.resources).map(([key, value]) => {
    const info = resourceInfo(key);
    const tier = key === tieredKey ? tierFor(value) : null;
    return h('li', { class: 'resource', title: info.description, dataset: { resource: key } },
      h('span', { class: 'icon', 'aria-hidden': 'true' }, info.icon),
      h('span', { class: 'label' }, info.label),
      h('strong', { class: 'value' }, fmtNumber(value)),
      tier ? h('span', { class: 'tier', title: tier.summary, dataset: { tier: tier.id } }, `${tier.icon} ${tier.label}`) : null);
  });
  const stats = Object.entries(player.stats).map(([key, value]) => {
    const info = statInfo(key);
    const quiet = !value && !player.statsHistory?.[key];
    return h('li', { class: quiet ? 'stat quiet' : 'stat', title: info.description, dataset: { stat: key } },
      h('span', { class: 'icon', 'aria-hidden': 'true' }, info.icon),
      h('span', { class: 'label' }, info.label),
      h('strong', { class: 'value' }, fmtStat(key, value)));
  });
  const total = Object.values(player.population).reduce((a, b) => a + b, 0);
  const people = Object.entries(player.population).map(([role, count]) => {
    const info = roleInfo(role);
    return h('li', { class: count ? 'role' : 'role quiet', title: info.description, dataset: { role } },
      h('span', { class: 'icon', 'aria-hidden': 'true' }, info.icon),
      h('span', { class: 'label' }, info.label),
      h('strong', { class: 'value' }, String(count)));
  });
  const lands = player.lands.map((land, index) => {
    const slots = [];
    for (let i = 0; i < land.slotsMax; i += 1) {
      const dev = land.developments[i];
      const info = dev ? developmentInfo(dev) : null;
      slots.push(h('li', { class: dev ? 'slot filled' : 'slot', title: info ? `${info.label}: ${info.description}` : 'Free slot' },
        info ? h('span', { class: 'icon' }, info.icon) : null,
        h('span', { class: 'label' }, info ? info.label : 'free')));
    }
    // Developments beyond the slot count (possible with custom content).
    for (const dev of land.developments.slice(land.slotsMax)) {
      slots.push(h('li', { class: 'slot filled' }, named(developmentInfo(dev))));
    }
    return h('li', { class: land.tilled ? 'land tilled' : 'land', dataset: { land: land.id } },
      h('div', { class: 'land-name' }, `${assetInfo('land').icon} ${assetInfo('land').label} ${index + 1}`, land.tilled ? h('span', { class: 'muted' }, ' · tilled') : null),
      h('ul', { class: 'slots' }, slots));
  });
  const buildings = player.buildings.map((id) => {
    const info = buildingInfo(id);
    return h('li', { class: 'chip', title: info.description, dataset: { building: id } }, named(info));
  });
  const passives = (player.passives ?? []).filter((p) => !isHoldingPassive(p)).map((p) => {
    const tierSummary = (app.snapshot.rules?.tierDefinitions ?? [])
      .find((t) => t.display?.summaryToken && t.display.summaryToken === p.detail)?.display?.summary;
    const detail = tierSummary ?? (p.detail && p.detail.includes(' ') ? p.detail : '');
    const title = [detail, p.meta?.removal?.text].filter(Boolean).join(' — ');
    return h('li', { class: 'chip passive', title }, [p.icon, p.name ?? p.id].filter(Boolean).join(' '));
  });
  const section = (title, content, extra = null) => h('section', { class: 'part' }, h('h3', {}, title, extra), content);
  return h('article', { class: `card player${isActive ? ' active' : ''}`, id: `player-${player.id}`, dataset: { player: player.id } },
    h('header', { class: 'player-head' },
      h('h2', {}, player.aiControlled ? '🤖 ' : '🧑 ', displayName(player)),
      isActive ? h('span', { class: 'badge active-badge' }, 'Playing') : null),
    h('ul', { class: 'resources' }, resources),
    section('Stats', h('ul', { class: 'stats' }, stats)),
    section(named(assetInfo('population')), h('ul', { class: 'people' }, people),
      h('span', { class: 'muted' }, ` ${total} / ${fmtNumber(player.stats.maxPopulation ?? total)}`)),
    section('Lands', h('ul', { class: 'lands' }, lands)),
    section('Buildings', buildings.length ? h('ul', { class: 'chips' }, buildings) : h('p', { class: 'muted' }, 'None yet')),
    section('Active effects', passives.length ? h('ul', { class: 'chips' }, passives) : h('p', { class: 'muted' }, 'None')));
}

function renderActions() {
  const el = $('#actions');
  if (!el || !app.snapshot) return;
  const g = game();
  if (g.conclusion) {
    fill(el, h('h2', {}, 'Actions'), h('p', { class: 'muted' }, 'The game is over.'));
    return;
  }
  if (!isHumanActionTurn()) {
    fill(el, h('h2', {}, 'Actions'), h('p', { class: 'muted' }, `${playerById(g.activePlayerId)?.name ?? 'The other player'} is playing…`));
    return;
  }
  const me = human();
  const ap = me.resources[apKey()] ?? 0;
  const apInfo = resourceInfo(apKey());
  const endLabel = ap > 0 ? `End turn (${fmtNumber(ap)} ${apInfo.icon} unspent will be lost)` : 'End turn';
  const categories = registry('actionCategories');
  const groups = new Map();
  for (const id of visibleActions()) {
    const category = registry('actions')[id].category ?? 'other';
    if (!groups.has(category)) groups.set(category, []);
    groups.get(category).push(id);
  }
  const sections = [...groups].map(([category, ids]) => {
    const c = categories[category] ?? { title: category };
    return h('section', { class: 'category' },
      h('h3', { title: c.description ?? '' }, [c.icon, c.title].filter(Boolean).join(' ')),
      h('ul', { class: 'action-list' }, ids.map(renderAction)));
  });
  fill(el,
    h('div', { class: 'actions-head' },
      h('h2', {}, 'Actions'),
      h('span', { class: 'ap' }, `${apInfo.icon} ${fmtNumber(ap)} ${apInfo.label} left`),
      h('button', { id: 'end-turn', type: 'button', class: ap > 0 ? '' : 'primary', disabled: app.busy, onclick: endTurn }, endLabel)),
    sections,
  );
}

function renderAction(actionId) {
  const info = actionInfo(actionId);
  const state = availability(actionId);
  const pickers = [];
  for (const spec of paramSpecs(actionId)) {
    if (spec.kind === 'choices') {
      for (const group of app.info.options.get(actionId) ?? []) {
        const selected = pickedOption(actionId, group);
        pickers.push(h('label', { class: 'picker' },
          h('span', {}, group.title ?? group.id),
          h('select', {
            dataset: { param: `choice:${group.id}`, for: actionId },
            disabled: app.busy,
            onchange: (event) => pick(actionId, `choice:${group.id}`, event.target.value),
          }, group.options.map((o) => h('option', { value: o.id, selected: o.id === selected, title: o.summary ?? o.description ?? '' },
            [o.icon, o.label ?? o.id].filter(Boolean).join(' '))))));
      }
      continue;
    }
    const choices = pickerChoices(spec, actionId);
    if (!choices.length) continue;
    const selected = picked(actionId, spec);
    const caption = { development: 'Development', building: 'Building', role: 'Role', land: 'On' }[spec.kind];
    pickers.push(h('label', { class: 'picker' },
      h('span', {}, caption),
      h('select', {
        dataset: { param: spec.param, for: actionId },
        disabled: app.busy,
        onchange: (event) => pick(actionId, spec.param, event.target.value),
      }, choices.map((c) => h('option', { value: c.value, selected: c.value === selected, title: c.title ?? '' }, c.label)))));
  }
  const costText = state.costs ? describeCosts(state.costs) : '…';
  return h('li', { class: `action${state.ok ? '' : ' unavailable'}`, dataset: { actionCard: actionId } },
    h('div', { class: 'action-head' },
      h('span', { class: 'action-name' }, named(info)),
      h('span', { class: 'cost', title: 'Cost' }, costText)),
    info.description ? h('p', { class: 'description' }, info.description) : null,
    pickers.length ? h('div', { class: 'pickers' }, pickers) : null,
    h('div', { class: 'action-foot' },
      state.ok ? null : h('span', { class: 'reason' }, state.reason),
      h('button', {
        type: 'button',
        class: 'primary small',
        dataset: { action: actionId },
        disabled: app.busy || !state.ok,
        title: state.ok ? info.description : state.reason,
        onclick: () => perform(actionId),
      }, info.label)));
}

function pick(actionId, param, value) {
  app.params[actionId] = { ...(app.params[actionId] ?? {}), [param]: value };
  renderActions();
  loadActionInfo().catch(showError);
}

function renderLog() {
  const list = $('#log');
  const me = human()?.id;
  fill(list, app.log.map((entry) => {
    const mine = entry.who && entry.who === me;
    const cls = ['entry', entry.kind, entry.who ? (mine ? 'by-you' : 'by-other') : ''].filter(Boolean).join(' ');
    return h('li', { class: cls },
      h('div', { class: 'entry-title' }, entry.title),
      entry.details?.length ? h('div', { class: 'entry-details' }, entry.details.join(' · ')) : null);
  }));
  list.scrollTop = list.scrollHeight;
}

function renderOverview() {
  const overview = meta().overview;
  const el = $('#overview');
  if (!overview?.hero) return;
  const tokens = overview.hero.tokens ?? {};
  const sections = (overview.sections ?? []).map((section) => h('section', { class: 'overview-section' },
    h('h3', {}, `${iconOf(section.icon)} ${section.title ?? ''}`.trim()),
    section.kind === 'list'
      ? h('ul', {}, (section.items ?? []).map((item) => h('li', {},
        h('strong', {}, `${iconOf(item.icon)} ${item.label ?? ''}`.trim()), ' ',
        (item.body ?? []).map((line) => fillTokens(line, tokens)).join(' '))))
      : (section.paragraphs ?? []).map((p) => h('p', {}, fillTokens(p, tokens)))));
  fill(el,
    h('h2', {}, `${overview.hero.badgeIcon ?? ''} ${overview.hero.title ?? 'How to play'}`.trim()),
    overview.hero.intro ? h('p', { class: 'intro' }, fillTokens(overview.hero.intro, tokens)) : null,
    overview.hero.paragraph ? h('p', {}, fillTokens(overview.hero.paragraph, tokens)) : null,
    sections);
  el.hidden = false;
}

// ---------------------------------------------------------------------------
// Start screen and session lifecycle

function showStart() {
  document.body.dataset.view = 'start';
  $('#loading').hidden = true;
  $('#game').hidden = true;
  $('#start').hidden = false;
  $('#to-start').hidden = true;
  $('#dev-badge').hidden = true;
  // Back to the loaded game, or retry loading the saved one (say, after
  // fixing the token).
  $('#resume').hidden = !(app.snapshot || storage.get(STORE.session));
  $('#resume').textContent = app.snapshot ? 'Back to your game' : 'Resume saved game';
  $('#token').value = app.token;
  $('#player-name').value = storage.get(STORE.name) ?? '';
  $('#dev-mode').checked = storage.get(STORE.devMode) === 'true';
  $('#player-name').focus();
}

function showGame() {
  clearError();
  document.body.dataset.view = 'game';
  $('#start').hidden = true;
  render();
  loadActionInfo().catch(showError);
}

async function newGame(event) {
  event?.preventDefault();
  if (app.busy) return;
  clearError();
  saveToken();
  const name = $('#player-name').value.trim();
  const devMode = $('#dev-mode').checked;
  storage.set(STORE.name, name);
  storage.set(STORE.devMode, String(devMode));
  const body = { devMode };
  setBusy(true, 'Creating the game…');
  try {
    // The human's seat is A: the seat the AI does not play by default.
    if (name) body.playerNames = { A: name };
    const data = await api('POST', '/sessions', body);
    // Only the current game is resumable: drop the last one's chronicle.
    if (app.sessionId) storage.set(STORE.log(app.sessionId), null);
    app.sessionId = data.sessionId;
    app.version = null;
    app.params = {};
    app.info = { version: null, costs: new Map(), requirements: new Map(), options: new Map(), errors: new Map() };
    applyState(data);
    storage.set(STORE.session, app.sessionId);
    app.log = [];
    addLog({ kind: 'info', title: `New game${devMode ? ' (dev mode)' : ''}: ${players().map(displayName).join(' vs ')}` });
    noteTurn();
  } catch (error) {
    setBusy(false);
    showError(error);
    return;
  }
  setBusy(false);
  showGame();
  await drive();
}

function saveToken() {
  app.token = $('#token').value.trim() || DEFAULT_TOKEN;
  storage.set(STORE.token, app.token);
}

/** Resumes the stored game, if any; answers whether it could. */
async function resume() {
  const sessionId = storage.get(STORE.session);
  if (!sessionId) return false;
  app.sessionId = sessionId;
  try {
    await refresh();
  } catch (error) {
    app.snapshot = null;
    if (error.status === 404) {
      storage.set(STORE.session, null);
      showError(new ApiError(404, null, `Your last game (${sessionId}) is no longer on the server. Start a new one.`));
    } else {
      showError(error);
    }
    return false;
  }
  app.log = loadLog(sessionId);
  noteTurn();
  addLog({ kind: 'info', title: 'Game resumed' });
  return true;
}

async function resumeClicked() {
  if (app.busy) return;
  clearError();
  if (!app.snapshot) {
    saveToken();
    setBusy(true, 'Loading your game…');
    const resumed = await resume();
    setBusy(false);
    if (!resumed) {
      showStart();
      return;
    }
  }
  showGame();
  await drive();
}

async function boot() {
  app.token = storage.get(STORE.token) || DEFAULT_TOKEN;
  $('#start-form').addEventListener('submit', newGame);
  $('#token').addEventListener('change', saveToken);
  $('#resume').addEventListener('click', resumeClicked);
  $('#to-start').addEventListener('click', () => {
    clearError();
    showStart();
  });
  $('#notice-close').addEventListener('click', clearError);
  // Keep a rejected promise or a bug from passing silently.
  window.addEventListener('unhandledrejection', (event) => showError(event.reason));
  window.addEventListener('error', (event) => showError(event.error ?? event.message));

  // The server's default content: names and icons for the start screen.
  api('GET', '/metadata').then((data) => {
    app.defaults = data;
    renderOverview();
  }).catch(() => {});
  const resumed = await resume();
  setBusy(false);
  if (resumed) {
    showGame();
    await drive();
  } else {
    showStart();
    if (!$('#notice').hidden && /access/.test($('#notice-text').textContent)) $('#access').open = true;
  }
}

boot().catch(showError);
