// The client's one state, and the one way to change it.
//
// Every module reads `state`; every change goes through `update()`, which
// schedules one `render()` of the whole page (views rebuild their part from
// the state). Nothing else keeps game data.

/** localStorage keys. */
export const STORE = {
  token: 'kb.token',
  session: 'kb.session',
  name: 'kb.playerName',
  devMode: 'kb.devMode',
  aiLevel: 'kb.aiLevel',
  theme: 'kb.theme',
  playback: 'kb.playback',
  log: (sessionId) => `kb.log.${sessionId}`,
  /** A live game's seat on this browser: `{seat, credential?}` (JSON). */
  seat: (sessionId) => `kb.seat.${sessionId}`,
};

export const DEFAULT_TOKEN = 'local-dev';

export const state = {
  /** 'loading' | 'start' | 'game'. */
  view: 'loading',
  /** 'ai': against the built-in AI; 'friend': a live game of two humans,
   * this page playing `seat`; 'watch': a spectator; 'replay'. */
  mode: 'ai',
  /** The seat this page plays ('A', 'B'), or null (a spectator, a replay). */
  seat: null,
  /** This page created the live game (it may invite). */
  owner: false,
  /** A seat or spectator credential; sent instead of `token` when set. */
  credential: null,
  /** The event stream: `{status: 'connecting'|'live'|'reconnecting'|'ended',
   * lastEventId}` (see live.js); null when none is open. */
  live: null,
  /** `GET .../seats`: who holds each seat and whether it is connected. */
  seats: null,
  /** Invitation links made on this page: `{seat: url}`. */
  invites: {},
  /** The replay: `{entries, index, frames}` (see views/replay.js). */
  replay: null,
  token: DEFAULT_TOKEN,
  sessionId: null,
  version: null,
  /** The latest session state from the server. */
  snapshot: null,
  /** The opponent's level, as the session chose it (`easy` when none). */
  aiLevel: null,
  registries: null,
  metadata: null,
  /** `GET /metadata`: default content, for the start screen. */
  defaults: null,
  /** `GET .../forecast` (or `proceed`'s) for `forecast.version`. */
  forecast: null,
  /** The chronicle: `{turn, kind, who, title, details}`. */
  log: [],
  /** A game request is in flight; `busyText` says which. */
  busy: false,
  busyText: '',
  /** Picker choices: action id -> param key -> value. */
  selection: {},
  /** Actions whose description is unfolded (taps work where tooltips do not). */
  about: {},
  /** The AI's turn being shown: `{frames, index}` (see play.js). */
  playback: null,
  /** The open dialog: `{kind, ...}` (see views/dialogs.js). */
  dialog: null,
  /** An error to show: a string. */
  notice: null,
  /** Settings, remembered. */
  prefs: { theme: 'light', playback: 'step' },
  /** API requests made by this page (the figure the tests measure). */
  requests: 0,
};

let renderer = () => {};
let scheduled = false;

/** Sets the function that draws the page from `state`. */
export function setRenderer(render) {
  renderer = render;
}

/** Changes the state and schedules one render. */
export function update(patch = {}) {
  Object.assign(state, patch);
  if (!scheduled) {
    scheduled = true;
    queueMicrotask(() => {
      scheduled = false;
      renderer(state);
    });
  }
}

export const storage = {
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

/** The remembered settings (theme: the system's until chosen). */
export function loadPrefs() {
  const dark = window.matchMedia?.('(prefers-color-scheme: dark)').matches;
  const theme = storage.get(STORE.theme);
  const playback = storage.get(STORE.playback);
  return {
    theme: theme === 'dark' || theme === 'light' ? theme : dark ? 'dark' : 'light',
    playback: ['step', 'fast', 'off'].includes(playback) ? playback : 'step',
  };
}

export function savePref(key, value) {
  storage.set(STORE[key], value);
  update({ prefs: { ...state.prefs, [key]: value } });
}

// ---------------------------------------------------------------------------
// Derived reads of the game, shared by the views.

export const game = () => state.snapshot?.game;
export const players = () => game()?.players ?? [];
export const playerById = (id) => players().find((p) => p.id === id);
/** Whether this page follows a game live (two humans, or a spectator). */
export const isLive = () => state.mode === 'friend' || state.mode === 'watch';
/** The seat this page plays: in a live game its own (none for a spectator
 * or a replay), else the first one the AI does not play. */
export const human = () => {
  if (state.mode !== 'ai') return state.seat ? playerById(state.seat) : undefined;
  return players().find((p) => !p.aiControlled) ?? players()[0];
};
export const opponent = () => players().find((p) => p.id !== human()?.id);
export const currentPhase = () => state.snapshot?.phases?.[game()?.phaseIndex] ?? null;
export const apKey = () => state.snapshot?.actionCostResource || 'ap';

/** Whether the human may act now (and nothing is being shown or sent). */
export function isHumanTurn() {
  const g = game();
  return Boolean(g && !state.replay && !g.conclusion && g.activePlayerId === human()?.id && currentPhase()?.action);
}

/** The forecast, when it describes the state on screen. */
export function forecast() {
  const f = state.forecast;
  return f && f.version === state.version ? f : null;
}
