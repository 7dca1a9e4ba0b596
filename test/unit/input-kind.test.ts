import { describe, expect, it } from 'vitest';
import { classifyInput, countCprQueries } from '../../src/supervisor/viewers/input-kind';

// What counts as typing (size ownership) and what is a terminal's answer to a query
// (dropped unless it comes from the one answering viewer).

const b = (s: string) => Buffer.from(s, 'latin1');
const classify = (s: string, cprPending = 0) => {
  const k = classifyInput(b(s), { cprPending });
  return { typed: k.typed, kept: k.withoutAnswers.toString('latin1'), hadAnswers: k.hadAnswers, cpr: k.cprAnswers };
};

describe('classifyInput', () => {
  it('plain keys, control keys and key escape sequences are typing', () => {
    for (const s of ['a', 'hello\r', '\x03', '\x1b', '\x1b[A', '\x1bOP', '\x1b[15~', '\x1b[1;5C', '\x1bx', '\x1b\x1b[A', '\x1b[97u', '\x1b[200~text\x1b[201~']) {
      expect(classify(s), JSON.stringify(s)).toEqual({ typed: true, kept: s, hadAnswers: false, cpr: 0 });
    }
  });

  it('mouse reports and focus events are not typing but reach the agent', () => {
    for (const s of ['\x1b[<0;10;5M', '\x1b[<0;10;5m', '\x1b[<64;1;1M', '\x1b[M !!', '\x1b[I', '\x1b[O', '\x1b[I\x1b[<35;3;4M']) {
      expect(classify(s), JSON.stringify(s)).toEqual({ typed: false, kept: s, hadAnswers: false, cpr: 0 });
    }
  });

  it('answers to queries are not typing and are removed from the input', () => {
    const answers = [
      '\x1b[?1;2c', // DA1
      '\x1b[>0;276;0c', // DA2
      '\x1b[=00000000c', // DA3 (no: a DCS in real terminals, but the CSI form too)
      '\x1b[12;40R', // CPR
      '\x1b[?12;40;1R', // DECXCPR
      '\x1b[?2004;1$y', // DECRPM
      '\x1b[0n', // DSR ok
      '\x1b[?1u', // kitty keyboard flags
      '\x1b[8;24;80t', // text area size
      '\x1b]11;rgb:0000/0000/0000\x1b\\', // OSC colour, ST
      '\x1b]10;rgb:ffff/ffff/ffff\x07', // OSC colour, BEL
      '\x1bP1$r0m\x1b\\', // DECRQSS reply
      '\x1b_Gi=1;OK\x1b\\', // kitty graphics reply
    ];
    for (const s of answers) {
      const k = classify(s);
      expect(k, JSON.stringify(s)).toMatchObject({ typed: false, kept: '', hadAnswers: true });
    }
  });

  it('keeps the typed keys around answers, in order', () => {
    expect(classify('ab\x1b[?1;2ccd\x1b[5;7Re')).toEqual({ typed: true, kept: 'abcde', hadAnswers: true, cpr: 1 });
    expect(classify('\x1b[?1;2c\x1b[I')).toEqual({ typed: false, kept: '\x1b[I', hadAnswers: true, cpr: 0 });
  });

  it('a row-1 cursor report is F3 with a modifier unless a query is pending', () => {
    // ESC [ 1 ; 5 R is Ctrl+F3 in xterm, and also "cursor at row 1, column 5".
    expect(classify('\x1b[1;5R', 0)).toEqual({ typed: true, kept: '\x1b[1;5R', hadAnswers: false, cpr: 0 });
    expect(classify('\x1b[1;5R', 1)).toEqual({ typed: false, kept: '', hadAnswers: true, cpr: 1 });
    // Two reports, one query pending: the second is a key.
    expect(classify('\x1b[1;1R\x1b[1;2R', 1)).toEqual({ typed: true, kept: '\x1b[1;2R', hadAnswers: true, cpr: 1 });
    // Not ambiguous (column ≥ 10 or row > 1): always an answer.
    expect(classify('\x1b[1;12R', 0)).toMatchObject({ typed: false, kept: '', cpr: 1 });
    expect(classify('\x1b[3;4R', 0)).toMatchObject({ typed: false, kept: '', cpr: 1 });
  });

  it('Alt+P, Alt+] and Alt+_ are keys, not the start of a reply', () => {
    for (const s of ['\x1bP', '\x1b]', '\x1b_']) {
      expect(classify(s), JSON.stringify(s)).toEqual({ typed: true, kept: s, hadAnswers: false, cpr: 0 });
    }
  });

  it('tolerates truncated and odd input without throwing', () => {
    for (const s of ['\x1b[', '\x1b[12;', '\x1b[<0;1', '\x1b[M', '\x1b]11;rgb', '\x1bP1$r', '\x00\xff\x1b\x1b\x1b', '']) {
      expect(() => classify(s)).not.toThrow();
    }
    expect(classify('').typed).toBe(false);
  });
});

describe('countCprQueries', () => {
  it('counts ESC [ 6 n and ESC [ ? 6 n', () => {
    expect(countCprQueries(b('hello'))).toBe(0);
    expect(countCprQueries(b('\x1b[6n'))).toBe(1);
    expect(countCprQueries(b('a\x1b[6nb\x1b[?6n\x1b[6n'))).toBe(3);
    expect(countCprQueries(b('\x1b[c\x1b[5n'))).toBe(0);
  });
});
