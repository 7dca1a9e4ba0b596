import * as fs from 'node:fs';
import * as path from 'node:path';

// `node dist-bench/bench/profile.js DIR [--top N]`: where the CPU time of profiled processes went,
// from the V8 .cpuprofile files `npm run bench -- --profile DIR` leaves. For each profile
// (one per process): its role (from its command line, recorded by the supervisor's script
// path), the time sampled, the share by component (xterm, msgpackr, node-pty, our code,
// Node's own start-up and modules, GC, idle) and the functions with most self time.

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

function component(url: string, fn: string): string {
  if (fn === '(idle)') return 'idle';
  if (fn === '(garbage collector)') return 'GC';
  if (fn === '(program)') return 'V8/native (program)';
  if (url.includes('@xterm/headless')) return 'xterm headless';
  if (url.includes('@xterm/addon-serialize')) return 'xterm serialize';
  if (url.includes('@xterm/')) return 'xterm addons';
  if (url.includes('msgpackr')) return 'msgpackr';
  if (url.includes('node-pty')) return 'node-pty';
  if (url.includes('commander')) return 'commander';
  if (url.includes('/node_modules/')) return 'other modules';
  if (url.startsWith('node:')) return 'node core';
  if (url.includes('/dist/')) return `ours: ${url.slice(url.indexOf('/dist/') + 6)}`;
  if (url === '') return fn ? `native: ${fn}` : 'native';
  return url;
}

function summarize(file: string, top: number): string {
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const id = p.samples[i]!;
    self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0));
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const idle = [...self.entries()].filter(([id]) => byId.get(id)?.callFrame.functionName === '(idle)').reduce((a, [, t]) => a + t, 0);
  const comps = new Map<string, number>();
  const fns = new Map<string, number>();
  const scripts = new Set<string>();
  for (const [id, t] of self) {
    const n = byId.get(id)!;
    const { functionName, url, lineNumber } = n.callFrame;
    if (url.includes('/dist/')) scripts.add(url.slice(url.indexOf('/dist/') + 6));
    const c = component(url, functionName);
    comps.set(c, (comps.get(c) ?? 0) + t);
    if (functionName === '(idle)') continue;
    const key = `${functionName || '(anonymous)'}  ${url ? `${path.basename(url)}:${lineNumber + 1}` : ''}`;
    fns.set(key, (fns.get(key) ?? 0) + t);
  }
  // The hook names files after the script and its first arguments.
  const base = path.basename(file);
  const cli = /^bin-symposium-mcp-agent-([a-z]+)/.exec(base);
  const role = base.startsWith('supervisor-') ? 'supervisor' : cli ? `CLI agent ${cli[1]}` : scripts.has('cli/main.js') ? 'CLI' : 'node';
  const ms = (us: number): string => `${(us / 1000).toFixed(1)} ms`;
  const lines = [`${base}: ${role}, wall ${ms(p.endTime - p.startTime)}, busy ${ms(total - idle)}`];
  lines.push('  by component (self time):');
  for (const [c, t] of [...comps].sort((a, b) => b[1] - a[1]).slice(0, 12)) {
    if (c === 'idle') continue;
    lines.push(`    ${ms(t).padStart(10)}  ${((100 * t) / Math.max(1, total - idle)).toFixed(0).padStart(3)}%  ${c}`);
  }
  lines.push(`  top ${top} functions (self time):`);
  for (const [f, t] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`    ${ms(t).padStart(10)}  ${f}`);
  return lines.join('\n');
}

function main(): void {
  const args = process.argv.slice(2);
  const dir = args.find((a) => !a.startsWith('--'));
  const topIdx = args.indexOf('--top');
  const top = topIdx >= 0 ? Number(args[topIdx + 1]) || 10 : 10;
  if (!dir) {
    process.stderr.write('Usage: node dist-bench/bench/profile.js DIR [--top N]   (DIR from `npm run bench -- --profile DIR`)\n');
    process.exit(2);
  }
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => path.join(dir, f));
  if (files.length === 0) {
    process.stderr.write(`No .cpuprofile files in ${dir}\n`);
    process.exit(1);
  }
  for (const f of files) process.stdout.write(`${summarize(f, top)}\n\n`);
}

main();
