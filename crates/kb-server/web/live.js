// The event stream of a live game (`GET /sessions/:id/events`), read with
// `fetch` (EventSource cannot send the Bearer token or credential).
//
// Each event's id is the session's version after it; the stream resumes
// with `Last-Event-ID`, so after a network drop, a server restart or an
// ended stream the page reconnects by itself (after 0.25 s, then up to 3 s
// apart), says so (`state.live.status` is 'reconnecting'), and receives
// every event after the last one it had: none missed, none twice. An `end`
// event (the game concluded or was deleted) or a refusal (a revoked
// credential) closes it for good.

import { state, update } from './state.js';
import { sessionPath, ApiError } from './api.js';

const API = '/api';
const RETRY_MS = [250, 500, 1000, 2000, 3000];

let current = null;

/**
 * Follows the session's events after version `after`: `onEvent(data)` for
 * each, in order; `onOpen()` each time the stream (re)connects;
 * `onEnd(data)` on the `end` event; `onPresence(data)` on each `presence`
 * event (`{seat?, connected?, seats: {A, B}}`: which seats stream now).
 */
export function follow(after, { onEvent, onOpen, onEnd, onPresence }) {
  stop();
  const run = { stopped: false, controller: null, timer: null };
  current = run;
  update({ live: { status: 'connecting', lastEventId: after } });
  const setStatus = (status) => update({ live: { ...state.live, status } });

  const connect = async (attempt) => {
    if (run.stopped) return;
    run.controller = new AbortController();
    let ended = false;
    try {
      const response = await open(state.live.lastEventId, run.controller.signal);
      attempt = 0;
      setStatus('live');
      onOpen?.();
      ended = await read(response.body, run, (name, id, data) => {
        if (name === 'end') {
          onEnd?.(JSON.parse(data));
          return true;
        }
        if (name === 'presence') {
          onPresence?.(JSON.parse(data));
          return false;
        }
        if (id !== null) update({ live: { ...state.live, lastEventId: id } });
        onEvent(JSON.parse(data));
        return false;
      });
    } catch (error) {
      if (run.stopped) return;
      if (error instanceof SyntaxError) console.error(error);
      // Refused (a revoked credential, a deleted game): trying again
      // cannot help.
      if ([400, 401, 403, 404, 410].includes(error.status)) {
        setStatus('ended');
        onEnd?.({ reason: 'refused', error });
        return;
      }
    }
    if (run.stopped) return;
    if (ended) {
      setStatus('ended');
      return;
    }
    setStatus('reconnecting');
    run.timer = setTimeout(() => connect(attempt + 1), RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)]);
  };
  connect(0);
}

/** Opens the stream after version `after`. */
async function open(after, signal) {
  const token = state.credential ?? state.token;
  const response = await fetch(API + sessionPath('/events'), {
    headers: {
      Accept: 'text/event-stream',
      'Last-Event-ID': String(after),
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
    },
    signal,
    cache: 'no-store',
  });
  if (!response.ok || !response.body) {
    const body = await response.json().catch(() => null);
    throw new ApiError(response.status, body, `The game cannot be followed: ${body?.message ?? `the server answered ${response.status}`}`);
  }
  return response;
}

/** Every event after version `after` up to `until` (or the game's end),
 * read from the stream, which replays them from the log. */
export async function collect(after, until) {
  const run = { stopped: false, controller: new AbortController() };
  const events = [];
  if (after >= until) return events;
  const response = await open(after, run.controller.signal);
  const complete = await read(response.body, run, (name, id, data) => {
    if (name === 'end') return true;
    if (name === 'presence') return false;
    const event = JSON.parse(data);
    events.push(event);
    return event.version >= until;
  });
  if (!complete) throw new ApiError(0, null, 'The server stopped while the game was read. Try again.');
  return events;
}

/** Closes the stream, if one is open. */
export function stop() {
  if (!current) return;
  current.stopped = true;
  clearTimeout(current.timer);
  current.controller?.abort();
  current = null;
  update({ live: null });
}

/**
 * Reads Server-Sent Events from `body`, calling `handle(event name, id,
 * data)` for each (comment lines, the heartbeats, are skipped); answers
 * true when `handle` said the stream is over, false when it broke off.
 */
async function read(body, run, handle) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done || run.stopped) return false;
    buffer += value.replace(/\r\n?/g, '\n');
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = null;
      let id = null;
      const data = [];
      for (const line of block.split('\n')) {
        const colon = line.indexOf(':');
        if (colon === 0) continue;
        const field = colon < 0 ? line : line.slice(0, colon);
        const text = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') name = text;
        else if (field === 'id') id = Number(text);
        else if (field === 'data') data.push(text);
      }
      if (!data.length) continue;
      if (handle(name, id, data.join('\n'))) {
        run.controller.abort();
        return true;
      }
    }
  }
}
