// The page's one modal dialog, drawn from `state.dialog`: the bankruptcy
// warning before a click, the game-over overlay (why, with the numbers),
// how to play, settings, and renaming. A native <dialog> opened with
// showModal(): it keeps the keyboard focus inside and Escape closes it.

import { h, fill, $ } from '../dom.js';
import { state, update, savePref, game, players, human, playerById, forecast } from '../state.js';
import { actionInfo, conclusionText, fmtNumber, named, overview, resourceInfo } from '../content.js';
import { perform, endTurn, rename, shortfallLines } from '../play.js';
import { bankruptcyText } from './actions.js';
import { howToPlay } from './start.js';

let drawn = null;

export function render(s) {
  const el = $('#dialog');
  const dialog = s.dialog;
  if (!dialog) {
    drawn = null;
    if (el.open) el.close();
    delete el.dataset.kind;
    return;
  }
  // Drawn once per dialog (a rename field keeps what is typed); the game
  // over overlay follows the state (its numbers arrive with the forecast).
  const key = dialog.kind === 'gameover' ? `${dialog.kind}:${state.version}:${Boolean(forecast())}` : dialog;
  if (drawn === key && el.open) return;
  drawn = key;
  el.dataset.kind = dialog.kind;
  const content = {
    confirm: confirm,
    gameover: gameOver,
    help: help,
    settings: settings,
    rename: renameForm,
  }[dialog.kind]?.(dialog) ?? [];
  el.setAttribute('aria-labelledby', 'dialog-title');
  fill(el, h('div', { class: 'dialog-body' }, content));
  if (!el.open) el.showModal();
  (el.querySelector('[autofocus]') ?? el.querySelector('button'))?.focus();
}

/** Closing by Escape or the form's own close: forget the dialog. */
export function wire() {
  $('#dialog').addEventListener('close', () => {
    if (state.dialog) update({ dialog: null });
  });
}

const close = () => update({ dialog: null });
const closeButton = (label = 'Close') => h('button', { type: 'button', id: 'dialog-close', onclick: close }, label);

function confirm(dialog) {
  const isAction = dialog.what === 'action';
  const outlook = isAction ? dialog.candidate.outlook : forecast()?.endTurn;
  const what = isAction ? named(actionInfo(dialog.actionId)) : 'End turn';
  return [
    h('h2', { id: 'dialog-title' }, '⚠ This bankrupts you'),
    h('p', { id: 'confirm-text' }, bankruptcyText(outlook, isAction ? 'this' : 'end')),
    h('p', { class: 'muted' }, 'A ruler who cannot pay the full upkeep loses at once (the opponent could also change things before then).'),
    h('div', { class: 'buttons' },
      h('button', { type: 'button', id: 'confirm-no', class: 'primary', autofocus: true, onclick: close }, 'Cancel'),
      h('button', {
        type: 'button', id: 'confirm-yes', class: 'danger',
        onclick: () => {
          update({ dialog: null });
          if (isAction) perform(dialog.actionId, dialog.candidate, { confirmed: true });
          else endTurn({ confirmed: true });
        },
      }, `${what} anyway`)),
  ];
}

function gameOver() {
  const conclusion = game()?.conclusion;
  if (!conclusion) return [h('h2', { id: 'dialog-title' }, 'Game over'), closeButton()];
  const { title, cause, description, youWon } = conclusionText(conclusion);
  const loser = playerById(conclusion.loserId);
  const numbers = shortfallLines();
  if (conclusion.conditionId !== 'bankruptcy' && loser) {
    const castle = Object.keys(loser.resources).find((key) => /castle/i.test(key));
    if (castle) numbers.push(`${loser.id === human()?.id ? 'Your' : `${loser.name}'s`} ${named(resourceInfo(castle))}: ${fmtNumber(loser.resources[castle])}.`);
  }
  const rows = players().map((p) => h('tr', {},
    h('th', { scope: 'row' }, p.id === human()?.id ? `${p.name} (you)` : p.name),
    Object.keys(p.resources).map((key) => h('td', {}, fmtNumber(p.resources[key]))),
    h('td', {}, String(p.lands.length)),
    h('td', {}, String(Object.values(p.population).reduce((a, b) => a + b, 0)))));
  const keys = Object.keys(players()[0]?.resources ?? {});
  return [
    h('h2', { id: 'dialog-title', class: youWon ? 'won' : 'lost' }, title),
    h('p', { class: 'cause' }, h('strong', {}, cause), description ? `: ${description}` : ''),
    numbers.length ? h('p', { id: 'gameover-numbers', class: 'numbers' }, numbers.join(' ')) : null,
    h('table', { class: 'final' },
      h('caption', {}, `The kingdoms after ${game().turn} ${game().turn === 1 ? 'turn' : 'turns'}`),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Ruler'),
        keys.map((key) => h('th', { scope: 'col', title: resourceInfo(key).label },
          h('span', { 'aria-hidden': 'true' }, resourceInfo(key).icon || resourceInfo(key).label), h('span', { class: 'sr-only' }, resourceInfo(key).label))),
        h('th', { scope: 'col' }, 'Lands'), h('th', { scope: 'col' }, 'People'))),
      h('tbody', {}, rows)),
    h('div', { class: 'buttons' },
      h('button', { type: 'button', id: 'play-again', class: 'primary', autofocus: true, onclick: () => update({ dialog: null, view: 'start' }) }, 'New game'),
      closeButton('Look at the board')),
  ];
}

function help() {
  const ov = overview();
  return [
    h('h2', { id: 'dialog-title' }, 'How to play'),
    h('ul', { class: 'help-basics' },
      h('li', {}, 'Each turn your kingdom grows (income, action points), pays its upkeep, then you act: every action shows its price, what it changes now and where it leaves you at your next turn.'),
      h('li', {}, 'A kingdom that cannot pay its full upkeep is bankrupt and loses; one whose castle falls loses too. The page warns you before any click that would bankrupt you.'),
      h('li', {}, 'End turn lets the AI play; its turn is shown step by step (Skip or Escape to jump to the end).'),
      h('li', {}, 'Keyboard: Tab and Shift+Tab move between controls, Enter or Space presses, arrow keys choose in lists, Escape closes this window.')),
    ov?.hero ? h('div', { class: 'overview' }, howToPlay(ov)) : null,
    h('div', { class: 'buttons' }, closeButton()),
  ];
}

function settings() {
  const radio = (name, value, label, current, onchange) => h('label', { class: 'check' },
    h('input', { type: 'radio', name, value, checked: current === value, onchange }), h('span', {}, label));
  return [
    h('h2', { id: 'dialog-title' }, 'Settings'),
    h('fieldset', {},
      h('legend', {}, 'Colours'),
      radio('theme', 'light', 'Light', state.prefs.theme, () => savePref('theme', 'light')),
      radio('theme', 'dark', 'Dark', state.prefs.theme, () => savePref('theme', 'dark'))),
    h('fieldset', {},
      h('legend', {}, 'The AI\'s turn'),
      radio('playback', 'step', 'Step by step', state.prefs.playback, () => savePref('playback', 'step')),
      radio('playback', 'fast', 'Fast', state.prefs.playback, () => savePref('playback', 'fast')),
      radio('playback', 'off', 'Only in the chronicle', state.prefs.playback, () => savePref('playback', 'off'))),
    h('div', { class: 'buttons' }, closeButton('Done')),
  ];
}

function renameForm() {
  const me = human();
  return [
    h('h2', { id: 'dialog-title' }, 'Rename your ruler'),
    h('form', {
      id: 'rename-form',
      onsubmit: (event) => {
        event.preventDefault();
        const name = $('#rename-input').value.trim();
        if (name) rename(name);
      },
    },
    h('label', { class: 'field', for: 'rename-input' }, h('span', {}, 'Name'),
      h('input', { id: 'rename-input', maxlength: '40', required: true, value: me?.name ?? '', autofocus: true })),
    h('div', { class: 'buttons' },
      h('button', { type: 'submit', id: 'rename-save', class: 'primary' }, 'Save'),
      closeButton('Cancel'))),
  ];
}
