// The start screen: name, the opponent's level, dev mode, server access, a
// new game or back to the saved one, and the content's overview. The form is built once and
// kept (re-rendering would lose what the player is typing); only its
// dynamic parts follow the state.

import { h, fill, $ } from '../dom.js';
import { state, update, storage, STORE } from '../state.js';
import { fillTokens, iconOf, overview } from '../content.js';
import { newGame, newFriendGame, resume, saveToken, settle, clearError } from '../play.js';

let built = false;

/** The built-in AI's levels, as the server names them (`aiLevel`). */
export const AI_LEVELS = [
  ['easy', 'Easy: taxes and ends its turn'],
  ['normal', 'Normal: looks one move ahead'],
  ['hard', 'Hard: searches its turn and your reply'],
];
const DEFAULT_AI_LEVEL = 'normal';
let shownOverview = null;

export function render(s) {
  const main = $('#start');
  main.hidden = s.view !== 'start';
  if (s.view !== 'start') return;
  if (!built) build(main);
  const resumeButton = $('#resume');
  resumeButton.hidden = !(s.snapshot || storage.get(STORE.session));
  resumeButton.textContent = s.snapshot ? 'Back to your game' : 'Resume saved game';
  $('#new-game').disabled = s.busy;
  $('#new-friend-game').disabled = s.busy;
  const ov = overview();
  if (ov?.hero && ov !== shownOverview) {
    shownOverview = ov;
    const el = $('#overview');
    fill(el, howToPlay(ov));
    el.hidden = false;
  }
}

function build(main) {
  built = true;
  const form = h('form', { id: 'start-form', autocomplete: 'off', onsubmit: submit },
    h('label', { class: 'field' }, h('span', {}, 'Your name'),
      h('input', { id: 'player-name', name: 'playerName', maxlength: '40', placeholder: 'Player', value: storage.get(STORE.name) ?? '' })),
    h('label', { class: 'field' }, h('span', {}, 'Opponent level'),
      h('select', { id: 'ai-level', name: 'aiLevel' },
        AI_LEVELS.map(([value, label]) => h('option', { value, selected: value === savedLevel() }, label)))),
    h('label', { class: 'check' },
      h('input', { id: 'dev-mode', name: 'devMode', type: 'checkbox', checked: storage.get(STORE.devMode) === 'true' }),
      h('span', {}, 'Dev mode ', h('span', { class: 'muted' }, '(the content\'s rich start, for trying things out)'))),
    h('details', { id: 'access' },
      h('summary', {}, 'Server access'),
      h('label', { class: 'field' }, h('span', {}, 'Access token'),
        h('input', { id: 'token', name: 'token', spellcheck: 'false', value: state.token, onchange: (e) => saveToken(e.target.value) })),
      h('p', { class: 'muted' }, 'Sent as ', h('code', {}, 'Authorization: Bearer …'), '. A server without a token table accepts ', h('code', {}, 'local-dev'), ' from this machine.')),
    h('div', { class: 'buttons' },
      h('button', { id: 'new-game', type: 'submit', class: 'primary' }, 'New game'),
      h('button', { id: 'new-friend-game', type: 'button', class: 'secondary', onclick: friend }, '🤝 Play a friend'),
      h('button', { id: 'resume', type: 'button', onclick: back, hidden: true }, 'Back to your game')));
  fill(main,
    h('section', { class: 'card start-card', 'aria-labelledby': 'start-title' },
      h('h2', { id: 'start-title' }, 'Start a game'),
      h('p', { class: 'muted' }, 'You rule seat A; the built-in AI rules the other kingdom, at the level you choose. Or play a friend: you get a link to send them, and each of you sees the other\'s moves as they are made.'),
      form),
    h('section', { id: 'overview', class: 'card overview', hidden: true, 'aria-label': 'How to play' }));
  if (!$('#notice').hidden && /access/.test(state.notice ?? '')) $('#access').open = true;
  queueMicrotask(() => $('#player-name')?.focus());
}

async function submit(event) {
  event.preventDefault();
  saveToken($('#token').value);
  await newGame({ name: $('#player-name').value.trim(), devMode: $('#dev-mode').checked, aiLevel: $('#ai-level').value });
}

async function friend() {
  saveToken($('#token').value);
  await newFriendGame({ name: $('#player-name').value.trim(), devMode: $('#dev-mode').checked });
}

/** The level chosen last time, else `normal`. */
function savedLevel() {
  const saved = storage.get(STORE.aiLevel);
  return AI_LEVELS.some(([value]) => value === saved) ? saved : DEFAULT_AI_LEVEL;
}

async function back() {
  if (state.busy) return;
  clearError();
  if (!state.snapshot) {
    saveToken($('#token').value);
    if (!(await resume())) return;
  }
  update({ view: 'game' });
  await settle();
}

/** The content's overview, as a list of sections. */
export function howToPlay(ov) {
  const tokens = ov.hero.tokens ?? {};
  return [
    h('h2', {}, `${ov.hero.badgeIcon ?? ''} ${ov.hero.title ?? 'How to play'}`.trim()),
    ov.hero.intro ? h('p', { class: 'intro' }, fillTokens(ov.hero.intro, tokens)) : null,
    ov.hero.paragraph ? h('p', {}, fillTokens(ov.hero.paragraph, tokens)) : null,
    (ov.sections ?? []).map((section) => h('section', { class: 'overview-section' },
      h('h3', {}, `${iconOf(section.icon)} ${section.title ?? ''}`.trim()),
      section.kind === 'list'
        ? h('ul', {}, (section.items ?? []).map((item) => h('li', {},
          h('strong', {}, `${iconOf(item.icon)} ${item.label ?? ''}`.trim()), ' ',
          (item.body ?? []).map((line) => fillTokens(line, tokens)).join(' '))))
        : (section.paragraphs ?? []).map((p) => h('p', {}, fillTokens(p, tokens))))),
  ];
}
