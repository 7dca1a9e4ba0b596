import type { IBufferCell, Terminal } from '@xterm/headless';

// Rows of plain text (default colours and attributes, one column per character, nothing
// skipped between characters) written out without the serializer: their text joined by
// line breaks is byte for byte what it writes for them (checked on random plain rows:
// test/unit/plain-rows.test.ts), at a fraction of its cost. The serializer diffs every
// cell's style against the previous one; measured on a 50 MB plain flood, serializing the
// first 10 000 lines of the burst as they came took ~780 ms of the supervisor's CPU.

/**
 * The serialized text of the rows `from` to `end` (buffer indexes) of the normal buffer when
 * every one is plain and none continues the one before; null otherwise (the serializer's job).
 */
export function plainRowsText(term: Terminal, from: number, end: number): string | null {
  const buf = term.buffer.normal;
  const cell: IBufferCell | undefined = buf.getNullCell();
  const rows: string[] = [];
  for (let y = from; y <= end; y++) {
    const line = buf.getLine(y);
    if (!line || line.isWrapped) return null;
    let last = -1;
    let gap = false;
    for (let x = 0; x < line.length; x++) {
      const c = line.getCell(x, cell);
      if (!c || !c.isAttributeDefault() || c.getWidth() !== 1) return null;
      if (c.getCode() === 0 && c.getChars() === '') gap = true;
      else if (gap) return null; // a character after an empty cell: the serializer moves the cursor there
      else last = x;
    }
    rows.push(line.translateToString(false, 0, last + 1));
  }
  return rows.join('\r\n');
}
