import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as path from 'node:path';
import type * as Api from '../../src/client';
import type { SpawnOptions } from '../../src/client/types';
import { ROOT, type Sandbox, sandboxPerTest } from '../helpers/sandbox';
import { WebProcess, eventually, launchBrowser, openPage, pageLines, screenshot, trimmed } from '../helpers/web';

// `symposium-mcp web` in a real browser (the system's Chromium, one for this file, a fresh
// context per page), against real supervisors running bash: the list and its states, an
// agent's screen equal to `agent capture`, read-only and --write, two browsers at once,
// tokens and origins, and a 50 MB flood. Screenshots go to test-artifacts/web/.

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
}, 30_000);
afterAll(async () => {
  await browser?.close();
});

const sandbox = sandboxPerTest({ PS1: 'P$ ' });
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function serve(sb: Sandbox, args: string[] = []): Promise<WebProcess> {
  const web = await WebProcess.start(sb, args);
  cleanups.push(() => web.stop());
  return web;
}

async function open(web: WebProcess, viewport?: { width: number; height: number }, mobile = false): Promise<Page> {
  if (mobile) {
    const context = await browser.newContext({ viewport: viewport!, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    cleanups.push(() => context.close());
    const page = await context.newPage();
    await page.goto(web.url);
    await page.locator('#conn.live').waitFor();
    return page;
  }
  const { context, page } = await openPage(browser, web, viewport);
  cleanups.push(() => context.close());
  return page;
}

// The agents are driven through the client library (what `agent capture` and the other
// verbs print is what it returns), in this process: no CLI started per poll.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const lib = require(path.join(ROOT, 'dist', 'client', 'index.js')) as typeof Api;
let client: Api.SymposiumClient;

async function spawnAgent(sb: Sandbox, id: string, command: string[], opts: Partial<SpawnOptions> = {}): Promise<void> {
  client = new lib.SymposiumClient({ env: sb.env });
  await client.spawn({ id, workdir: sb.work, command, ...opts });
}

const BASH = ['bash', '--norc', '--noprofile'];

async function capture(id: string, scrollback = false): Promise<string> {
  return (await client.capture(id, { scrollback })).text;
}

async function send(id: string, line: string): Promise<void> {
  await client.send(id, { text: line, enter: true });
}

async function status(id: string): Promise<{ cols: number | null; rows: number | null; viewers: number | null }> {
  return client.status(id);
}

async function openAgent(page: Page, id: string): Promise<void> {
  await page.locator(`#agents li[data-id="${id}"] a`).click();
  await page.locator('#agent-view').waitFor();
}

/** Until the page's terminal shows what `agent capture` shows (polled: the screen is live). */
async function showsCapture(page: Page, id: string): Promise<string> {
  let last = '';
  await eventually(async () => {
    const want = await capture(id);
    last = trimmed(await pageLines(page));
    return last === want;
  }).catch(async () => {
    throw new Error(`the page shows:\n${last}\n---- agent capture shows:\n${await capture(id)}`);
  });
  return last;
}

function stateOf(page: Page, id: string): Promise<string | null> {
  return page.locator(`#agents li[data-id="${id}"]`).getAttribute('data-state');
}

describe('symposium-mcp web in a browser', () => {
  it('lists every agent with its live state, last output and queue; tmux and ended agents open as captures', async () => {
    const sb = sandbox();
    await spawnAgent(sb, 'quiet', BASH, { idleMs: 1000 });
    await spawnAgent(sb, 'busy', ['bash', '-c', 'while :; do echo tick $SECONDS; sleep 0.2; done'], { idleMs: 30_000 });
    await spawnAgent(sb, 'gone', ['bash', '-c', 'echo bye-now; exit 3']);
    // The library runs tmux with this process's environment: the sandbox's tmux server.
    const tmuxTmp = process.env.TMUX_TMPDIR;
    process.env.TMUX_TMPDIR = sb.tmuxTmp;
    cleanups.push(async () => {
      if (tmuxTmp === undefined) delete process.env.TMUX_TMPDIR;
      else process.env.TMUX_TMPDIR = tmuxTmp;
    });
    await spawnAgent(sb, 'tmuxed', BASH, { backend: 'tmux' });
    // Never delivered: the agent is never idle.
    await client.queue('busy', 'echo from-the-queue');
    const web = await serve(sb);
    const page = await open(web);

    await eventually(async () => (await stateOf(page, 'quiet')) === 'idle');
    expect(await stateOf(page, 'busy')).toBe('working');
    await eventually(async () => (await stateOf(page, 'gone')) === 'exited');
    expect(await page.locator('#agents li[data-id="busy"] .agent-meta').textContent()).toMatch(/last output \d+s ago · 1 queued · \d+×\d+/);
    expect(await page.locator('#agents li[data-id="gone"] .agent-meta').textContent()).toMatch(/^exit 3 · /);
    expect(await page.locator('#agents li[data-id="gone"] .agent-preview').textContent()).toBe('bye-now');
    await eventually(async () => /^tick \d+$/.test((await page.locator('#agents li[data-id="busy"] .agent-preview').textContent()) ?? ''));
    expect(await page.locator('#agents li[data-id="tmuxed"] .agent-meta').textContent()).toContain('tmux');
    await screenshot(page, 'list-desktop');

    // The open agent's queue is shown with it.
    await openAgent(page, 'busy');
    await page.locator('#tasks-box:not([hidden])').waitFor();
    expect(await page.locator('#tasks li').allTextContents()).toEqual(['echo from-the-queue']);
    await page.locator('.toolbar .back').click();

    // tmux: no stream to attach, a capture every second, said so.
    await send('tmuxed', 'echo in-tmux-$((3*3))');
    await openAgent(page, 'tmuxed');
    await page.locator('#note', { hasText: 'tmux session: shown as a capture every second, read-only' }).waitFor();
    await eventually(async () => (await pageLines(page)).some((l) => l.includes('in-tmux-9')));
    await showsCapture(page, 'tmuxed');
    await page.locator('.toolbar .back').click();

    // Ended: its last screen.
    await openAgent(page, 'gone');
    await page.locator('#note', { hasText: 'This agent has ended (exited with code 3): its last screen.' }).waitFor();
    await showsCapture(page, 'gone');

    // The list as a phone shows it (the phone's own test is the --write one).
    await page.locator('.toolbar .back').click();
    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot(page, 'list-narrow');
  });

  it('shows an agent exactly as `agent capture` does (replay with its scrollback, then live), read-only: keys go nowhere, the size is not taken', async () => {
    const sb = sandbox();
    await spawnAgent(sb, 'shell', BASH, { cols: 100, rows: 30 });
    await send('shell', "seq 1 60; printf '\\e[31mred\\e[0m \\e[1mbold\\e[0m wide:界 emoji:🙂 end\\n'");
    await eventually(async () => (await capture('shell')).includes('end\nP$'));
    const web = await serve(sb);
    const page = await open(web);
    await openAgent(page, 'shell');
    await showsCapture(page, 'shell');
    // The replay holds the history too.
    const history = await page.evaluate(() => (window as unknown as { symposiumPage: { view: { allLines(): string[] } } }).symposiumPage.view.allLines());
    expect(trimmed(history)).toBe((await capture('shell', true)));
    // The colour arrived as colour.
    expect(await page.evaluate(() => {
      const t = (window as unknown as { symposiumPage: { term: { buffer: { active: { getLine(y: number): { getCell(x: number): { getFgColor(): number; isFgPalette(): boolean } } | undefined; viewportY: number } } } } }).symposiumPage.term;
      const b = t.buffer.active;
      for (let y = 0; y < 30; y++) {
        const cell = b.getLine(b.viewportY + y)?.getCell(0);
        if (cell && cell.isFgPalette() && cell.getFgColor() === 1) return true;
      }
      return false;
    })).toBe(true);

    await send('shell', 'echo live-$((2+3))');
    await eventually(async () => (await pageLines(page)).includes('live-5'));
    await showsCapture(page, 'shell');

    // Read-only: no text box, no keyboard; keys typed in the terminal reach nothing.
    expect(await page.locator('#compose').isHidden()).toBe(true);
    expect(await page.locator('#type-toggle').isHidden()).toBe(true);
    expect(await page.locator('#read-only-note').isVisible()).toBe(true);
    await page.locator('#term').click();
    await page.keyboard.type('echo NOT-TYPED');
    await page.keyboard.press('Enter');
    await send('shell', 'echo after-the-keys');
    await eventually(async () => (await capture('shell')).includes('after-the-keys\nP$'));
    expect(await capture('shell')).not.toContain('NOT-TYPED');
    expect(await status('shell')).toMatchObject({ cols: 100, rows: 30 });
    await showsCapture(page, 'shell');
    await screenshot(page, 'agent-read-only');
  });

  it('with --write: keys typed in the terminal reach the agent (which takes that size); a phone sends and queues without resizing it', async () => {
    const sb = sandbox();
    await spawnAgent(sb, 'w', BASH, { cols: 100, rows: 30, idleMs: 1000 });
    const web = await serve(sb, ['--write']);
    const page = await open(web, { width: 900, height: 600 });
    await openAgent(page, 'w');
    await showsCapture(page, 'w');
    await page.locator('#term').click();
    await page.keyboard.type('echo typed-$((6*7))');
    await page.keyboard.press('Enter');
    await eventually(async () => (await capture('w')).includes('typed-42\nP$'));
    await showsCapture(page, 'w');
    await page.locator('#type-toggle', { hasText: 'stop typing' }).waitFor();
    const size = await page.evaluate(() => {
      const t = (window as unknown as { symposiumPage: { term: { cols: number; rows: number } } }).symposiumPage.term;
      return { cols: t.cols, rows: t.rows };
    });
    await eventually(async () => (await status('w')).cols === size.cols);
    expect(await status('w')).toMatchObject(size);
    expect(size).not.toEqual({ cols: 100, rows: 30 });
    await screenshot(page, 'agent-typing');

    const phone = await open(web, { width: 390, height: 844 }, true);
    await openAgent(phone, 'w');
    await phone.locator('#compose-text').fill('echo from-the-phone');
    await phone.locator('#send-line').tap();
    await eventually(async () => (await capture('w')).includes('from-the-phone\nP$'));
    await phone.locator('#compose-status', { hasText: /^sent$/ }).waitFor();
    await phone.locator('#compose-text').fill('echo queued-from-the-phone');
    await phone.locator('#queue-task').tap();
    await eventually(async () => (await phone.locator('#compose-status').textContent())?.startsWith('queued as task'));
    await eventually(async () => (await capture('w')).includes('queued-from-the-phone\nP$'));
    // Still the size of the browser that typed (its window, less what the page shows under it).
    const typist = await page.evaluate(() => {
      const t = (window as unknown as { symposiumPage: { term: { cols: number; rows: number } } }).symposiumPage.term;
      return { cols: t.cols, rows: t.rows };
    });
    expect(typist.cols).toBe(size.cols);
    await eventually(async () => (await status('w')).rows === typist.rows);
    expect(await status('w')).toMatchObject(typist);
    await showsCapture(phone, 'w');
    await screenshot(phone, 'agent-phone');
  });

  it('two browsers see the same screen, each one more viewer of the agent', async () => {
    const sb = sandbox();
    await spawnAgent(sb, 'both', BASH);
    const web = await serve(sb);
    const a = await open(web);
    const b = await open(web, { width: 700, height: 500 });
    await openAgent(a, 'both');
    await openAgent(b, 'both');
    await send('both', 'for i in 1 2 3; do echo seen-by-both-$i; done');
    await eventually(async () => (await capture('both')).includes('seen-by-both-3\nP$'));
    const shown = await showsCapture(a, 'both');
    expect(await showsCapture(b, 'both')).toBe(shown);
    await eventually(async () => (await status('both')).viewers === 2);
    // A page that goes leaves the supervisor too.
    await b.context().close();
    await eventually(async () => (await status('both')).viewers === 1);
  });

  it('refuses a missing or wrong token and a page of another origin, even one that holds our cookie', async () => {
    const sb = sandbox();
    await spawnAgent(sb, 'secret', BASH);
    const web = await serve(sb);
    const context = await browser.newContext();
    cleanups.push(() => context.close());
    const page = await context.newPage();

    await page.goto(`${web.origin}/`);
    await page.locator('#signin').waitFor();
    expect(await page.locator('#agents li').count()).toBe(0);
    await page.goto(`${web.origin}/#token=wrong-token`);
    await eventually(async () => (await page.locator('#signin-error').textContent()) === 'That token was refused.');
    expect(page.url()).toBe(`${web.origin}/`);

    await page.locator('#token-input').fill(web.token);
    await page.locator('#signin-form button').click();
    await page.locator('#agents li[data-id="secret"]').waitFor();
    expect(await page.evaluate(() => document.cookie)).toBe('');
    await screenshot(page, 'signed-in');

    // Another site on this machine: it gets our SameSite cookie sent along (same site:
    // ports do not count), so only the Origin check stands between it and the agents.
    const foreign = http.createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>elsewhere</title>'));
    await new Promise<void>((resolve) => foreign.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => foreign.close(resolve)));
    const evil = await context.newPage();
    await evil.goto(`http://127.0.0.1:${(foreign.address() as AddressInfo).port}/`);
    const attempt = await evil.evaluate(
      ({ host, token }) =>
        new Promise<{ socket: string; post: string }>((resolve) => {
          const ws = new WebSocket(`ws://${host}/ws`);
          let socket = '';
          ws.onmessage = (ev) => (socket = `got ${String(ev.data).slice(0, 40)}`);
          ws.onopen = () => (socket = 'opened');
          ws.onclose = () => {
            fetch(`http://${host}/session`, { method: 'POST', headers: { 'X-Symposium-Token': token } }).then(
              (r) => resolve({ socket: socket || 'refused', post: String(r.status) }),
              () => resolve({ socket: socket || 'refused', post: 'refused' }),
            );
          };
        }),
      { host: web.host, token: web.token },
    );
    expect(attempt).toEqual({ socket: 'refused', post: 'refused' });
    // Our own page still works.
    await page.reload();
    await page.locator('#agents li[data-id="secret"]').waitFor();
  });

  it('a 50 MB flood ends on the right screen, the page responsive; a browser that stops acknowledging never holds the agent back', async () => {
    const sb = sandbox();
    await spawnAgent(sb, 'flood', BASH, { cols: 120, rows: 40 });
    const web = await serve(sb);
    const page = await open(web);
    // A second page of the same browser: one more WebSocket and one more attach.
    const stuck = await page.context().newPage();
    await stuck.goto(`${web.origin}/`);
    await stuck.locator('#conn.live').waitFor();
    await openAgent(page, 'flood');
    await openAgent(stuck, 'flood');
    await showsCapture(stuck, 'flood');
    type View = { view: { holdAcks: boolean; parsed: number; screens: number; ack(): void; allLines(): string[] } };
    await stuck.evaluate(() => ((window as unknown as View).view = (window as unknown as { symposiumPage: View }).symposiumPage.view).holdAcks = true);
    const before = await stuck.evaluate(() => (window as unknown as View).view.parsed);

    // ~50 MB: 1.1 million lines of 48 bytes, through a real pty.
    const started = Date.now();
    await send('flood', "seq -f 'flood line %09.0f ..........................' 1 1100000; echo FLOOD-DONE");
    await eventually(async () => (await capture('flood')).includes('FLOOD-DONE\nP$'), 120_000);
    const floodMs = Date.now() - started;
    // The agent finished while this browser acknowledged nothing: it never waited for it.
    const stuckGot = (await stuck.evaluate(() => (window as unknown as View).view.parsed)) - before;

    await showsCapture(page, 'flood');
    const got = await page.evaluate(() => {
      const v = (window as unknown as { symposiumPage: View }).symposiumPage.view;
      return { parsed: v.parsed, screens: v.screens };
    });
    // Responsive: it still answers, goes back to the list and opens the agent again.
    await page.locator('.toolbar .back').click();
    await page.locator('#agents li[data-id="flood"]').waitFor();
    await openAgent(page, 'flood');
    await showsCapture(page, 'flood');
    await screenshot(page, 'after-flood');

    // The stuck browser catches up: one fresh screen, not the backlog.
    await stuck.evaluate(() => {
      const v = (window as unknown as View).view;
      v.holdAcks = false;
      v.ack();
    });
    await showsCapture(stuck, 'flood');
    // The fresh screen replaced everything it had, history included.
    const stuckHistory = await stuck.evaluate(() => (window as unknown as View).view.allLines());
    expect(trimmed(stuckHistory)).toBe(await capture('flood', true));
    const stuckEnd = await stuck.evaluate(() => (window as unknown as View).view.screens);
    console.log(
      `flood: ${floodMs} ms for ~50 MB; the live browser parsed ${got.parsed} chars in ${got.screens} screens; ` +
        `the stuck one got ${stuckGot} chars before the agent finished, then ${stuckEnd} screens in all`,
    );
    expect(stuckGot).toBeLessThan(300_000);
    // The flood's own time depends on the machine's load (other test files run beside it).
  }, 180_000);
});
