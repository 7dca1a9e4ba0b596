import { describe, expect, it } from 'vitest';
import { type LogLine, PlainTextRenderer } from '../../src/recording/plain-text';

// The plain-text log (`agent logs`): terminal output in, the lines a reader wants out.

function render(chunks: string | string[], cols = 40, rows = 5, follow?: (r: PlainTextRenderer) => void): string[] {
  const lines: LogLine[] = [];
  const r = new PlainTextRenderer(cols, rows, (l) => lines.push(l));
  for (const c of Array.isArray(chunks) ? chunks : [chunks]) r.write(c, 1000);
  follow?.(r);
  r.end();
  return lines.map((l) => l.text);
}

describe('the plain-text renderer', () => {
  it('keeps the last state of a progress bar drawn with carriage returns, and the lines around it', () => {
    const bar = Array.from({ length: 101 }, (_, i) => `\rdownloading [${'#'.repeat(Math.floor(i / 10)).padEnd(10)}] ${i}%`).join('');
    expect(render(`start\r\n${bar}\r\ndone\r\n`)).toEqual(['start', 'downloading [##########] 100%', 'done']);
  });

  it('applies backspace, tab and erase-to-end-of-line', () => {
    expect(render('abc\b\bX\r\n1\t2\r\nlong line\r\x1b[Kshort\r\n')).toEqual(['aXc', '1       2', 'short']);
  });

  it('removes colours, OSC titles and links, DCS strings and character sets', () => {
    const s = '\x1b[1;31mred\x1b[0m \x1b]0;title\x07\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\ \x1bP+q544e\x1b\\\x1b(Bplain\x1b(0\r\n';
    expect(render(s)).toEqual(['red link plain']);
  });

  it('reads sequences split anywhere between chunks', () => {
    const s = 'a\x1b[31mb\x1b]2;t\x07c\x1b[2K\rd\r\n';
    for (let cut = 0; cut <= s.length; cut++) expect(render([s.slice(0, cut), s.slice(cut)]), `cut at ${cut}`).toEqual(['d']);
  });

  it('joins a line that wrapped at the window width, and wraps as the screen did', () => {
    const long = 'x'.repeat(95);
    expect(render(`${long}\r\nnext\r\n`, 40)).toEqual([long, 'next']);
    // Exactly the width, then CRLF: no blank line (the wrap is pending, as in a terminal).
    expect(render(`${'y'.repeat(40)}\r\nz\r\n`, 40)).toEqual(['y'.repeat(40), 'z']);
  });

  it('keeps only the final state of a block redrawn with cursor-up (a spinner, an input box)', () => {
    // As Ink-based agents redraw: erase the block's lines going up, then print it again.
    const frame = (n: number) => `working ${n}\r\n> input\r\n`;
    const redraw = '\x1b[2K\x1b[1A\x1b[2K\x1b[1A\x1b[2K\x1b[G';
    const out = ['static line\r\n', frame(1), redraw, frame(2), redraw, frame(3)];
    expect(render(out, 40, 10)).toEqual(['static line', 'working 3', '> input']);
  });

  it('counts wrapped rows when a redraw moves up over a long line', () => {
    const long = 'w'.repeat(50); // two rows at 40 columns
    const out = ['keep\r\n', `${long}\r\n`, '\x1b[2A\x1b[J', 'short\r\n'];
    expect(render(out, 40, 10)).toEqual(['keep', 'short']);
  });

  it('logs lines as they leave a small window, in order, without losing any', () => {
    const text = Array.from({ length: 50 }, (_, i) => `line ${i}\r\n`).join('');
    expect(render(text, 20, 3)).toEqual(Array.from({ length: 50 }, (_, i) => `line ${i}`));
  });

  it('keeps blank lines that were printed, not the empty rows of the window', () => {
    expect(render('a\r\n\r\nb\r\n', 20, 10)).toEqual(['a', '', 'b']);
  });

  it('starts a new page on clear screen and on the alternate screen, keeping what was shown', () => {
    expect(render('one\r\ntwo\r\n\x1b[H\x1b[2Jthree\r\n')).toEqual(['one', 'two', 'three']);
    const vim = '$ vim\r\n\x1b[?1049h\x1b[H\x1b[2Jfile text\x1b[5;1H"f" 1L\x1b[?1049l$ \r\n';
    // Rows a full-screen program never wrote are not lines.
    expect(render(vim)).toEqual(['$ vim', 'file text', '"f" 1L', '$']);
  });

  it('places text by absolute cursor positions', () => {
    expect(render('\x1b[2;5Hb\x1b[1;1Ha\x1b[3;1H\r\n')).toEqual(['a', '    b']);
  });

  it('gives wide characters two columns and keeps combining marks with their letter', () => {
    expect(render('日本語\b\bX\r\n', 20)).toEqual(['日本X']);
    expect(render('e\u0301t\u00e9\r\n')).toEqual(['e\u0301t\u00e9']);
    expect(render(`${'字'.repeat(25)}\r\n`, 40)).toEqual(['字'.repeat(25)]);
  });

  it('takes a resize: fewer rows push the top rows into the log', () => {
    const lines: string[] = [];
    const r = new PlainTextRenderer(20, 5, (l) => lines.push(l.text));
    r.write('a\r\nb\r\nc\r\nd\r\n', 0);
    r.resize(20, 2, 0);
    expect(lines).toEqual(['a', 'b', 'c']);
    r.write('e\r\n', 0);
    r.end();
    expect(lines).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('follow: settle() logs the lines above the cursor once, and again only if they change', () => {
    const lines: string[] = [];
    const r = new PlainTextRenderer(20, 10, (l) => lines.push(l.text));
    r.write('one\r\ntwo\r\n$ ', 0);
    r.settle();
    expect(lines).toEqual(['one', 'two']);
    r.write('cmd\r\nout\r\n', 0);
    r.settle();
    expect(lines).toEqual(['one', 'two', '$ cmd', 'out']);
    // A redraw of a line already logged: logged again in its new state.
    r.write('\x1b[1A\x1b[2Kout2\r\n', 0);
    r.settle();
    r.end();
    expect(lines).toEqual(['one', 'two', '$ cmd', 'out', 'out2']);
  });

  it('times a line by its last write', () => {
    const lines: LogLine[] = [];
    const r = new PlainTextRenderer(20, 5, (l) => lines.push(l));
    r.write('a', 100);
    r.write('b\r\n', 200);
    r.write('c\r\n', 300);
    r.end();
    expect(lines).toEqual([
      { at: 200, text: 'ab' },
      { at: 300, text: 'c' },
    ]);
  });
});
