import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { WebLimits } from '../../src/web/limits';
import { BROWSER_MESSAGE_TYPES, PAGE_MESSAGE_TYPES } from '../../src/web/messages';

// docs/web-protocol.md must describe every message the page and the server exchange (a
// type added without its section fails here; the compiler fails one added without its
// decoder), and state the flow-control figures the code uses.

const DOC = fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'web-protocol.md'), 'utf8');

function section(heading: string): string {
  const start = DOC.indexOf(`\n${heading}\n`);
  expect(start, heading).toBeGreaterThanOrEqual(0);
  const end = DOC.indexOf('\n### ', start + heading.length + 2);
  return DOC.slice(start, end < 0 ? undefined : end);
}

describe('docs/web-protocol.md', () => {
  it('has a section for every message a page sends, and one for every message the server sends', () => {
    const fromPage = section('### 4.3 Page → server');
    for (const t of BROWSER_MESSAGE_TYPES) expect(fromPage, t).toContain(`#### \`${t}\``);
    const toPage = section('### 4.4 Server → page');
    for (const t of PAGE_MESSAGE_TYPES) expect(toPage, t).toContain(`#### \`${t}\``);
  });

  it('states the figures flow control uses', () => {
    const flow = section('### 4.2 Acknowledgements and flow control');
    expect(flow).toContain(`${WebLimits.UnackedChars.toLocaleString('en').replace(/,/g, ' ')} characters are unacknowledged`);
    expect(flow).toContain(`pauses for ${WebLimits.ResyncCalmMs} ms`);
    expect(flow).toContain(`every ${WebLimits.ResyncMaxWaitMs / 1000} seconds`);
    expect(flow).toContain(`${WebLimits.ResyncGapMs} ms after the previous screen`);
  });
});
