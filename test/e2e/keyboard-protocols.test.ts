import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { KeyModeTracker } from '../../src/supervisor/mirror/key-modes';
import { PtyTerminal } from '../helpers/pty-terminal';
import { CLI, ROOT, type Sandbox, sandboxPerTest, waitFor } from '../helpers/sandbox';
import { TmuxView } from '../helpers/tmux-view';

// Agents ask for richer key reports (Claude Code: kitty flags and modifyOtherKeys; Codex:
// kitty flags alone). Through `agent attach`, after a detach and a new attach, Shift+Enter
// and Ctrl+Enter must still reach them as they asked: from a tmux pane (extended-keys on:
// it speaks modifyOtherKeys, not kitty), and from a terminal that reports keys itself
// (raw bytes typed into a pty). Leaving gives the terminal back as it was.

const AGENT = path.join(ROOT, 'test', 'fixtures', 'agents', 'key-agent.js');
const sandbox = sandboxPerTest();

function spawn(sb: Sandbox, id: string, mode: string): void {
  const r = sb.run(['agent', 'spawn', '--uuid', id, '--workdir', sb.work, '--cols', '80', '--rows', '24', '--', process.execPath, AGENT, mode]);
  expect(r).toMatchObject({ code: 0, stderr: '' });
}

/** The agent's screen once it shows `re`. */
async function agentShows(sb: Sandbox, id: string, re: RegExp): Promise<void> {
  const r = await sb.runAsync(['agent', 'wait', id, '--text', re.source, '--timeout', '20']);
  expect(r, r.stdout + r.stderr).toMatchObject({ code: 0 });
}

const hex = (s: string) => [...Buffer.from(s, 'latin1')].map((b) => b.toString(16).padStart(2, '0')).join(' ');

describe('keyboard protocols survive attach', { timeout: 120_000 }, () => {
  it('from a tmux pane: Shift+Enter and Ctrl+Enter reach each agent as it asked (after a detach and a new attach for the first)', async () => {
    const sb = sandbox();
    // What each agent must read for S-Enter and C-Enter (tmux reports CSI code;mod u).
    const agents: Array<[string, string, string]> = [
      ['kitty+mok', '\x1b[13;2u', '\x1b[13;5u'],
      ['kitty', '\x1b[13;2u', '\x1b[13;5u'],
      ['mok', '\x1b[27;2;13~', '\x1b[27;5;13~'],
    ];
    for (const [i, [mode]] of agents.entries()) spawn(sb, `k${i}`, mode);
    expect(sb.tmux(['-f', '/dev/null', 'start-server', ';', 'set', '-s', 'extended-keys', 'on'])).toMatchObject({ code: 0 });
    for (const [i, [mode, shiftEnter, ctrlEnter]] of agents.entries()) {
      const id = `k${i}`;
      await agentShows(sb, id, /ready/);
      let v = TmuxView.attach(sb, `first${i}`, 80, 24, id);
      await v.waitText(/ready/);
      if (i === 0) {
        // Detached and attached again (the others: the first attach is enough, lean).
        v.keys('C-\\');
        await waitFor(() => v.dead(), 30_000);
        v.kill();
        v = TmuxView.attach(sb, `again${i}`, 80, 24, id);
        await v.waitText(/ready/);
      }
      for (const [key, bytes] of [['S-Enter', shiftEnter], ['C-Enter', ctrlEnter]] as const) {
        v.keys(key);
        await agentShows(sb, id, new RegExp(`keys: ${hex(bytes)}(\n|$)`));
      }
      expect(sb.run(['agent', 'capture', id]).stdout, mode).not.toMatch(/keys: 53 2d/); // "S-Enter" typed as text
      v.kill();
    }
  });

  it('from a terminal that reports keys itself: its keys in the agent’s form, and its own kitty flags back after a detach', async () => {
    const sb = sandbox();
    spawn(sb, 'r1', 'kitty+mok');
    await agentShows(sb, 'r1', /ready/);
    // Handed over, then relayed by the client; each round with keys of its own.
    const rounds = [
      { relay: '0', kitty: '\x1b[13;2u', xterm: '\x1b[27;5;13~', agentGets: '\x1b[13;5u' },
      { relay: '1', kitty: '\x1b[9;2u', xterm: '\x1b[27;5;9~', agentGets: '\x1b[9;5u' },
    ];
    for (const { relay, kitty, xterm, agentGets } of rounds) {
      const t = new PtyTerminal([CLI, 'agent', 'attach', 'r1'], { cols: 80, rows: 24, env: { ...sb.env, SYMPOSIUM_ATTACH_RELAY: relay }, cwd: sb.work });
      const viewer = new KeyModeTracker(t.term);
      // The shell in this terminal keeps kitty flags 9 of its own.
      t.term.write('\x1b[>9u');
      await t.waitText(/ready/);
      expect(viewer.keyMode()).toMatchObject({ kittyFlags: 1, modifyOtherKeys: 2 });
      // A key as a kitty terminal reports it; one as xterm's modifyOtherKeys does.
      t.write(kitty);
      await agentShows(sb, 'r1', new RegExp(`keys: ${hex(kitty)}(\n|$)`));
      t.write(xterm);
      await agentShows(sb, 'r1', new RegExp(`keys: ${hex(agentGets)}(\n|$)`));
      // Ctrl-\ as a kitty terminal reports it once the agent's flags are on.
      t.write(relay === '0' ? '\x1b[92;5u' : '\x1b[27;5;92~');
      expect(await t.exited).toBe(0);
      expect(t.text()).toContain('[detached from r1]');
      expect(viewer.keyMode()).toEqual({ kittyFlags: 9, modifyOtherKeys: 0, formatOtherKeys: 0, appCursor: false });
    }
  });

  it('send --key types modified keys as the agent asked for them', async () => {
    const sb = sandbox();
    spawn(sb, 'sk', 'kitty+mok');
    spawn(sb, 'sm', 'mok');
    for (const [id, want] of [
      ['sk', ['\x1b[13;2u', '\x1b[99;5u', '\x1b[27u']],
      ['sm', ['\x1b[27;2;13~', '\x1b[27;5;99~', '\x1b']],
    ] as const) {
      await agentShows(sb, id, /ready/);
      expect(sb.run(['agent', 'send', id, '--key', 'S-Enter', '--key', 'C-c', '--key', 'Escape'])).toMatchObject({ code: 0, stderr: '' });
      await agentShows(sb, id, new RegExp(want.map((k) => `keys: ${hex(k)}`).join('\\n')));
    }
  });
});
