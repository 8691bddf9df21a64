// The chronicle: every move of both seats, in order, kept across reloads;
// and what one change of a live game or a replay says in it.

import { h, fill, $ } from '../dom.js';
import { state, human } from '../state.js';
import { actionInfo, deltaBetween, describeAttacks, describeCosts, describeDelta, named, phaseInfo } from '../content.js';

let shown = null;

export function render(s) {
  if (s.view !== 'game') return;
  const list = $('#log');
  const log = s.replay ? s.replay.log : s.log;
  const last = log[log.length - 1] ?? null;
  if (!list || (shown && shown.last === last && shown.length === log.length)) return;
  shown = { last, length: log.length };
  const me = human()?.id;
  fill(list, log.map((entry) => {
    const mine = entry.who && entry.who === me;
    const cls = ['entry', entry.kind, entry.who ? (mine ? 'by-you' : 'by-other') : ''].filter(Boolean).join(' ');
    return h('li', { class: cls, dataset: entry.version ? { version: String(entry.version) } : {}, 'aria-current': entry.current ? 'step' : null },
      h('div', { class: 'entry-title' }, entry.title),
      entry.details?.length ? h('div', { class: 'entry-details' }, entry.details.join(' · ')) : null);
  }));
  list.scrollTop = list.scrollHeight;
}

/**
 * The chronicle entries of one change of a live game or a replay: `before`
 * is the game before it, `data` an event (`{version, entry, playerId,
 * result, game}`). This page's seat is "You". A step of a turn that
 * changed nothing has a line only when `always`.
 */
export function describeEvent(before, data, { always = false } = {}) {
  const seat = human()?.id;
  const entry = data.entry ?? {};
  const after = data.game;
  const who = data.playerId ?? before?.activePlayerId;
  const name = (id) => (id && id === seat ? 'You' : after.players.find((p) => p.id === id)?.name ?? id);
  const changes = () => after.players.flatMap((p) => {
    const lines = describeDelta(deltaBetween(before?.players?.find((q) => q.id === p.id), p));
    return lines.length ? [`${name(p.id)}: ${lines.join(', ')}`] : [];
  });
  const out = [];
  if (before && after.turn !== before.turn) out.push({ kind: 'turn', turn: after.turn, title: `Turn ${after.turn}` });
  const at = { turn: after.turn, version: data.version };
  switch (entry.type) {
    case 'start':
      out.push({ ...at, kind: 'info', title: `The game begins: ${after.players.map((p) => p.name).join(' vs ')}` });
      break;
    case 'action': {
      const paid = data.result?.costs ? ` (paid ${describeCosts(data.result.costs)})` : '';
      out.push({ ...at, kind: 'action', who, title: `${name(who)}: ${named(actionInfo(entry.actionId))}${paid}`,
        details: [...changes(), ...describeAttacks(data.result?.attackLogs, name(who))] });
      break;
    }
    case 'advance': {
      const phase = before?.currentPhase;
      if (phase && isActionPhase(phase)) {
        out.push({ ...at, kind: 'step', who, title: `${name(who)} ended the turn` });
      } else {
        const details = changes();
        const title = `${name(who)}: ${phase ? named(phaseInfo(phase)) : 'a step'}`;
        if (details.length) out.push({ ...at, kind: 'step', who, title, details });
        else if (always) out.push({ ...at, kind: 'step', who, title: `${title}, no change` });
      }
      break;
    }
    case 'setPlayerName':
      out.push({ ...at, kind: 'info', title: `Seat ${entry.playerId} is now ${entry.playerName}` });
      break;
    case 'setDevMode':
      out.push({ ...at, kind: 'info', title: `Dev mode ${entry.enabled ? 'on' : 'off'}` });
      break;
    default:
      out.push({ ...at, kind: 'ai', who, title: `🤖 ${name(who)} played its turn`, details: changes() });
  }
  return out;
}

const isActionPhase = (phaseId) => Boolean(state.snapshot?.phases?.find((p) => p.id === phaseId)?.action);
