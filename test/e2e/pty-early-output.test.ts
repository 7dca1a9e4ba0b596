import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Sandbox } from '../helpers/sandbox';
import { COLS, ROWS, replayKit } from '../helpers/replay';
import { TmuxView } from '../helpers/tmux-view';

// The supervisor starts the agent and says `ready` before it loads its mirror, viewers and
// recording (src/supervisor/lifecycle/early-start.ts): what the agent prints at its very
// start, while the rest of the supervisor loads, must be in the capture, the replay and the
// recording like any later output.

let sb: Sandbox;
afterEach(() => sb?.dispose());
const { expectSame, writeScript, startBoth, agentShows } = replayKit(() => sb);

const LINES = 400;
const expected = Array.from({ length: LINES }, (_, i) => `early line ${String(i + 1).padStart(3, '0')}`);

describe('output written while the supervisor still loads', { timeout: 120_000 }, () => {
  it('is all in the capture, the replay and the logs, in order', async () => {
    sb = new Sandbox();
    // ~16 KB at once (more than a pty holds unread), coloured, a title; the time it was all
    // written goes to a file, for the log below.
    const done = path.join(sb.work, 'written-at');
    const file = writeScript(
      'early.sh',
      String.raw`i=1; while [ $i -le ${LINES} ]; do printf '\e[3%dmearly line %03d\e[0m\n' $((i % 8)) $i; i=$((i+1)); done
printf '\e]2;early title\a'
date +%s%3N > ${done}
exec sleep 1000
`,
    );
    const direct = startBoth('e1', ['bash', file]);
    await agentShows('e1', new RegExp(`early line ${LINES}`));
    const cap = sb.run(['agent', 'capture', 'e1', '--scrollback']);
    expect(cap.code, cap.stderr).toBe(0);
    expect(cap.stdout.split('\n').filter((l) => l.startsWith('early line '))).toEqual(expected);
    await direct.waitText(new RegExp(`early line ${LINES}`));
    const viewer = TmuxView.attach(sb, 'viewer', COLS, ROWS, 'e1');
    const seen = await expectSame(direct, viewer);
    expect(seen.state.pane_title).toBe('early title');
    const logs = sb.run(['agent', 'logs', 'e1']);
    expect(logs.stdout.split('\n').filter((l) => l.startsWith('early line '))).toEqual(expected);
    // Usually the agent was done before the supervisor had loaded the rest (said for
    // whoever reads the test's output; the order depends on the machine's load).
    const log = fs.readFileSync(path.join(sb.home, 'sessions', 'e1', 'supervisor.log'), 'utf8');
    const supervising = /^(\S+) supervising /m.exec(log);
    if (supervising) console.log(`agent done ${Date.parse(supervising[1]!) - Number(fs.readFileSync(done, 'utf8'))} ms before the supervisor had loaded`);
  });
});
