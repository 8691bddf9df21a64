// The one render path: the whole page, drawn from `state` after every
// change (`update()` batches changes into one call). Each view owns one
// part of the page and rebuilds it from the state.

import { $ } from './dom.js';
import { game } from './state.js';
import * as hud from './views/hud.js';
import * as start from './views/start.js';
import * as board from './views/board.js';
import * as actions from './views/actions.js';
import * as playback from './views/playback.js';
import * as chronicle from './views/chronicle.js';
import * as dialogs from './views/dialogs.js';
import * as friends from './views/friends.js';
import * as replay from './views/replay.js';

export function render(s) {
  const root = document.documentElement;
  root.dataset.theme = s.prefs.theme;
  const body = document.body;
  body.dataset.view = s.view;
  body.dataset.busy = String(s.busy || Boolean(s.playback) || s.view === 'loading');
  body.dataset.playback = String(Boolean(s.playback));
  body.dataset.mode = s.replay ? 'replay' : s.mode;
  body.dataset.live = s.live?.status ?? 'off';
  $('#loading').hidden = s.view !== 'loading';
  $('#notice').hidden = !s.notice;
  $('#notice-text').textContent = s.notice ?? '';

  hud.render(s);
  start.render(s);

  const main = $('#game');
  main.hidden = s.view !== 'game' || !s.snapshot;
  const g = game();
  if (!main.hidden && g) {
    Object.assign(main.dataset, {
      turn: String(g.turn),
      phase: g.currentPhase,
      step: g.currentStep,
      active: g.activePlayerId,
      session: s.sessionId,
      aiLevel: s.aiLevel ?? 'easy',
      over: String(Boolean(g.conclusion)),
      version: String(s.version ?? ''),
    });
    document.title = g.conclusion ? 'Game over · Kingdom Builder' : `Turn ${g.turn} · Kingdom Builder`;
    playback.render(s);
    friends.render(s);
    replay.render(s);
    $('#open-replay').disabled = s.busy || Boolean(s.replay) || Boolean(s.playback);
    $('#endbar').hidden = Boolean(s.replay) || s.mode === 'watch';
    actions.render(s);
    board.render(s);
    chronicle.render(s);
  } else {
    document.title = 'Kingdom Builder';
  }
  dialogs.render(s);
}
