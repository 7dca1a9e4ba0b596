import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, sandboxPerTest } from '../helpers/sandbox';

// The README's everyday examples work when pasted: each line of that block runs, in
// order, in a shell with `symposium-mcp` on PATH (the attach line needs a terminal and is
// covered by the attach tests).

const sandbox = sandboxPerTest();

function block(heading: string): string[] {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const from = readme.indexOf(heading);
  const start = readme.indexOf('```sh\n', from) + '```sh\n'.length;
  return readme.slice(start, readme.indexOf('```', start)).split('\n').filter((l) => l.trim() !== '');
}

describe('the README', () => {
  // Each pasted line blocks this worker (up to 90 s for one); a test timeout cannot stop a
  // blocked line, it only fails the test late: room for a loaded machine instead.
  it('runs its everyday examples as pasted', { timeout: 240_000 }, () => {
    const sb = sandbox();
    const binDir = path.join(sb.dir, 'bin');
    fs.mkdirSync(binDir);
    fs.symlinkSync(path.join(ROOT, 'bin', 'symposium-mcp'), path.join(binDir, 'symposium-mcp'));
    const env = { ...sb.env, PATH: `${binDir}:${process.env.PATH}` };
    const outputs: string[] = [];
    for (const line of block('## Everyday use')) {
      if (/agent attach/.test(line)) continue;
      // The waits give the agent time, as a person pasting line by line would.
      const r = spawnSync('bash', ['-c', line], { env, cwd: sb.work, encoding: 'utf8', timeout: 90_000 });
      expect(r.status, `${line}\n${r.stdout}${r.stderr}`).toBe(0);
      outputs.push(r.stdout);
    }
    const all = outputs.join('');
    expect(all).toContain('agent exited with 3');
    expect(all).toMatch(/demo - Crashed \(symposium-agent-demo\) {2}\[exited with code 3\]/);
    expect(all).toContain('hello from a script');
  });
});
