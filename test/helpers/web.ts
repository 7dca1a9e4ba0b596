import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type Browser, type BrowserContext, type Page, chromium } from 'playwright-core';
import { CLI, ROOT, type Sandbox, waitFor } from './sandbox';

// `symposium-mcp web` as a user runs it (the CLI, in the foreground, in a sandbox), and the
// system's Chromium driven by playwright-core (never a downloaded browser).

export const CHROMIUM = process.env.SYMPOSIUM_TEST_CHROMIUM ?? '/usr/bin/chromium';
/** Screenshots kept for CI to archive. */
export const ARTIFACTS = path.join(ROOT, 'test-artifacts', 'web');

// Root in CI: no sandbox; no GPU; and nothing that talks to the network on its own.
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--headless',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
}

export class WebProcess {
  stdout = '';
  stderr = '';
  exit: Promise<number | null>;

  private constructor(
    readonly proc: ChildProcess,
    readonly url: string,
  ) {
    this.exit = new Promise((resolve) => {
      if (proc.exitCode !== null) resolve(proc.exitCode);
      else proc.once('exit', (code) => resolve(code));
    });
  }

  /** Runs `symposium-mcp web ARGS --port 0` in the sandbox; resolves once it has printed all it prints at start. */
  static async start(sb: Sandbox, args: string[] = []): Promise<WebProcess> {
    const proc = spawn(CLI, ['web', '--port', '0', ...args], { env: sb.env, cwd: sb.work, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    let url = '';
    try {
      url = await waitFor(() => {
        if (proc.exitCode !== null) throw new Error(`web exited with ${proc.exitCode}: ${err}`);
        return out.includes('Ctrl-C stops.') && /(http:\/\/\S+#token=\S+)/.exec(out)?.[1];
      }, 15_000);
    } catch (e) {
      proc.kill('SIGKILL');
      throw e;
    }
    const w = new WebProcess(proc, url);
    w.stdout = out;
    proc.stdout!.on('data', (d: string) => (w.stdout += d));
    proc.stderr!.on('data', (d: string) => (w.stderr += d));
    w.stderr = err;
    return w;
  }

  get origin(): string {
    return new URL(this.url).origin;
  }

  get host(): string {
    return new URL(this.url).host;
  }

  get port(): number {
    return Number(new URL(this.url).port);
  }

  get token(): string {
    return new URL(this.url).hash.replace(/^#token=/, '');
  }

  /** Ctrl-C: resolves with its exit code (SIGKILL if it does not end in 10 s). */
  async stop(): Promise<number | null> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      this.proc.kill('SIGINT');
      const timer = setTimeout(() => this.proc.kill('SIGKILL'), 10_000);
      const code = await this.exit;
      clearTimeout(timer);
      return code;
    }
    return this.proc.exitCode;
  }
}

/** A session cookie for `web`, as the page gets it (the token traded at /session). */
export async function signIn(web: WebProcess): Promise<string> {
  const r = await fetch(`${web.origin}/session`, { method: 'POST', headers: { Origin: web.origin, 'X-Symposium-Token': web.token } });
  if (r.status !== 204) throw new Error(`sign-in refused: ${r.status}`);
  return (r.headers.get('set-cookie') ?? '').split(';')[0]!;
}

/** The rows of the page's terminal as text (xterm's buffer, not the DOM). */
export function pageLines(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { symposiumPage: { lines(): string[] } }).symposiumPage.lines());
}

/** A screen as `agent capture` prints it: each row trimmed at the end, trailing blank rows dropped. */
export function trimmed(lines: string[]): string {
  const rows = lines.map((l) => l.replace(/\s+$/, ''));
  while (rows.length > 0 && rows[rows.length - 1] === '') rows.pop();
  return rows.join('\n');
}

/** Opens the page with its token in a fresh context; resolves once the list is live. */
export async function openPage(browser: Browser, web: WebProcess, viewport = { width: 1100, height: 700 }): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  await page.goto(web.url);
  await page.locator('#conn.live').waitFor();
  return { context, page };
}

/** Polls from here (page.waitForFunction with an async function returns at once). */
export function eventually<T>(fn: () => Promise<T | undefined | false | null>, timeoutMs = 20_000): Promise<T> {
  return waitFor(fn, timeoutMs, 50);
}
