// Kingdom Builder: the browser client served at `/` by `kingdom serve`.
//
// A human plays the seat the AI does not (A) against the built-in AI (B),
// through the same HTTP API as any client; or plays a friend, live, each on
// their own page (an invitation link `/#join=CODE` gives the friend a seat,
// or a spectator a view), every move arriving through the event stream. Before every click the page
// shows, from the server's forecast, what each action costs, what it
// changes now and where it leaves the player at their next turn, and warns
// before anything that bankrupts them; End turn plays the AI's turn back
// step by step.
//
// Modules, one job each (no build step; the browser loads them as they are):
// - state.js: the one state and `update()`, which schedules one render;
// - render.js: the one render path, calling each view in views/;
// - play.js: the moves and what the page does with the answers;
// - live.js: the event stream of a live game, reconnecting by itself;
// - replay.js: stepping through a game's log, move by move;
// - api.js: server access; content.js: names, icons and words; dom.js.
//
// `document.body.dataset.busy` is "true" while a game request is in flight
// or the AI's turn is being played back; tests wait on it.

import { $ } from './dom.js';
import { state, update, setRenderer, storage, STORE, DEFAULT_TOKEN, loadPrefs } from './state.js';
import { api } from './api.js';
import { render } from './render.js';
import { resume, settle, showError, clearError, skipPlayback, join } from './play.js';
import { openReplay } from './replay.js';
import { wire as wireDialogs } from './views/dialogs.js';

async function boot() {
  setRenderer(render);
  update({ token: storage.get(STORE.token) || DEFAULT_TOKEN, prefs: loadPrefs() });
  $('#notice-close').addEventListener('click', clearError);
  $('#open-replay').addEventListener('click', () => openReplay());
  wireDialogs();
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && state.playback && !state.dialog) {
      event.preventDefault();
      skipPlayback();
    }
  });
  // Keep a rejected promise or a bug from passing silently.
  window.addEventListener('unhandledrejection', (event) => showError(event.reason));
  window.addEventListener('error', (event) => showError(event.error ?? event.message));

  // The server's default content: names and icons for the start screen.
  api('GET', '/metadata').then((data) => update({ defaults: data })).catch(() => {});
  // An invitation link: the code leaves the address bar once read.
  const code = new URLSearchParams(location.hash.slice(1)).get('join');
  if (code) history.replaceState(null, '', location.pathname);
  if (code ? await join(code) : await resume()) {
    await settle();
  } else {
    update({ view: 'start' });
  }
}

boot().catch(showError);
