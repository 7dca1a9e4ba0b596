import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PtyTerminal } from '../helpers/pty-terminal';
import { CLI, ROOT, sandboxPerTest, waitFor } from '../helpers/sandbox';

// Upgrading never costs a running agent: a supervisor started by the previous release
// (built here from its commit) keeps running, and this version's CLI lists, attaches to,
// sends to, captures and kills it.

/** The last release before this one: the commit that landed as 0.1.0. */
const PREVIOUS = 'acf5add';

const sandbox = sandboxPerTest({ PS1: 'OLD$ ' });
let old = '';
let why = '';

beforeAll(() => {
  const has = spawnSync('git', ['cat-file', '-e', `${PREVIOUS}^{commit}`], { cwd: ROOT });
  if (has.status !== 0) {
    why = `commit ${PREVIOUS} is not in this clone's history (a shallow clone?)`;
    return;
  }
  old = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-old-'));
  const archive = spawnSync('sh', ['-c', `git archive ${PREVIOUS} | tar -x -C "${old}"`], { cwd: ROOT, encoding: 'utf8' });
  expect(archive.status, archive.stderr).toBe(0);
  // Its lock file is this one's but for what changed since: the same installed packages serve.
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(old, 'node_modules'));
  for (const step of [
    [path.join(ROOT, 'node_modules', '.bin', 'tsc'), '-p', 'tsconfig.json'],
    [process.execPath, 'scripts/build-relay.js'],
    [process.execPath, 'scripts/bundle-cli.js'],
  ]) {
    const r = spawnSync(step[0]!, step.slice(1), { cwd: old, encoding: 'utf8', timeout: 120_000 });
    expect(r.status, `${step.join(' ')}: ${r.stdout}${r.stderr}`).toBe(0);
  }
}, 180_000);

afterAll(() => {
  if (old) fs.rmSync(old, { recursive: true, force: true });
});

describe('upgrading', () => {
  it("drives the previous release's supervisor with this CLI: list, attach, send, capture, kill", async (ctx) => {
    if (!old) return ctx.skip(why);
    const sb = sandbox();
    const oldCli = path.join(old, 'bin', 'symposium-mcp');
    const run = (cli: string, args: string[]) => spawnSync(cli, args, { env: sb.env, cwd: sb.work, encoding: 'utf8', timeout: 30_000 });
    expect(run(oldCli, ['agent', 'spawn', '--uuid', 'prev', '--workdir', sb.work, '--', 'bash', '--norc', '--noprofile'])).toMatchObject({ status: 0 });

    const list = run(CLI, ['agent', 'list']);
    expect(list.stdout).toMatch(/^Active agent sessions:\n {2}prev - Running \(symposium-agent-prev\) {2}\[(idle|working)/);
    const json = JSON.parse(run(CLI, ['agent', 'list', '--json']).stdout) as Array<Record<string, unknown>>;
    expect(json[0]).toMatchObject({ id: 'prev', backend: 'pty', status: 'Running', viewers: 0 });

    expect(run(CLI, ['agent', 'send', 'prev', 'echo sent-by-new', '--enter']).status).toBe(0);
    await waitFor(() => run(CLI, ['agent', 'capture', 'prev']).stdout.includes('sent-by-new\n'));
    expect(run(CLI, ['agent', 'wait', 'prev', '--text', 'sent-by-new', '--timeout', '10']).status).toBe(0);
    expect(run(CLI, ['agent', 'queue', 'prev', 'echo queued-by-new'])).toMatchObject({ status: 0, stdout: 'Task 1 queued for agent session prev\n' });
    await waitFor(() => run(CLI, ['agent', 'capture', 'prev']).stdout.includes('queued-by-new\n'), 15_000);

    const t = new PtyTerminal([process.execPath, CLI, 'agent', 'attach', 'prev'], { cols: 80, rows: 20, env: sb.env, cwd: sb.work });
    try {
      await t.waitText(/queued-by-new/);
      t.write('echo typed-into-old\r');
      await t.waitText(/typed-into-old\r?\n.*OLD\$/s);
      t.write('\x1c');
      expect(await t.exited).toBe(0);
    } finally {
      t.kill();
    }
    expect(run(CLI, ['agent', 'kill', 'prev']).stdout).toBe('Agent session prev killed\n');
    expect(run(CLI, ['agent', 'list']).stdout).toBe('No active agent sessions\n');
  });
});
