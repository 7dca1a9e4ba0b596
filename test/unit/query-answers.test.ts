import { describe, expect, it } from 'vitest';
import { factsFromAnswers } from '../../src/supervisor/mirror/query-answers';
import type { TerminalFacts } from '../../src/supervisor/mirror/query-answers';
import { Screen } from '../../src/supervisor/mirror/screen';
import { VERSION } from '../../src/version';

// The mirror answers the agent's queries while nobody is attached: each query exactly one
// answer, the right one, in order with the answers xterm gives itself (the DA1 sentinel
// agents send after a probe stays last).

async function answers(setup: string, queries: string[], facts: Partial<TerminalFacts> = {}): Promise<string[]> {
  const s = new Screen(40, 10, 100, 1 << 20, false);
  s.learnTerminal(facts);
  s.write(Buffer.from(setup));
  await s.flush();
  const out: string[] = [];
  s.onAnswer((a) => out.push(a));
  for (const q of queries) s.write(Buffer.from(q));
  await s.flush();
  await new Promise((r) => setTimeout(r, 5)); // an answer ended by BEL leaves after the parse run
  s.dispose();
  return out;
}

const tmux: Partial<TerminalFacts> = { version: 'tmux 3.3a', foreground: [0xd0, 0xd0, 0xd0], background: [0xf0, 0xf0, 0xf0], kitty: true };

describe('answers to terminal queries while nobody is attached', () => {
  const cases: Array<[string, string, string, string[], Partial<TerminalFacts>?]> = [
    ['XTVERSION: our name and version, then DA1', '', '\x1b[>q\x1b[c', [`\x1bP>|symposium-mcp(${VERSION})\x1b\\`, '\x1b[?1;2c']],
    ['XTVERSION: what the last viewer’s terminal answered', '', '\x1b[>0q', ['\x1bP>|tmux 3.3a\x1b\\'], tmux],
    ['kitty query, no flags pushed, no viewer that spoke kitty: no answer, DA1 says no', '', '\x1b[?u\x1b[c', ['\x1b[?1;2c']],
    ['kitty query after a push', '\x1b[>1u', '\x1b[?u\x1b[c', ['\x1b[?1u', '\x1b[?1;2c']],
    ['kitty query, the last viewer spoke kitty', '', '\x1b[?u', ['\x1b[?0u'], tmux],
    ['kitty query on the alternate screen (its own stack)', '\x1b[>1u\x1b[?1049h\x1b[>11u', '\x1b[?u', ['\x1b[?11u']],
    ['XTQMODKEYS', '\x1b[>4;2m', '\x1b[?4m', ['\x1b[>4;2m']],
    ['XTQMODKEYS never set', '', '\x1b[?4m', ['\x1b[>4m']],
    ['DECRQM ?2031 set by the agent: ours replaces xterm’s 0', '\x1b[?2031h', '\x1b[?2031$p', ['\x1b[?2031;1$y']],
    ['DECRQM ?1007 reset by the agent', '\x1b[?1007l', '\x1b[?1007$p', ['\x1b[?1007;2$y']],
    ['DECRQM ?2004: xterm’s own', '\x1b[?2004h', '\x1b[?2004$p', ['\x1b[?2004;1$y']],
    ['DECRQM ?1007 never set: xterm says unknown', '', '\x1b[?1007$p', ['\x1b[?1007;0$y']],
    ['colour scheme: dark by default', '', '\x1b[?996n', ['\x1b[?997;1n']],
    ['colour scheme: light from the viewer’s background', '', '\x1b[?996n', ['\x1b[?997;2n'], tmux],
    ['CPR is still xterm’s', '', '\x1b[?6n', ['\x1b[?1;1R']],
    ['OSC 11 with BEL, then DA1', '', '\x1b]11;?\x07\x1b[c', ['\x1b]11;rgb:0000/0000/0000\x07', '\x1b[?1;2c']],
    ['OSC 11 with ST, then DA1', '', '\x1b]11;?\x1b\\\x1b[c', ['\x1b]11;rgb:0000/0000/0000\x1b\\', '\x1b[?1;2c']],
    ['OSC 10;?;? (foreground and background), the viewer’s', '', '\x1b]10;?;?\x07', ['\x1b]10;rgb:d0d0/d0d0/d0d0\x07\x1b]11;rgb:f0f0/f0f0/f0f0\x07'], tmux],
    ['OSC 10 after the agent set it', '\x1b]10;#112233\x07', '\x1b]10;?\x07', ['\x1b]10;rgb:1111/2222/3333\x07'], tmux],
    ['OSC 12: the foreground when no cursor colour is known', '', '\x1b]12;?\x07', ['\x1b]12;rgb:e5e5/e5e5/e5e5\x07']],
    ['OSC 4;9;?', '', '\x1b]4;9;?\x1b\\', ['\x1b]4;9;rgb:ffff/0000/0000\x1b\\']],
  ];
  for (const [what, setup, query, want, facts] of cases) {
    it(what, async () => {
      expect(await answers(setup, [query], facts)).toEqual(want);
    });
  }

  it('an OSC 11 query whose ST is split between two chunks still ends with ST, before DA1', async () => {
    expect(await answers('', ['\x1b]11;?\x1b', '\\\x1b[c'])).toEqual(['\x1b]11;rgb:0000/0000/0000\x1b\\', '\x1b[?1;2c']);
  });

  it('reads what a viewer’s terminal said of itself in its answers', () => {
    expect(factsFromAnswers('\x1bP>|WezTerm 20240203\x1b\\\x1b]11;rgb:1e1e/1e1e/2e2e\x07\x1b]10;rgb:cdcd/d6d6/f4f4\x1b\\\x1b[?1u\x1b[?62;22c')).toEqual({
      version: 'WezTerm 20240203',
      background: [0x1e, 0x1e, 0x2e],
      foreground: [0xcd, 0xd6, 0xf4],
      kitty: true,
    });
    expect(factsFromAnswers('\x1b[?1;2c')).toEqual({});
  });
});
