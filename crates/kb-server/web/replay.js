// The replay: any game, finished or running, stepped through move by move.
// Every change up to where the game stands is read at once from the event
// stream, which replays the log from the start: each event is one move,
// with who made it, what it did and the game after it. Stepping then needs
// no request: the board shows the game after the move, and the chronicle
// says what every move up to it did, the shown one marked. Closing it
// returns to the game (a live one follows its stream again from the last
// event it had, so nothing is missed).

import { state, update, isLive } from './state.js';
import { describeEvent } from './views/chronicle.js';
import { collect, stop as stopFollowing } from './live.js';
import { followFrom, showError, clearError } from './play.js';

export async function openReplay() {
  if (state.busy || state.replay || !state.sessionId) return;
  clearError();
  const back = { snapshot: state.snapshot, version: state.version, lastEventId: isLive() ? state.live?.lastEventId ?? state.version : null };
  if (isLive()) stopFollowing();
  update({ busy: true, busyText: 'Loading the replay…' });
  try {
    const events = await collect(0, back.version);
    if (!events.length) throw new Error('this game has no moves yet');
    update({ replay: { events, lines: lines(events), index: 0, log: [], back } });
    step(1);
  } catch (error) {
    showError(error);
    closeReplay(back);
  } finally {
    update({ busy: false });
  }
}

/** The chronicle lines of every move (a step that changed nothing too),
 * each with its version. */
function lines(events) {
  const out = [];
  let before = null;
  for (const event of events) {
    out.push(...describeEvent(before, event, { always: true }));
    before = event.game;
  }
  return out;
}

/** Shows the game after move `version` (1 to the last). */
export function step(version) {
  const replay = state.replay;
  if (!replay) return;
  const at = Math.max(1, Math.min(replay.events.length, version));
  const event = replay.events[at - 1];
  const shown = replay.lines.findIndex((e) => e.version > at);
  const log = (shown < 0 ? replay.lines : replay.lines.slice(0, shown)).map((e) => (e.version === at ? { ...e, current: true } : e));
  update({ replay: { ...replay, index: at, log }, snapshot: { ...replay.back.snapshot, game: event.game } });
}

/** Back to the game; a live one follows its stream again from the last
 * event it had, so what happened meanwhile arrives, in order. */
export function closeReplay(back = state.replay?.back) {
  update({ replay: null });
  if (!back) return;
  update({ snapshot: back.snapshot, version: back.version });
  if (back.lastEventId !== null) followFrom(back.lastEventId);
}
