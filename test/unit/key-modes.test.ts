import { describe, expect, it } from 'vitest';
import { KeyModeTracker } from '../../src/supervisor/mirror/key-modes';
import { Screen } from '../../src/supervisor/mirror/screen';
import { BEFORE_REPLAY, ON_LEAVE } from '../../src/terminal-modes';
import { term, write } from '../helpers/cells';

// The keyboard modes an agent sets, through a replay: what the agent wrote goes to the
// mirror; its snapshot, after the reset, goes to a fresh terminal that tracks the same
// modes (the viewer's). The viewer must end up in the agent's modes, and the snapshot's
// `leave` (then ON_LEAVE) must take it back to where it was, its own kitty entries kept.

interface Seen {
  mode: ReturnType<KeyModeTracker['keyMode']>;
  leave: string;
  dec: boolean[];
}

const DEC = [5, 8, 12, 1005, 1007, 2027, 2031];

/** Modes set (true); a mode never set and one reset (by the agent, or by the reset before a replay) look alike. */
function seen(t: KeyModeTracker): Seen {
  return { mode: t.keyMode(), leave: t.leave(), dec: DEC.map((m) => t.decMode(m) === true) };
}

async function mirror(output: string): Promise<{ screen: Screen; snap: { bytes: Buffer; leave: string } }> {
  const screen = new Screen(40, 8, 100, 1 << 20, false);
  screen.write(Buffer.from(output, 'latin1'));
  const snap = await new Promise<{ bytes: Buffer; leave: string }>((r) => screen.snapshot((s) => r(s)));
  return { screen, snap };
}

/** The agent's modes as a tracker on a plain terminal sees them. */
async function truth(output: string): Promise<Seen> {
  const t = term(40, 8);
  const k = new KeyModeTracker(t);
  await write(t, output);
  const s = seen(k);
  t.dispose();
  return s;
}

const SCENARIOS: Array<[string, string]> = [
  ['Claude Code: kitty flags 1, modifyOtherKeys 2, bracketed paste', '\x1b[>1u\x1b[>4;2m\x1b[?2004hprompt> '],
  ['Codex: kitty flags 7, alternate scroll, on the alternate screen', '\x1b[?1049h\x1b[>7u\x1b[?1007hcodex'],
  ['pushed on the main screen, more on the alternate one', '\x1b[>1u\x1b[?1049h\x1b[>3u\x1b[>5u\x1b[>4;1mvim'],
  ['set, or, and-not', '\x1b[=5;1u\x1b[=2;2u\x1b[=4;3u'],
  ['a full stack evicts its oldest slot', [...Array(10).keys()].map((i) => `\x1b[>${i + 1}u`).join('')],
  ['popped more than pushed', '\x1b[>1u\x1b[>2u\x1b[<5u'],
  ['RIS clears everything', '\x1b[>1u\x1b[>4;2m\x1b[?1007h\x1bc'],
  ['modifyOtherKeys reset, another resource set', '\x1b[>4;2m\x1b[>4m\x1b[>1;2m'],
  ['modifyOtherKeys disabled, formatOtherKeys', '\x1b[>4n\x1b[>4;1f'],
  ['modes xterm does not keep', '\x1b[?5h\x1b[?8l\x1b[?12h\x1b[?1005h\x1b[?2027h\x1b[?2031h\x1b[?2026h\x1b[?1049h\x1b[?1049l'],
];

describe('keyboard modes through a replay', () => {
  for (const [what, output] of SCENARIOS) {
    it(what, async () => {
      const { screen, snap } = await mirror(output);
      const expected = await truth(output);
      expect(screen.keyMode()).toEqual(expected.mode);
      // The viewer's terminal: its shell keeps kitty flags 9 of its own (but for a full
      // stack of the agent's: kitty's 8 slots then hold nothing else).
      const full = what.startsWith('a full stack');
      const own = full ? 0 : 9;
      const viewer = term(40, 8);
      const tracker = new KeyModeTracker(viewer);
      if (!full) await write(viewer, '\x1b[>9u');
      await write(viewer, BEFORE_REPLAY + snap.bytes.toString('utf8'));
      const got = seen(tracker);
      // modifyOtherKeys 1 is asked of the viewer when the agent has kitty flags alone.
      const extraMok = expected.mode.kittyFlags & 1 && !/\x1b\[>4[;nm]/.test(output);
      expect(got.mode).toEqual({ ...expected.mode, modifyOtherKeys: extraMok ? 1 : expected.mode.modifyOtherKeys });
      expect(got.dec).toEqual(expected.dec);
      // Leaving: back to the shell's flags, nothing of the agent's left.
      await write(viewer, snap.leave + ON_LEAVE);
      expect(tracker.keyMode()).toEqual({ kittyFlags: own, modifyOtherKeys: 0, formatOtherKeys: 0, appCursor: false });
      // Autorepeat (?8) is back on, the others off.
      expect(DEC.filter((m) => tracker.decMode(m) === true)).toEqual(output.includes('\x1b[?8l') ? [8] : []);
      viewer.dispose();
      screen.dispose();
    });
  }

  it('the agent pushes and pops after the replay: the viewer follows, leave still fits', async () => {
    const { screen, snap } = await mirror('start');
    const leaves: string[] = [];
    screen.onKeyModes = (_seq, leave) => leaves.push(leave);
    const viewer = term(40, 8);
    const tracker = new KeyModeTracker(viewer);
    await write(viewer, '\x1b[>9u');
    await write(viewer, BEFORE_REPLAY + snap.bytes.toString('utf8'));
    for (const live of ['\x1b[>1u', '\x1b[>4;2m', '\x1b[=3u', '\x1b[?1049h\x1b[>5u']) {
      screen.write(Buffer.from(live));
      await write(viewer, live);
    }
    await screen.flush();
    expect(leaves).toHaveLength(4);
    expect(tracker.keyMode().kittyFlags).toBe(5);
    await write(viewer, leaves[leaves.length - 1]! + ON_LEAVE);
    expect(tracker.keyMode()).toEqual({ kittyFlags: 9, modifyOtherKeys: 0, formatOtherKeys: 0, appCursor: false });
    viewer.dispose();
    screen.dispose();
  });
});
