// Plays the reference web client (built from its source, served by
// proxy.mjs) against `kingdom serve` in headless Chromium: TURNS turns,
// a server restart (RESTART_CMD, a shell command), then up to AFTER more
// turns on the open page (or until the game ends), then a page reload.
// Writes a turn-by-turn log and screenshots to OUT. See README.md.
import { chromium } from 'playwright-core';
import { execSync } from 'node:child_process';
import fs from 'node:fs';

const FRONT = process.env.FRONT ?? 'http://127.0.0.1:4180';
const TURNS = Number(process.env.TURNS ?? 10);
const AFTER = Number(process.env.AFTER ?? 4);
const out = process.env.OUT ?? './run';
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
fs.mkdirSync(out, { recursive: true });
const log = (...a) => { const line = a.join(' '); console.log(line); fs.appendFileSync(`${out}/log.txt`, line + '\n'); };

const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
const context = await browser.newContext({ viewport: { width: 1500, height: 1100 } });
await context.addInitScript(() => { try { localStorage.setItem('kingdom-builder.auth.token', 'local-dev'); } catch {} });
const page = await context.newPage();
let sessionId = null;
const counts = {};
const problems = [];
page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') { const t = `console.${m.type()}: ${m.text().slice(0, 300)}`; if (!t.includes('404 (Not Found)')) problems.push(t); log(t); } });
page.on('pageerror', (e) => { problems.push(`pageerror: ${e.message}`); log(`pageerror: ${e.message}`); });
page.on('requestfailed', (r) => { const t = `requestfailed: ${r.method()} ${r.url()} ${r.failure()?.errorText}`; problems.push(t); log(t); });
page.on('response', async (r) => {
  const url = r.url().replace(FRONT, '');
  if (url.startsWith('/assets/')) return;
  const route = `${r.request().method()} ${url.replace(/[0-9a-f-]{36}/, ':id').replace(/\/actions\/[a-z_]+\//, '/actions/:action/')}`;
  counts[route] = (counts[route] ?? 0) + 1;
  if (r.status() >= 400) { const t = `HTTP ${r.status()} ${route}`; log(t); if (!url.includes('peaceful-theme')) problems.push(t); }
  if (r.request().method() === 'POST' && url === '/api/sessions' && r.status() === 201) sessionId = (await r.json()).sessionId;
  if (url.endsWith('/ai-turn')) { try { const b = await r.json(); log(`   ai-turn -> actions [${b.actions.map(a => a.actionId)}] phaseComplete ${b.phaseComplete} (${b.snapshot.game.activePlayerId} ${b.snapshot.game.currentPhase})`); } catch {} }
});

async function api(path) {
  return page.evaluate(async (p) => (await fetch(p, { headers: { authorization: 'Bearer local-dev' } })).json(), path);
}
async function state() {
  const s = await api(`/api/sessions/${sessionId}/snapshot`);
  const g = s.snapshot.game;
  const p = (id) => g.players.find((x) => x.id === id);
  const res = (id) => Object.entries(p(id).resources).map(([k, v]) => `${k}=${v}`).join(' ');
  return { g, text: `turn ${g.turn} ${g.activePlayerId} ${g.currentPhase} v${s.version} | A: ${res('A')} | B: ${res('B')}` };
}
const body = () => page.locator('body').innerText();
async function continueCards() {
  const c = page.locator('button', { hasText: /^Continue$/ });
  if (await c.count()) { await c.first().click({ timeout: 2000 }).catch(() => {}); return true; }
  return false;
}
// Waits until the human may act: Ada active in Main, nothing advancing.
async function waitForHumanMain(timeout = 120000) {
  const t0 = Date.now();
  while (Date.now() - t0 < timeout) {
    await continueCards();
    const text = await body();
    if (/ACTIVE PLAYER\s*Ada/.test(text) && /Current phase: Main/.test(text) && sessionId) {
      const { g } = await state();
      if (g.activePlayerId === 'A' && g.currentPhase === 'main') return true;
    }
    if (/Victory|Defeat/.test(text) && await page.locator('text=Return to Main Menu').count()) return false;
    await page.waitForTimeout(300);
  }
  throw new Error('timed out waiting for the human main phase');
}
async function clickAction(name) {
  const card = page.locator('button', { hasText: name }).first();
  // The client disables its cards while it refreshes after a change.
  for (let i = 0; i < 40 && (await card.count()) && !(await card.isEnabled()); i++) {
    await continueCards();
    await page.waitForTimeout(250);
  }
  if (!(await card.count()) || !(await card.isEnabled())) return false;
  await card.click({ timeout: 5000 });
  await page.waitForTimeout(500);
  for (let i = 0; i < 20 && await continueCards(); i++) await page.waitForTimeout(300);
  return true;
}
async function humanTurn(turn) {
  const before = await state();
  log(`T${turn} human main: ${before.text}`);
  await page.screenshot({ path: `${out}/turn${String(turn).padStart(2, '0')}-a-main.png` });
  let acted = [];
  for (let i = 0; i < 8; i++) {
    const { g } = await state();
    const ap = g.players[0].resources.ap ?? 0;
    if (ap <= 0 || g.conclusion) break;
    // Expand when affordable on even turns, else tax.
    const gold = g.players[0].resources.gold ?? 0;
    const choice = turn % 2 === 0 && gold >= 2 ? 'Expand' : 'Tax';
    if (await clickAction(choice)) acted.push(choice); else if (await clickAction('Tax')) acted.push('Tax'); else break;
    await page.waitForTimeout(500);
  }
  log(`   A played: ${acted.join(', ') || '(no AP)'}`);
  const next = page.locator('button', { hasText: 'Next Turn' });
  await next.waitFor({ timeout: 20000 });
  for (let i = 0; i < 50 && !(await next.isEnabled()); i++) { await continueCards(); await page.waitForTimeout(200); }
  await next.click();
}

await page.goto(FRONT + '/');
await page.fill('input', 'Ada');
await page.click('text=Confirm Name');
await page.click('text=Start New Game');
let turn = 1;
async function play(turns) {
  for (let n = 0; n < turns; n++, turn++) {
    if (!(await waitForHumanMain())) { log('game over'); return false; }
    await humanTurn(turn);
    const mid = await state();
    log(`   after Next Turn: ${mid.text}`);
  }
  return true;
}
await play(TURNS);
await waitForHumanMain();
log(`before restart: ${(await state()).text}`);
await page.screenshot({ path: `${out}/before-restart.png` });
log(`--- restarting the server: ${process.env.RESTART_CMD ?? '(no RESTART_CMD: skipped)'}`);
if (process.env.RESTART_CMD) execSync(process.env.RESTART_CMD, { stdio: 'inherit' });
log(`after restart: ${(await state()).text}`);
const more = await play(AFTER);
if (more) {
  await waitForHumanMain();
} else {
  await page.waitForTimeout(1500);
  await page.screenshot({ path: `${out}/game-over.png` });
  const overlay = await body();
  const at = overlay.search(/Victory|Defeat/);
  log(`game-over overlay: ${JSON.stringify(overlay.slice(Math.max(0, at - 20), at + 200))}`);
  log(`conclusion: ${JSON.stringify((await api(`/api/sessions/${sessionId}/snapshot`)).snapshot.game.conclusion)}`);
}
log(`at the end: ${(await state()).text}`);
await page.locator('button', { hasText: 'Log' }).first().click().catch(() => {});
await page.waitForTimeout(800);
await page.screenshot({ path: `${out}/log-panel.png` });
log('--- reloading the page (resume from the client\'s storage)');
await page.reload();
await page.waitForTimeout(5000);
await page.screenshot({ path: `${out}/after-reload.png` });
const resumed = await page.locator('button', { hasText: /Continue|Resume/ }).allInnerTexts();
log(`after reload, buttons: ${JSON.stringify(resumed)}`);
log(`final: ${(await state()).text}`);
log(`requests: ${JSON.stringify(counts, null, 1)}`);
log(`problems (${problems.length}): ${JSON.stringify([...new Set(problems)], null, 1)}`);
await browser.close();
