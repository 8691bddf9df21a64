// Playing: the moves a player makes and what the page does with the
// answers. Each move is at most two requests in steady play:
//
// - an action: `POST .../actions`, then `GET .../forecast` for the numbers
//   of the next click;
// - End turn: `POST .../proceed`, which ends the turn, plays the AI's turn
//   and the next growth and upkeep, and answers with every step and the
//   next forecast; the AI's turn is then played back frame by frame.
//
// Every change goes into `state` through `update()`.

import {
  state, update, storage, STORE, DEFAULT_TOKEN, game, players, playerById, human, isHumanTurn, isLive, apKey, forecast, currentPhase,
} from './state.js';
import { api, sessionPath, ApiError } from './api.js';
import { follow, stop as stopFollowing } from './live.js';
import { describeEvent } from './views/chronicle.js';
import {
  actionInfo, conclusionText, deltaBetween, describeAttacks, describeCosts, describeDelta, fmtNumber,
  named, phaseInfo, resourceInfo, resourceParts, sourceName,
} from './content.js';

const LOG_LIMIT = 300;
/** How long one frame of the AI's turn stays, by setting. */
const FRAME_MS = { step: 1100, fast: 250, off: 0 };

// ---------------------------------------------------------------------------
// State from answers

function applyState(data) {
  // In a live game the stream may already have brought a later state.
  if (isLive() && typeof data.version === 'number' && data.version < (state.version ?? 0)) return;
  const patch = {};
  if (data.snapshot) patch.snapshot = data.snapshot;
  if (data.sessionId) patch.aiLevel = data.aiLevel ?? 'easy';
  if (data.registries) patch.registries = data.registries;
  if (data.snapshot?.metadata) patch.metadata = data.snapshot.metadata;
  if (typeof data.version === 'number') patch.version = data.version;
  if (data.forecast) patch.forecast = { ...data.forecast, version: data.version };
  update(patch);
}

async function loadForecast() {
  const data = await api('GET', sessionPath('/forecast'));
  update({ forecast: data });
}

function setBusy(busy, busyText = '') {
  update({ busy, busyText: busy ? busyText : '' });
}

export function showError(error) {
  const message = error instanceof ApiError ? error.message : `Something went wrong: ${error?.message ?? error}`;
  if (!(error instanceof ApiError)) console.error(error);
  update({ notice: message });
}

export function clearError() {
  update({ notice: null });
}

/** After a failure: read the game again so the page shows what is true. */
async function recover(error) {
  showError(error);
  try {
    applyState(await api('GET', sessionPath('/snapshot')));
    await loadForecast();
  } catch { /* the notice already says what is wrong */ }
}

// ---------------------------------------------------------------------------
// The chronicle

export function addLog(entry) {
  state.log.push({ turn: game()?.turn ?? 0, ...entry });
  if (state.log.length > LOG_LIMIT) state.log.splice(0, state.log.length - LOG_LIMIT);
  if (state.sessionId) storage.set(STORE.log(state.sessionId), JSON.stringify(state.log));
  update();
}

function noteTurn() {
  const turn = game()?.turn;
  if (turn === undefined) return;
  const last = [...state.log].reverse().find((entry) => entry.kind === 'turn');
  if (!last || last.turn !== turn) addLog({ kind: 'turn', title: `Turn ${turn}` });
}

function noteConclusion() {
  const conclusion = game()?.conclusion;
  if (!conclusion || state.log.some((entry) => entry.kind === 'end')) return;
  const { title, cause } = conclusionText(conclusion);
  addLog({ kind: 'end', title, details: [cause, ...shortfallLines()] });
}

function loadLog(sessionId) {
  try {
    const saved = JSON.parse(storage.get(STORE.log(sessionId)) ?? '[]');
    return Array.isArray(saved) ? saved : [];
  } catch {
    return [];
  }
}

/** "Upkeep asked for 3 🪙 (⚖️ Council ×1: 2, 🎖️ Legion ×1: 1); you had 2 🪙." */
export function shortfallLines(shortfall = forecast()?.conclusion?.shortfall) {
  if (!shortfall) return [];
  const icon = resourceInfo(shortfall.key).icon || resourceInfo(shortfall.key).label;
  const who = shortfall.playerId === human()?.id ? 'you' : playerById(shortfall.playerId)?.name ?? shortfall.playerId;
  const sources = (shortfall.sources ?? []).map((s) => `${sourceName(s.source)}: ${fmtNumber(s.amount)}`);
  return [`Upkeep asked for ${fmtNumber(shortfall.due)} ${icon}${sources.length ? ` (${sources.join(', ')})` : ''}; ${who} had ${fmtNumber(shortfall.available)} ${icon}.`];
}

// ---------------------------------------------------------------------------
// Moves

/** Performs one action (asks first when the forecast says it bankrupts). */
export async function perform(actionId, candidate, { confirmed = false } = {}) {
  if (state.busy || state.playback) return;
  if (!confirmed && candidate?.outlook?.bankrupt) {
    update({ dialog: { kind: 'confirm', what: 'action', actionId, candidate } });
    return;
  }
  clearError();
  const params = candidate?.params ?? {};
  const before = state.snapshot;
  setBusy(true, `${actionInfo(actionId).label}…`);
  try {
    const body = isLive() ? { actionId, params, playerId: state.seat } : { actionId, params };
    const data = await api('POST', sessionPath('/actions'), body, { write: true });
    applyState(data);
    // A live game's chronicle comes from the event stream.
    if (isLive()) return;
    const me = human();
    const details = players().flatMap((p) => {
      const changes = describeDelta(deltaBetween(before?.game?.players?.find((q) => q.id === p.id), p));
      return changes.length ? [`${p.id === me.id ? 'You' : p.name}: ${changes.join(', ')}`] : [];
    });
    details.push(...describeAttacks(data.snapshot?.metadata?.effectLogs?.['attack:perform'], 'You'));
    addLog({ kind: 'action', who: me.id, title: `You: ${named(actionInfo(actionId))} (paid ${describeCosts(data.costs)})`, details });
    await loadForecast();
  } catch (error) {
    addLog({ kind: 'error', title: `${named(actionInfo(actionId))} failed`, details: [error.message] });
    await recover(error);
  } finally {
    setBusy(false);
    if (isLive()) await settleLive();
  }
  afterMove();
  keepFocus(`button[data-action="${actionId}"]`);
}

/** After a request, a keyboard user's focus goes back where it was, or to
 * End turn when that control can no longer be used. */
function keepFocus(css) {
  queueMicrotask(() => {
    const active = document.activeElement;
    if (active && active !== document.body) return;
    const target = [document.querySelector(css), document.querySelector('#end-turn')].find((e) => e && !e.disabled);
    target?.focus({ preventScroll: true });
  });
}

/** Ends the human's turn (asks first when the forecast says it bankrupts). */
export async function endTurn({ confirmed = false } = {}) {
  if (state.busy || state.playback) return;
  if (!confirmed && forecast()?.endTurn?.bankrupt) {
    update({ dialog: { kind: 'confirm', what: 'endTurn' } });
    return;
  }
  clearError();
  if (isLive()) await endLiveTurn();
  else await proceed('Ending the turn…');
}

/**
 * `POST .../proceed`: the server moves the game on to the human's next
 * decision; the steps it took become the chronicle and the playback.
 */
async function proceed(text) {
  const before = state.snapshot;
  const opponentName = players().find((p) => p.aiControlled)?.name;
  const level = state.aiLevel ? ` (${state.aiLevel})` : '';
  setBusy(true, opponentName ? `${text} ${opponentName}${level} is thinking…` : text);
  let frames = [];
  try {
    const data = await api('POST', sessionPath('/proceed'), undefined, { write: true });
    frames = chronicle(before, data);
    applyState(data);
  } catch (error) {
    await recover(error);
  } finally {
    setBusy(false);
  }
  if (frames.length && state.prefs.playback !== 'off') startPlayback(frames);
  else afterMove();
}

/** Called when a move and its playback are over. */
function afterMove() {
  noteTurn();
  noteConclusion();
  if (game()?.conclusion && !state.dialog) update({ dialog: { kind: 'gameover' } });
  update();
}

export async function rename(name) {
  const me = human();
  if (!me || state.busy) return;
  setBusy(true, 'Renaming…');
  try {
    applyState(await api('PATCH', sessionPath('/player'), { playerId: me.id, playerName: name }, { write: true }));
    addLog({ kind: 'info', title: `You are now ${name}` });
    update({ dialog: null });
    await loadForecast();
  } catch (error) {
    showError(error);
  } finally {
    setBusy(false);
  }
}

// ---------------------------------------------------------------------------
// The steps of a turn: chronicle entries and playback frames

const isActionPhase = (phaseId) => Boolean(state.snapshot?.phases?.find((p) => p.id === phaseId)?.action);
const replaceSeat = (seats, snapshot) => seats.map((p) => (p.id === snapshot.id ? snapshot : p));

/** Resource changes of a run of advances of one player, by phase. */
function phaseSummary(startPlayer, advances) {
  const lines = [];
  let previous = startPlayer;
  const byPhase = new Map();
  for (const advance of advances) {
    if (advance.skipped) {
      const sources = (advance.skipped.sources ?? []).map((s) => s.meta?.source?.name ?? s.detail ?? s.id).join(', ');
      const what = advance.skipped.type === 'phase' ? named(phaseInfo(advance.phase)) : advance.skipped.stepId;
      lines.push(`${what} skipped${sources ? ` (${sources})` : ''}`);
    }
    const delta = deltaBetween(previous, advance.player).resources;
    previous = advance.player;
    const sum = byPhase.get(advance.phase) ?? {};
    for (const [key, amount] of Object.entries(delta)) sum[key] = (sum[key] ?? 0) + amount;
    byPhase.set(advance.phase, sum);
  }
  for (const [phase, sum] of byPhase) {
    const parts = resourceParts(sum);
    if (parts.length) lines.push(`${named(phaseInfo(phase))}: ${parts.join(' ')}`);
  }
  return lines;
}

/** Turns a `proceed` answer into chronicle entries and playback frames. */
function chronicle(before, data) {
  const steps = data.steps ?? [];
  const finalPlayers = data.snapshot.game.players;
  const me = human();
  let shown = before?.game?.players ?? finalPlayers;
  const frames = [];
  let mine = [];
  const flushMine = () => {
    if (!mine.length) return;
    const start = shown.find((p) => p.id === me.id);
    const lines = phaseSummary(start, mine);
    shown = replaceSeat(shown, mine[mine.length - 1].player);
    if (lines.length) {
      const turn = data.snapshot.game.turn;
      if (!state.log.some((entry) => entry.kind === 'turn' && entry.turn === turn)) addLog({ kind: 'turn', turn, title: `Turn ${turn}` });
      addLog({ kind: 'step', who: me.id, turn, title: 'Your income and upkeep', details: lines });
      frames.push({ title: `Your turn ${data.snapshot.game.turn} begins`, lines, players: shown });
    }
    mine = [];
  };
  for (const step of steps) {
    if (step.type === 'advance') {
      const acting = step.playerId;
      if (isActionPhase(step.advance.phase)) {
        flushMine();
        const lost = deltaBetween(shown.find((p) => p.id === acting), step.advance.player).resources?.[apKey()];
        shown = replaceSeat(shown, step.advance.player);
        if (acting === me.id) {
          const ap = resourceInfo(apKey());
          addLog({ kind: 'step', who: acting, title: 'You ended the turn', details: lost ? [`${fmtNumber(-lost)} ${ap.icon} ${ap.label} unspent, lost`] : [] });
        }
      } else if (acting === me.id) {
        mine.push(step.advance);
      } else {
        shown = replaceSeat(shown, step.advance.player);
      }
    } else if (step.type === 'aiTurn') {
      flushMine();
      shown = aiTurnFrames(step, shown, frames);
    }
  }
  flushMine();
  if (frames.length) frames[frames.length - 1].players = finalPlayers;
  return frames;
}

/** Frames and chronicle entries of one AI turn; returns the seats after. */
function aiTurnFrames(step, shown, frames) {
  const ai = playerById(step.playerId) ?? { name: step.playerId };
  const name = ai.name;
  const title = `🤖 ${name}'s turn`;
  const advances = step.advances ?? [];
  const before = advances.filter((a) => !isActionPhase(a.phase));
  const after = advances.filter((a) => isActionPhase(a.phase));
  const startSeat = shown.find((p) => p.id === step.playerId);
  const growth = phaseSummary(startSeat, before);
  if (before.length) shown = replaceSeat(shown, before[before.length - 1].player);
  frames.push({ title, subtitle: 'Growth and upkeep', lines: growth.length ? growth : ['No change'], players: shown });
  const details = [...growth];
  const actions = step.actions ?? [];
  actions.forEach((action, index) => {
    const info = named(actionInfo(action.actionId));
    const lines = [`Paid ${describeCosts(action.costs)}`];
    let seats = shown;
    if (action.players) {
      seats = action.players;
      for (const seat of seats) {
        const changes = describeDelta(deltaBetween(shown.find((p) => p.id === seat.id), seat));
        const who = seat.id === step.playerId ? name : seat.id === human()?.id ? 'You' : seat.name;
        if (changes.length) lines.push(`${who}: ${changes.join(', ')}`);
      }
    }
    lines.push(...describeAttacks(action.attackLogs, name));
    frames.push({ title, subtitle: `${index + 1}/${actions.length}: ${info}`, action: action.actionId, lines, players: seats });
    details.push(`${info}: ${lines.slice(1).join('; ') || describeCosts(action.costs)}`);
    shown = seats;
  });
  if (!actions.length) {
    const reason = noActionReason(before);
    frames.push({ title, subtitle: `${name} took no action`, lines: [reason], players: shown });
    details.push(`No action: ${reason}`);
  }
  if (after.length) shown = replaceSeat(shown, after[after.length - 1].player);
  const played = actions.length ? `played ${groupActions(actions)}` : 'took no action';
  addLog({ kind: 'ai', who: step.playerId, title: `🤖 ${name} ${played}`, details });
  return shown;
}

function groupActions(actions) {
  const counts = [];
  for (const action of actions) {
    const last = counts[counts.length - 1];
    if (last && last.id === action.actionId) last.n += 1;
    else counts.push({ id: action.actionId, n: 1 });
  }
  return counts.map(({ id, n }) => `${named(actionInfo(id))}${n > 1 ? ` ×${n}` : ''}`).join(', ');
}

/** Why an AI seat did not act: no action points (and why), or its choice. */
function noActionReason(advances) {
  const ap = resourceInfo(apKey());
  const last = advances[advances.length - 1];
  const left = last?.player?.resources?.[apKey()] ?? 0;
  const skips = advances.filter((a) => a.skipped).map((a) => {
    const sources = (a.skipped.sources ?? []).map((s) => s.meta?.source?.name ?? s.id).join(', ');
    return `${named(phaseInfo(a.phase))} skipped${sources ? ` (${sources})` : ''}`;
  });
  if (left <= 0) return `No ${ap.icon} ${ap.label}${skips.length ? `: ${[...new Set(skips)].join('; ')}` : ''}.`;
  return `It had ${fmtNumber(left)} ${ap.icon} and chose to keep it.`;
}

// ---------------------------------------------------------------------------
// Playback

let timer = null;

function startPlayback(frames) {
  update({ playback: { frames, index: 0 } });
  schedule();
  // Bring it into view (on a phone the page may be scrolled down) and give
  // the keyboard its Skip button.
  queueMicrotask(() => {
    const panel = document.querySelector('#playback');
    panel?.scrollIntoView({ block: 'nearest' });
    if (!panel?.contains(document.activeElement)) document.querySelector('#skip-playback')?.focus({ preventScroll: true });
  });
}

function schedule() {
  clearTimeout(timer);
  const ms = FRAME_MS[state.prefs.playback] ?? FRAME_MS.step;
  timer = setTimeout(nextFrame, ms);
}

export function nextFrame() {
  const playback = state.playback;
  if (!playback) return;
  if (playback.index + 1 >= playback.frames.length) {
    skipPlayback();
    return;
  }
  update({ playback: { ...playback, index: playback.index + 1 } });
  schedule();
}

/** Ends the playback at once (the board shows the state reached). */
export function skipPlayback() {
  clearTimeout(timer);
  if (!state.playback) return;
  update({ playback: null });
  afterMove();
  // Back to where the player acts.
  queueMicrotask(() => document.querySelector('#end-turn')?.focus({ preventScroll: true }));
}

// ---------------------------------------------------------------------------
// Sessions

export async function newGame({ name, devMode, aiLevel }) {
  if (state.busy) return;
  clearError();
  storage.set(STORE.name, name);
  storage.set(STORE.devMode, String(devMode));
  if (aiLevel) storage.set(STORE.aiLevel, aiLevel);
  setBusy(true, 'Creating the game…');
  let data;
  try {
    const body = { devMode };
    if (name) body.playerNames = { A: name };
    if (aiLevel) body.aiLevel = aiLevel;
    data = await api('POST', '/sessions', body);
  } catch (error) {
    setBusy(false);
    showError(error);
    return;
  }
  if (state.sessionId) storage.set(STORE.log(state.sessionId), null);
  storage.set(STORE.session, data.sessionId);
  leaveLive();
  update({ sessionId: data.sessionId, version: null, selection: {}, forecast: null, log: [], dialog: null, view: 'game' });
  applyState(data);
  addLog({ kind: 'info', title: `New game${devMode ? ' (dev mode)' : ''}: ${players().map((p) => p.name).join(' vs ')} (${state.aiLevel} AI)` });
  noteTurn();
  setBusy(false);
  await proceed('Starting…');
}

/** Loads the saved game; answers whether it could. */
export async function resume() {
  const sessionId = storage.get(STORE.session);
  if (!sessionId) return false;
  leaveLive();
  update({ sessionId, ...seatRecord(sessionId) });
  try {
    applyState(await api('GET', sessionPath('/snapshot')));
  } catch (error) {
    update({ snapshot: null });
    if (error.status === 404) {
      storage.set(STORE.session, null);
      showError(new ApiError(404, null, `Your last game (${sessionId}) is no longer on the server. Start a new one.`));
    } else {
      showError(error);
    }
    return false;
  }
  update({ log: loadLog(sessionId), view: 'game' });
  noteTurn();
  addLog({ kind: 'info', title: 'Game resumed' });
  if (isLive()) startFollowing(state.version);
  return true;
}

/** Brings a loaded game to where the human decides (or shows its end). */
export async function settle() {
  if (isLive()) return settleLive();
  try {
    if (isHumanTurn() || game()?.conclusion) {
      setBusy(true, 'Loading…');
      await loadForecast();
      setBusy(false);
      afterMove();
    } else {
      await proceed('Catching up…');
    }
  } catch (error) {
    setBusy(false);
    showError(error);
  }
}

export function saveToken(token) {
  const value = token.trim() || DEFAULT_TOKEN;
  storage.set(STORE.token, value);
  update({ token: value });
}

// ---------------------------------------------------------------------------
// Live games: two humans, each on their own page, and spectators. Every
// change reaches each page through the event stream (live.js), which also
// writes the chronicle; a page writes only for its own seat: its actions,
// the end of its turn, and the growth and upkeep steps of its own turn.

/** This browser's seat in a session: `{mode, seat, credential, owner}`. */
function seatRecord(sessionId) {
  try {
    const saved = JSON.parse(storage.get(STORE.seat(sessionId)) ?? 'null');
    if (saved && (saved.mode === 'friend' || saved.mode === 'watch')) {
      return { mode: saved.mode, seat: saved.seat ?? null, credential: saved.credential ?? null, owner: Boolean(saved.owner) };
    }
  } catch { /* a damaged record: the token's view of the game */ }
  return { mode: 'ai', seat: null, credential: null, owner: false };
}

/** Stops following a live game (another game or the start screen). */
function leaveLive() {
  stopFollowing();
  update({ mode: 'ai', seat: null, credential: null, owner: false, seats: null, invites: {}, replay: null });
}

/** Opens a live game from its first answer (creation, or a snapshot). */
function enterLive(sessionId, record, data) {
  leaveLive();
  storage.set(STORE.seat(sessionId), JSON.stringify(record));
  storage.set(STORE.session, sessionId);
  update({ sessionId, ...record, version: null, selection: {}, forecast: null, log: loadLog(sessionId), dialog: null, notice: null, view: 'game' });
  applyState(data);
  noteTurn();
  startFollowing(state.version);
}

/** The game as of the last event, to say what the next one changed. */
let lastEventGame = null;

function startFollowing(after) {
  lastEventGame = game();
  followFrom(after);
}

/** Follows the stream after `after`, the chronicle going on from the
 * game as of that event. */
export function followFrom(after) {
  follow(after, {
    onEvent: liveEvent,
    onOpen: () => {
      refreshSeats();
      settleLive();
    },
    onEnd: (end) => {
      if (end.reason === 'deleted') showError(new ApiError(404, null, 'This game was deleted on the server.'));
      else if (end.reason === 'revoked') showError(new ApiError(403, null, 'This game cannot be followed any more: its owner revoked your access.'));
      else if (end.reason === 'refused') showError(end.error);
      else refreshSeats();
      settleLive();
    },
    onPresence: livePresence,
  });
}

/** A `presence` event: who streams now. A seat shown as open that
 * connects was just taken: read the seats again to show who holds it. */
function livePresence(presence) {
  const seats = state.seats;
  if (!seats || !isLive()) return;
  const taken = seats.seats.some((s) => s.seat === presence.seat && s.holder === 'open');
  if (taken) {
    refreshSeats();
    return;
  }
  const connected = (s) => (s.seat in presence.seats ? { ...s, connected: presence.seats[s.seat] } : s);
  update({ seats: { ...seats, seats: seats.seats.map(connected) } });
}

export async function refreshSeats() {
  if (!isLive() || !state.sessionId) return;
  const sessionId = state.sessionId;
  try {
    const seats = await api('GET', sessionPath('/seats'));
    if (state.sessionId === sessionId && isLive()) update({ seats });
  } catch { /* presence is shown when it can be read */ }
}

/** One event: the state after it, and its chronicle entries. */
function liveEvent(data) {
  if (data.version > (state.version ?? 0)) {
    update({
      version: data.version,
      snapshot: { ...state.snapshot, version: data.version, game: data.game, recentResourceGains: data.recentResourceGains, passiveRecords: data.passiveRecords },
    });
  }
  for (const entry of describeEvent(lastEventGame, data)) addLog(entry);
  lastEventGame = data.game;
  settleLive();
}

let settling = false;
let settleAgain = false;

/**
 * Brings a live game to where this page has nothing to do: the growth and
 * upkeep of its own turn advanced, the forecast of its move loaded, the
 * end shown. Runs once at a time; a call while it runs runs it again.
 */
export async function settleLive() {
  if (settling) {
    settleAgain = true;
    return;
  }
  settling = true;
  try {
    do {
      settleAgain = false;
      await settleOnce();
    } while (settleAgain);
  } finally {
    settling = false;
  }
}

async function settleOnce() {
  const mine = () => {
    const g = game();
    return state.mode === 'friend' && g && !g.conclusion && g.activePlayerId === state.seat;
  };
  if (mine() && !currentPhase()?.action) {
    setBusy(true, 'Your turn begins…');
    try {
      while (mine() && !currentPhase()?.action) {
        applyState(await api('POST', sessionPath('/advance'), undefined, { write: true }));
      }
    } catch (error) {
      // 409: the stream brings what changed, then this runs again; no
      // answer: the stream reconnects, then this runs again.
      if (error.status !== 409 && error.status !== 0) showError(error);
    } finally {
      setBusy(false);
    }
  }
  if (isHumanTurn() && !forecast()) {
    try {
      await loadForecast();
    } catch (error) {
      if (error.status !== 0) showError(error);
    }
  }
  afterMove();
}

/** Ends this page's turn: one step; the stream shows the rest. */
async function endLiveTurn() {
  setBusy(true, 'Ending the turn…');
  try {
    applyState(await api('POST', sessionPath('/advance'), undefined, { write: true }));
  } catch (error) {
    await recover(error);
  } finally {
    setBusy(false);
  }
  await settleLive();
}

/** Starts a game against a friend: two human seats, this page plays A,
 * and an invitation link for the friend. */
export async function newFriendGame({ name, devMode }) {
  if (state.busy) return;
  clearError();
  storage.set(STORE.name, name);
  setBusy(true, 'Creating the game…');
  try {
    const body = { devMode, aiPlayers: [] };
    if (name) body.playerNames = { A: name };
    // A server for guests (`kingdom serve --guests`) may refuse the
    // default token: then the page creates the game as a guest.
    const data = await api('POST', '/sessions', body).catch((error) => {
      if ((error.status === 401 || error.status === 403) && state.token === DEFAULT_TOKEN) {
        return api('POST', '/sessions', body, { anonymous: true });
      }
      throw error;
    });
    // A guest plays with the credential it got.
    enterLive(data.sessionId, { mode: 'friend', seat: data.seat ?? 'A', credential: data.credential ?? null, owner: true }, data);
    await invite('B');
  } catch (error) {
    showError(error);
  } finally {
    setBusy(false);
  }
}

/** An invitation link to `seat` ('B' or 'spectator'). */
export async function invite(seat) {
  const data = await api('POST', sessionPath('/invitations'), { seat });
  const url = `${location.origin}${location.pathname}#join=${data.code}`;
  update({ invites: { ...state.invites, [seat]: url } });
  return url;
}

/** Opens an invitation link: accepts it, keeps the credential on this
 * browser and follows the game (as a player or a spectator). */
export async function join(code) {
  clearError();
  setBusy(true, 'Joining the game…');
  try {
    const accepted = await api('POST', '/invitations/accept', { code });
    const spectator = accepted.seat === 'spectator';
    const record = { mode: spectator ? 'watch' : 'friend', seat: spectator ? null : accepted.seat, credential: accepted.credential, owner: false };
    update({ sessionId: accepted.sessionId, credential: accepted.credential });
    const data = await api('GET', sessionPath('/snapshot'));
    enterLive(accepted.sessionId, record, data);
    addLog({ kind: 'info', title: spectator ? 'You are watching this game' : `You joined as seat ${accepted.seat}` });
    return true;
  } catch (error) {
    showError(error);
    return false;
  } finally {
    setBusy(false);
  }
}
