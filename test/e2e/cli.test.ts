import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Sandbox } from '../helpers/sandbox';

// The command line of ../shared/compat.md: texts, errors, exit codes (tmux backend).

let sb: Sandbox;
afterEach(() => sb?.dispose());

function sandbox(): Sandbox {
  sb = new Sandbox({ SYMPOSIUM_AGENT_BACKEND: 'tmux' });
  return sb;
}

const TMUX_MISSING =
  'Error: The tmux backend needs tmux, which was not found in PATH. Install tmux, or use the default backend (--backend pty), which does not need it.\n';

describe('agent commands', () => {
  it('prints the documented errors with exit code 1', () => {
    const s = sandbox();
    expect(s.run(['agent', 'spawn', '--uuid', 'a', '--workdir', s.work, 'sleep', '30']).code).toBe(0);
    expect(s.run(['agent', 'spawn', '--uuid', 'a', '--workdir', s.work, 'sleep', '30'])).toEqual({
      code: 1,
      stdout: '',
      stderr: 'Error: Agent session a already exists\n',
    });
    for (const verb of ['attach', 'kill', 'capture', 'send']) {
      expect(s.run(['agent', verb, 'nope'])).toEqual({ code: 1, stdout: '', stderr: 'Error: Agent session nope not found\n' });
    }
    // The one that exists is untouched by all that.
    expect(s.tmux(['has-session', '-t', '=symposium-agent-a']).code).toBe(0);
    expect(Object.keys(s.readSessions())).toEqual(['a']);
  });

  it('refuses every invalid id before anything is written or started', async () => {
    const s = sandbox();
    const bad = ['../x', 'a.b', 'a:b', 'a b', '', 'x'.repeat(65), 'a/b', 'é', 'a\nb'];
    const runs = bad.flatMap((id) => [
      { id, args: ['agent', 'spawn', '--uuid', id, '--workdir', s.work, 'sleep', '30'] },
      { id, args: ['agent', 'attach', id] },
      { id, args: ['agent', 'kill', id] },
    ]);
    const results = await Promise.all(runs.map((r) => s.runAsync(r.args)));
    runs.forEach((r, i) => {
      const msg = `Error: Invalid agent id ${JSON.stringify(r.id)}: use 1 to 64 letters, digits, '-' or '_'\n`;
      expect(results[i], r.args.join(' ')).toEqual({ code: 1, stdout: '', stderr: msg });
    });
    expect(fs.existsSync(s.sessionsFile())).toBe(false);
    expect(s.tmux(['list-sessions']).code).not.toBe(0);
    // The limits themselves are fine.
    expect(s.run(['agent', 'spawn', '--uuid', 'x'.repeat(64), '--workdir', s.work, 'sleep', '30']).code).toBe(0);
    expect(s.run(['agent', 'spawn', '--uuid', 'A-z_0', '--workdir', s.work, 'sleep', '30']).code).toBe(0);
  });

  it('refuses a missing working directory (tmux would silently use another)', () => {
    const s = sandbox();
    const missing = path.join(s.work, 'nowhere');
    expect(s.run(['agent', 'spawn', '--uuid', 'a', '--workdir', missing, 'sleep', '30'])).toEqual({
      code: 1,
      stdout: '',
      stderr: `Error: Working directory ${missing} does not exist\n`,
    });
    expect(fs.existsSync(s.sessionsFile())).toBe(false);
  });

  it('reads everything from CMD on as the agent command, with or without --', () => {
    const s = sandbox();
    expect(s.run(['agent', 'spawn', '--uuid', 'a', '--workdir', s.work, 'sh', '-c', 'sleep 30', 'q', '--resume', '--uuid', 'z']).code).toBe(0);
    expect(s.run(['agent', 'spawn', '--uuid', 'b', '--workdir', s.work, '--', 'sh', '-c', 'sleep 30', 'q', '--workdir']).code).toBe(0);
    const file = s.readSessions();
    expect(file.a!.agent_command).toEqual(['sh', '-c', 'sleep 30', 'q', '--resume', '--uuid', 'z']);
    expect(file.b!.agent_command).toEqual(['sh', '-c', 'sleep 30', 'q', '--workdir']);
    expect(file.a!.working_directory).toBe(s.work);
  });

  it('has --help with an example on every command, and exits 1 on unknown options or missing arguments', () => {
    const s = sandbox();
    for (const verb of ['spawn', 'list', 'attach', 'kill']) {
      const r = s.run(['agent', verb, '--help']);
      expect(r.code, verb).toBe(0);
      expect(r.stdout).toContain('Examples:');
      expect(r.stdout).toContain(`symposium-mcp agent ${verb}`);
    }
    const unknown = s.run(['agent', 'list', '--bogus']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("unknown option '--bogus'");
    const noUuid = s.run(['agent', 'spawn', '--workdir', s.work, 'sleep', '30']);
    expect(noUuid.code).toBe(1);
    expect(noUuid.stderr).toContain("required option '--uuid <id>' not specified");
    const noCmd = s.run(['agent', 'spawn', '--uuid', 'a', '--workdir', s.work]);
    expect(noCmd.code).toBe(1);
    expect(noCmd.stderr).toMatch(/^Error: /);
    expect(s.run(['agent', 'kill']).code).toBe(1);
    expect(s.run(['agent', 'attach']).code).toBe(1);
    expect(fs.existsSync(s.sessionsFile())).toBe(false);
  });

  it('without tmux in PATH: a clear error for tmux sessions, list still works', () => {
    const s = sandbox();
    expect(s.run(['agent', 'spawn', '--uuid', 'a', '--workdir', s.work, 'sleep', '30']).code).toBe(0);
    // PATH holds only node (the launcher runs `node` from PATH, as `#!/usr/bin/env node` would).
    const empty = path.join(s.dir, 'empty-bin');
    fs.mkdirSync(empty);
    fs.symlinkSync(process.execPath, path.join(empty, 'node'));
    const env = { PATH: empty };
    const before = fs.readFileSync(s.sessionsFile(), 'utf8');

    const spawn = s.run(['agent', 'spawn', '--uuid', 'b', '--workdir', s.work, 'sleep', '30'], { env });
    expect(spawn).toEqual({ code: 1, stdout: '', stderr: TMUX_MISSING });
    expect(s.run(['agent', 'spawn', '--uuid', 'b', '--backend', 'tmux', '--workdir', s.work, 'sleep', '30'], { env }).stderr).toBe(TMUX_MISSING);

    const list = s.run(['agent', 'list'], { env });
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^Active agent sessions:\n {2}a - Running \(symposium-agent-a\)( {2}\[.*\])?\n$/);
    expect(list.stderr).toBe(`Warning: tmux sessions could not be checked: ${TMUX_MISSING.slice('Error: '.length)}`);

    for (const verb of ['attach', 'kill', 'capture']) expect(s.run(['agent', verb, 'a'], { env }), verb).toEqual({ code: 1, stdout: '', stderr: TMUX_MISSING });
    expect(s.run(['agent', 'not-found-either'], { env }).code).toBe(1);
    expect(fs.readFileSync(s.sessionsFile(), 'utf8')).toBe(before);
    // With tmux back, all is as it was.
    expect(s.run(['agent', 'kill', 'a']).stdout).toBe('Agent session a killed\n');
  });
});
