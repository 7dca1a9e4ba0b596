import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, type Sandbox, sandboxPerTest, waitFor } from '../helpers/sandbox';
import { TmuxView } from '../helpers/tmux-view';
import { VERSION } from '../../src/version';

// While nobody is attached the supervisor answers an agent's start-up queries as the next
// viewer's terminal would: its own name until a viewer's terminal has answered, that
// terminal's answers after; exactly one answer to each query, attached or not.

const AGENT = path.join(ROOT, 'test', 'fixtures', 'agents', 'query-agent.js');
const sandbox = sandboxPerTest();

async function ask(sb: Sandbox, n: number): Promise<string> {
  expect(sb.run(['agent', 'send', 'qa', 'q'])).toMatchObject({ code: 0 });
  const re = new RegExp(`^answers ${n}: (.*)$`, 'm');
  const m = await waitFor(() => re.exec(sb.run(['agent', 'capture', 'qa']).stdout), 20_000, 100);
  return m[1]!;
}

describe('terminal queries while nobody is attached', { timeout: 90_000 }, () => {
  it('answered by the supervisor, then as the last viewer’s terminal answered; once each', async () => {
    const sb = sandbox();
    expect(sb.run(['agent', 'spawn', '--uuid', 'qa', '--workdir', sb.work, '--cols', '120', '--rows', '24', '--', process.execPath, AGENT])).toMatchObject({ code: 0 });
    await waitFor(() => sb.run(['agent', 'capture', 'qa']).stdout.includes('ready'), 20_000, 100);

    // Nobody attached, no viewer seen: our name, the default background, no kitty answer
    // (the agent pushed no flags), the mode it set, DA1.
    expect(await ask(sb, 1)).toBe(`\\eP>|symposium-mcp(${VERSION})\\e\\\\e]11;rgb:0000/0000/0000\\a\\e[?2031;1$y\\e[?1;2c`);

    // A tmux pane attached: tmux answers (XTVERSION and DA1; not the others), we do not.
    const v = TmuxView.attach(sb, 'viewer', 120, 24, 'qa');
    await v.waitText(/ready/);
    const attached = await ask(sb, 2);
    expect(attached).toContain('\\eP>|tmux 3.3a\\e\\');
    expect(attached).not.toContain('symposium-mcp');
    expect(attached.match(/\\e\[\?[\d;]*c/g)).toHaveLength(1);

    // Detached again: tmux's name now, the rest ours.
    v.keys('C-\\');
    await waitFor(() => v.dead(), 30_000);
    expect(await ask(sb, 3)).toBe('\\eP>|tmux 3.3a\\e\\\\e]11;rgb:0000/0000/0000\\a\\e[?2031;1$y\\e[?1;2c');
  });
});
