import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PtyTerminal } from '../helpers/pty-terminal';
import { CLI, ROOT, sandboxPerTest, waitFor } from '../helpers/sandbox';

// The CLI guides: help when a verb is missing, the version, hints for the usual mistakes,
// distinct exit codes a script can act on, one time format in every --json output.

const sandbox = sandboxPerTest();
const VERSION = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe('the command line guides', () => {
  it('prints help and exits 1 when the verb is missing; --version and -V print the version', () => {
    const sb = sandbox();
    const agent = sb.run(['agent']);
    expect(agent.code).toBe(1);
    expect(agent.stderr).toMatch(/Usage: symposium-mcp agent \[options\] \[command\][\s\S]*spawn \[options\] <command\.\.\.>/);
    expect(sb.run(['--version'])).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
    expect(sb.run(['-V'])).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
    // Required options say so in --help.
    expect(sb.run(['agent', 'spawn', '--help']).stdout).toMatch(/--uuid <id> +session id: 1-64 letters, digits, - or _ \(required\)/);
    expect(sb.run(['agent', 'spawn', '--help']).stdout).toMatch(/--workdir <dir> +working directory of the agent \(required\)/);
  });

  it('alone in a terminal, symposium-mcp prints the help and exits 1', async () => {
    const sb = sandbox();
    const t = new PtyTerminal([CLI], { cols: 100, rows: 30, env: sb.env, cwd: sb.work });
    try {
      expect(await t.exited).toBe(1);
      expect(t.raw).toMatch(/Usage: symposium-mcp \[options\] \[command\]/);
    } finally {
      t.kill();
    }
  });

  it('says what went wrong with a command given as one word, an unexpanded ~, and spawn options after the command', () => {
    const sb = sandbox();
    const one = sb.run(['agent', 'spawn', '--uuid', 'w', '--workdir', sb.work, 'bash --norc']);
    expect(one.code).toBe(1);
    expect(one.stderr).toBe('Error: No program named "bash --norc": the command and its arguments were given as one word. Pass them as separate words: -- bash --norc\n');
    const tilde = sb.run(['agent', 'spawn', '--uuid', 'w', '--workdir=~/nowhere-at-all', 'bash']);
    expect(tilde.code).toBe(1);
    expect(tilde.stderr).toMatch(/^Error: Working directory ~\/nowhere-at-all does not exist: the shell did not expand "~"/);
    const after = sb.run(['agent', 'spawn', '--uuid', 'w', '--workdir', sb.work, 'sleep', '30', '--idle', '5']);
    expect(after).toEqual({
      code: 0,
      stdout: 'Agent session spawned successfully\n',
      stderr: "Note: --idle came after the command sleep, so it goes to sleep, not to spawn. Everything after CMD belongs to the agent: put spawn's options before it.\n",
    });
    expect(Object.keys(sb.readSessions())).toEqual(['w']);
  });

  it('send with nothing to send is an error; wait --idle on an agent that has ended says so and exits 3', async () => {
    const sb = sandbox();
    expect(sb.run(['agent', 'spawn', '--uuid', 'e', '--workdir', sb.work, '--', 'sh', '-c', 'echo bye; exit 4']).code).toBe(0);
    expect(sb.run(['agent', 'send', 'e'])).toEqual({ code: 1, stdout: '', stderr: 'Error: Nothing to send: give a text, --key KEY or --enter\n' });
    await waitFor(() => sb.run(['agent', 'list']).stdout.includes('Crashed'));
    const idle = sb.run(['agent', 'wait', 'e', '--idle']);
    expect(idle).toEqual({ code: 3, stdout: '', stderr: 'Agent session e has ended (it exited with code 4) and will not become idle\n' });
    const text = sb.run(['agent', 'wait', 'e', '--text', 'never-shown']);
    expect(text).toEqual({ code: 3, stdout: '', stderr: 'Agent session e has ended (it exited with code 4) without showing /never-shown/\n' });
    expect(sb.run(['agent', 'wait', 'e', '--text', 'bye'])).toEqual({ code: 0, stdout: 'bye\n', stderr: '' });
    expect(sb.run(['agent', 'wait', 'e', '--exit'])).toMatchObject({ code: 4, stdout: 'Agent session e exited with code 4\n' });
  });

  it('writes every time in --json output as ISO 8601', async () => {
    const sb = sandbox();
    expect(sb.run(['agent', 'spawn', '--uuid', 'j', '--workdir', sb.work, '--', 'sh', '-c', 'echo hi; while read x; do :; done']).code).toBe(0);
    expect(sb.run(['agent', 'queue', 'j', 'a task']).code).toBe(0);
    await waitFor(() => (JSON.parse(sb.run(['agent', 'queue', 'j', '--list', '--json']).stdout) as Array<{ state: string }>)[0]!.state === 'done', 15_000);
    const tasks = JSON.parse(sb.run(['agent', 'queue', 'j', '--list', '--json']).stdout) as Array<Record<string, unknown>>;
    expect(tasks[0]!.queuedAt).toMatch(ISO);
    for (const k of ['typedAt', 'submittedAt', 'startedAt', 'doneAt', 'deliveredAt']) expect(tasks[0]![k], k).toMatch(ISO);
    const list = JSON.parse(sb.run(['agent', 'list', '--json']).stdout) as Array<Record<string, unknown>>;
    for (const k of ['createdAt', 'lastOutputAt']) expect(list[0]![k], k).toMatch(ISO);
    for (const [k, v] of Object.entries(list[0]!)) if (/At$|^lastAttached$/.test(k) && v !== null) expect(v, k).toMatch(ISO);
  });
});
