import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalRegistry } from '../helpers/local-registry';
import { PtyTerminal } from '../helpers/pty-terminal';
import { ROOT, Sandbox, waitFor } from '../helpers/sandbox';

// The package as users get it: `npm pack` of this repository, installed with the real npm
// (`npm install -g` into a temporary prefix; the dependencies come from a registry on
// loopback that serves the cached originals of our lock file, so no network is needed),
// then driven through the installed binary: spawn, list, send, capture, attach in a real
// pty, kill. The install compiles node-pty and the native relay as a user's would.

const VERSION = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

let work = '';
let tarball = '';
let prefix = '';
let installed = '';
let bin = '';
let installLog = '';
const registry = new LocalRegistry(ROOT);

function npm(args: string[], cwd: string, timeoutMs: number): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    // No user config or global cache: this install uses only the loopback registry.
    const env = { ...process.env, npm_config_userconfig: path.join(work, 'npmrc'), npm_config_update_notifier: 'false' };
    const child = spawn('npm', args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, out });
    });
  });
}

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-pkg-'));
  fs.writeFileSync(path.join(work, 'npmrc'), '');
  // Packs what the build made (scripts off: a build here would change dist/ under the
  // tests running beside this one).
  const pack = await npm(['pack', '--ignore-scripts', '--json', '--pack-destination', work], ROOT, 60_000);
  expect(pack.code, pack.out).toBe(0);
  tarball = path.join(work, (JSON.parse(pack.out.slice(pack.out.indexOf('['))) as Array<{ filename: string }>)[0]!.filename);
  await registry.start();
  prefix = path.join(work, 'prefix');
  const install = await npm(
    ['install', '-g', '--prefix', prefix, '--registry', registry.url, '--cache', path.join(work, 'cache'), '--no-audit', '--no-fund', '--foreground-scripts', tarball],
    work,
    300_000,
  );
  installLog = install.out;
  expect(install.code, install.out).toBe(0);
  installed = path.join(prefix, 'lib', 'node_modules', 'symposium-mcp');
  bin = path.join(prefix, 'bin', 'symposium-mcp');
}, 360_000);

afterAll(async () => {
  await registry.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

function listed(): string[] {
  const r = spawnSync('tar', ['tzf', tarball], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
}

describe('the package', () => {
  it('ships what runs and nothing only the repository needs', () => {
    const files = listed();
    for (const f of ['bin/symposium-mcp', 'dist/launch.js', 'dist/cli.bundle.js', 'dist/supervisor/main.js', 'dist/supervisor/launch.js', 'dist/client/index.js', 'dist/client/index.d.ts', 'native/relay.c', 'native/addon.c', 'native/spawn.c', 'native/attach.c', 'dist/cli.bundle.js.supervisor-flags.cache', 'scripts/build-relay.js', 'README.md', 'LICENSE', 'protocol.md', 'package.json', 'web/index.html', 'web/app.js']) {
      expect(files, f).toContain(f);
    }
    for (const prefix of ['src/', 'test/', '.ci/', 'bench/', 'dist-bench/', 'node_modules/']) {
      expect(files.filter((f) => f.startsWith(prefix)), prefix).toEqual([]);
    }
    // A relay compiled on the packer's machine must not ship: the install compiles its own.
    expect(files).not.toContain('dist/symposium-relay');
    expect(files).not.toContain('dist/symposium-addon.node');
    expect(files).not.toContain('dist/symposium-spawn');
    expect(files).not.toContain('dist/symposium-attach');
  });

  it('installs with npm install -g: both native parts built, no build tools needed at run time', () => {
    expect(fs.existsSync(bin)).toBe(true);
    expect(fs.statSync(path.join(installed, 'dist', 'symposium-relay')).mode & 0o111).not.toBe(0);
    expect(fs.existsSync(path.join(installed, 'dist', 'symposium-addon.node'))).toBe(true);
    expect(fs.statSync(path.join(installed, 'dist', 'symposium-spawn')).mode & 0o111).not.toBe(0);
    expect(fs.statSync(path.join(installed, 'dist', 'symposium-attach')).mode & 0o111).not.toBe(0);
    expect(fs.existsSync(path.join(installed, 'node_modules', 'node-pty', 'build', 'Release', 'pty.node'))).toBe(true);
    for (const dev of ['typescript', 'esbuild', 'vitest']) expect(fs.existsSync(path.join(installed, 'node_modules', dev)), dev).toBe(false);
    expect(installLog).not.toMatch(/native key relay was not built/);
    expect(installLog).not.toMatch(/allocator trim was not built/);
  });

  it('prints its version', () => {
    for (const flag of ['--version', '-V']) {
      const r = spawnSync(bin, [flag], { encoding: 'utf8' });
      expect(r.stdout).toBe(`${VERSION}\n`);
      expect(r.status).toBe(0);
    }
  });

  it('spawns, lists, sends, captures, attaches in a real terminal and kills through the installed binary', async () => {
    const sb = new Sandbox({ PS1: 'P$ ' });
    try {
      const run = (args: string[]) => spawnSync(bin, args, { env: sb.env, cwd: sb.work, encoding: 'utf8', timeout: 30_000 });
      expect(run(['agent', 'spawn', '--uuid', 'inst', '--workdir', sb.work, '--', 'bash', '--norc', '--noprofile'])).toMatchObject({
        status: 0,
        stdout: 'Agent session spawned successfully\n',
      });
      // Through the installed binary's link, the spawn's native front end ran: the
      // supervisor is the process it started (native/spawn.c names its pipe to it).
      const sup = (JSON.parse(fs.readFileSync(path.join(sb.home, 'agent-sessions.json'), 'utf8')) as Record<string, { supervisor_pid: number }>).inst!.supervisor_pid;
      expect(fs.readFileSync(`/proc/${sup}/environ`, 'latin1').split('\0')).toContain('SYMPOSIUM_SPAWN_REPORT_FD=3');
      expect(run(['agent', 'list']).stdout).toMatch(/^Active agent sessions:\n {2}inst - Running \(symposium-agent-inst\)/);
      expect(run(['agent', 'send', 'inst', 'echo installed-$((40+2))', '--enter']).status).toBe(0);
      await waitFor(() => run(['agent', 'capture', 'inst']).stdout.includes('installed-42'));

      const t = new PtyTerminal([bin, 'agent', 'attach', 'inst'], { cols: 90, rows: 20, env: sb.env, cwd: sb.work });
      try {
        await t.waitText(/installed-42/);
        t.write('echo typed-in-attach\r');
        await t.waitText(/typed-in-attach\r?\n.*P\$/s);
        t.write('\x1c');
        expect(await t.exited).toBe(0);
        expect(t.raw).toContain('[detached from inst]');
      } finally {
        t.kill();
      }
      expect(run(['agent', 'kill', 'inst']).stdout).toBe('Agent session inst killed\n');
      expect(run(['agent', 'list']).stdout).toBe('No active agent sessions\n');
    } finally {
      sb.dispose();
    }
  });

  it('serves the web page and xterm.js from the installed package', async () => {
    const sb = new Sandbox();
    const web = spawn(bin, ['web', '--port', '0'], { env: sb.env, cwd: sb.work, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      web.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      const url = new URL(await waitFor(() => /http:\/\/\S+/.exec(out)?.[0], 15_000));
      const page = await fetch(`${url.origin}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<script type="module" src="/app.js"></script>');
      for (const f of ['/app.js', '/terminal-view.js', '/vendor/xterm.mjs', '/vendor/xterm.css', '/vendor/addon-fit.mjs', '/vendor/addon-unicode11.mjs']) {
        expect((await fetch(`${url.origin}${f}`)).status, f).toBe(200);
      }
      web.kill('SIGINT');
      expect(await new Promise((resolve) => web.once('exit', resolve))).toBe(0);
    } finally {
      web.kill('SIGKILL');
      sb.dispose();
    }
  });

  it('a running supervisor needs nothing from the install directory once started (an upgrade replaces it)', async () => {
    const sb = new Sandbox({ PS1: 'U$ ' });
    const moved = `${installed}.replaced`;
    try {
      const spawned = spawnSync(bin, ['agent', 'spawn', '--uuid', 'up', '--workdir', sb.work, '--', 'bash', '--norc', '--noprofile'], {
        env: sb.env,
        encoding: 'utf8',
      });
      expect(spawned.status, spawned.stderr).toBe(0);
      // What `npm install -g` of another version does to the files under it, at its worst.
      fs.renameSync(installed, moved);
      // Driven by a CLI of the same version from elsewhere: the first replay (the serialize
      // addon), the native relay of a handed-over terminal, the exit record, all after.
      const cli = path.join(ROOT, 'bin', 'symposium-mcp');
      const run = (args: string[]) => spawnSync(cli, args, { env: sb.env, cwd: sb.work, encoding: 'utf8', timeout: 30_000 });
      expect(run(['agent', 'send', 'up', 'echo after-upgrade', '--enter']).status).toBe(0);
      const t = new PtyTerminal([cli, 'agent', 'attach', 'up'], { cols: 80, rows: 20, env: sb.env, cwd: sb.work });
      try {
        await t.waitText(/after-upgrade/);
        t.write('echo keys-still-$((1+1))\r');
        await t.waitText(/keys-still-2/);
        t.write('exit 4\r');
        expect(await t.exited).toBe(0);
        expect(t.raw).toContain('[up exited with code 4]');
      } finally {
        t.kill();
      }
      await waitFor(() => run(['agent', 'list']).stdout.includes('up - Crashed (symposium-agent-up)  [exited with code 4]'));
      expect(run(['agent', 'capture', 'up']).stdout).toContain('keys-still-2');
      const log = fs.readFileSync(path.join(sb.home, 'sessions', 'up', 'supervisor.log'), 'utf8');
      expect(log).not.toMatch(/uncaught|Cannot find module|ENOENT/);
      expect(log).toMatch(/native relay for viewer \d+ started/);
    } finally {
      if (fs.existsSync(moved)) fs.renameSync(moved, installed);
      sb.dispose();
    }
  });
});
