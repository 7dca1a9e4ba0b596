import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type ColumnResult, type Ctx, type Plan, type RunRecord, type Values, figAttach, figEchoInTurns, figFlood, figMemory, figSpawn, figStartup, makeFloodFile } from './figures';
import { liveTerms } from './outer';
import { figHistoryMemory, figScale } from './scale';
import { aggregate, metrics, table } from './report';
import { ROOT, Sandbox } from './sandbox';
import { type Column, PtySystem, type System, type SystemName, TmuxSystem } from './systems';
import { BenchError, errorText, liveChildren, now, run } from './util';

// `npm run bench`: symposium-mcp's pty backend against tmux (a private server, status bar
// off), with a direct pty as the physical baseline, driven from the outside through real
// pseudo-terminals. See report.ts for the figures and targets, figures.ts for the method.

const USAGE = `Usage: npm run bench -- [options]

Measures symposium-mcp (pty backend) against tmux on this machine, side by side.

Options:
  --quick              a short run (under a minute): 20 MB flood, fewer runs
  --json               print only the JSON results on stdout
  --out PATH           where to write the JSON results (default: bench-results.json)
  --runs N             runs of every figure for each system (default: 3 to 5; quick: 1 to 3)
  --flood-mb N         size of the flood in MB (default 100; quick 20)
  --keys N             keystrokes per echo run and system (default 1000; quick 300)
  --systems LIST       comma-separated: pty,tmux,direct (default: all three)
  --figures LIST       comma-separated: spawn,flood,echo,attach,memory,history,scale (default: all)
  --scale-agents N     agents of the scale figure (default 100; quick 30)
  --keep               keep the temporary directory (for debugging)
  --profile DIR        write V8 CPU profiles of every symposium-mcp process (CLI, supervisors)
                       into DIR (NODE_OPTIONS=--cpu-prof); the figures are then slower than normal
  --in-place           run the repo's dist/ directly (default: a copy taken at the start,
                       so a rebuild during the run cannot mix two versions)
  --app DIR            measure another build instead (a directory with its bin/ and dist/,
                       e.g. a copy of an earlier one): before/after in the same conditions
  -h, --help           this help
`;

const FIGURES = ['spawn', 'flood', 'echo', 'attach', 'memory', 'history', 'scale'] as const;
type FigureName = (typeof FIGURES)[number];

interface Options {
  quick: boolean;
  json: boolean;
  out: string;
  runs: number | null;
  floodMB: number | null;
  keys: number | null;
  columns: Column[];
  figures: FigureName[];
  keep: boolean;
  inPlace: boolean;
  /** Another build to measure instead of this one (its directory: bin/, dist/). */
  app: string | null;
  profileDir: string | null;
  scaleAgents: number | null;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    quick: false,
    json: false,
    out: 'bench-results.json',
    runs: null,
    floodMB: null,
    keys: null,
    columns: ['pty', 'tmux', 'direct'],
    figures: [...FIGURES],
    keep: false,
    inPlace: false,
    app: null,
    profileDir: null,
    scaleAgents: null,
  };
  const value = (i: number, name: string): string => {
    const v = argv[i + 1];
    if (v === undefined) throw new BenchError(`${name} needs a value`);
    return v;
  };
  const posInt = (v: string, name: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new BenchError(`${name} expects a positive integer, not ${JSON.stringify(v)}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    switch (a) {
      case '--quick':
        o.quick = true;
        break;
      case '--json':
        o.json = true;
        break;
      case '--keep':
        o.keep = true;
        break;
      case '--profile':
        o.profileDir = path.resolve(value(i++, a));
        break;
      case '--app':
        o.app = path.resolve(value(i++, a));
        break;
      case '--in-place':
        o.inPlace = true;
        break;
      case '--out':
        o.out = value(i++, a);
        break;
      case '--runs':
        o.runs = posInt(value(i++, a), a);
        break;
      case '--flood-mb':
        o.floodMB = posInt(value(i++, a), a);
        break;
      case '--scale-agents':
        o.scaleAgents = posInt(value(i++, a), a);
        break;
      case '--keys':
        o.keys = posInt(value(i++, a), a);
        break;
      case '--systems': {
        const list = value(i++, a).split(',').map((s) => s.trim()).filter(Boolean);
        for (const s of list) if (!['pty', 'tmux', 'direct'].includes(s)) throw new BenchError(`unknown system ${JSON.stringify(s)}: use pty, tmux, direct`);
        o.columns = (['pty', 'tmux', 'direct'] as Column[]).filter((c) => list.includes(c));
        break;
      }
      case '--figures': {
        const list = value(i++, a).split(',').map((s) => s.trim()).filter(Boolean);
        for (const s of list) if (!(FIGURES as readonly string[]).includes(s)) throw new BenchError(`unknown figure ${JSON.stringify(s)}: use ${FIGURES.join(', ')}`);
        o.figures = FIGURES.filter((f) => list.includes(f));
        break;
      }
      case '-h':
      case '--help':
        process.stdout.write(USAGE);
        process.exit(0);
        break;
      default:
        throw new BenchError(`unknown option ${JSON.stringify(a)} (see --help)`);
    }
  }
  return o;
}

function makePlan(o: Options): Plan {
  const r = (full: number, quick: number): number => o.runs ?? (o.quick ? quick : full);
  return {
    runs: { spawn: r(5, 3), flood: r(3, 1), echo: r(3, 1), attach: r(5, 3), memory: r(3, 1), history: r(3, 1), scale: r(2, 1) },
    scaleAgents: o.scaleAgents ?? (o.quick ? 30 : 100),
    scaleCalls: o.quick ? 60 : 200,
    floodBytes: (o.floodMB ?? (o.quick ? 20 : 100)) * 1e6,
    // The p99 of 300 keys is their third slowest: on this VM, 1-2 % of keys take 1-5 ms
    // under every system (a bare pty too), so 300 keys made that figure a coin toss
    // between runs; 1 000 keys make it the tenth slowest.
    keys: o.keys ?? (o.quick ? 300 : 1000),
    keyGapMs: o.quick ? 2 : 10,
    warmKeys: o.quick ? 0 : 2000,
    idleSessions: 20,
    memorySettleMs: o.quick ? 3000 : 12_000,
  };
}

interface Machine {
  nproc: number;
  cpu: string;
  memory_gib: number;
  kernel: string;
  node: string;
  tmux: string | null;
  symposium_commit: string | null;
  /** 1, 5 and 15 minute load averages when the run ended: other work on the machine. */
  loadavg: number[];
}

async function machine(tmuxVersion: string | null): Promise<Machine> {
  let cpu = 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpu = m[1]!.trim();
  } catch {
    /* not Linux? */
  }
  let commit: string | null = null;
  try {
    commit = (await run('git', ['rev-parse', '--short', 'HEAD'], { env: process.env, cwd: ROOT, timeoutMs: 5000 })).stdout.trim() || null;
  } catch {
    /* not a git checkout */
  }
  return {
    nproc: os.availableParallelism(),
    cpu,
    memory_gib: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    tmux: tmuxVersion,
    symposium_commit: commit,
    loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

/** One line on stderr, rewritten in place on a terminal. */
class Progress {
  private readonly tty = process.stderr.isTTY === true;
  private readonly t0 = now();
  private done = 0;
  constructor(private readonly total: number) {}
  step(what: string): void {
    this.done++;
    const secs = Math.round((now() - this.t0) / 1000);
    const line = `[bench ${String(this.done).padStart(String(this.total).length)}/${this.total} ${Math.floor(secs / 60)}:${String(secs % 60).padStart(2, '0')}] ${what}`;
    if (this.tty) process.stderr.write(`\r\x1b[K${line.slice(0, (process.stderr.columns || 100) - 1)}`);
    else process.stderr.write(`${line}\n`);
  }
  note(msg: string): void {
    if (this.tty) process.stderr.write('\r\x1b[K');
    process.stderr.write(`${msg}\n`);
  }
  end(): void {
    if (this.tty) process.stderr.write('\r\x1b[K');
  }
}

/** Whether the pty backend can spawn an agent here: returns the reason when it cannot. */
async function probePty(pty: PtySystem, cli: string): Promise<string | null> {
  if (!fs.existsSync(path.join(ROOT, 'dist', 'cli', 'main.js'))) return 'dist/cli/main.js is missing: run `npm run build`';
  if (!fs.existsSync(cli)) return `${cli} is missing`;
  try {
    await pty.spawn('probe', ['cat'], { cols: 80, rows: 24 });
  } catch (err) {
    return errorText(err);
  }
  try {
    const pids = await pty.serverPids(['probe']);
    if (!pids[0]) return '`agent list --json` shows no supervisorPid';
  } catch (err) {
    return errorText(err);
  } finally {
    await pty.kill('probe').catch(() => undefined);
  }
  return null;
}

/** Preloaded with --profile: profiles the whole process, written when it exits normally. */
const PROFILE_HOOK = `'use strict';
const inspector = require('node:inspector');
const fs = require('node:fs');
const path = require('node:path');
const session = new inspector.Session();
session.connect();
session.post('Profiler.enable');
session.post('Profiler.setSamplingInterval', { interval: 200 });
session.post('Profiler.start');
let written = false;
function write() {
  if (written) return;
  written = true;
  // An in-thread session answers synchronously: safe in an 'exit' handler.
  session.post('Profiler.stop', (err, res) => {
    if (err || !res) return;
    const role = (process.argv[1] || 'node').split('/').slice(-2).join('-').replace(/[^A-Za-z0-9_.-]/g, '_');
    const file = path.join(process.env.SYMPOSIUM_BENCH_PROFILE_DIR, role + '-' + process.argv.slice(2, 4).join('-').replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 60) + '-' + process.pid + '.cpuprofile');
    try { fs.writeFileSync(file, JSON.stringify(res.profile)); } catch {}
  });
}
process.on('exit', write);
`;

let sandbox: Sandbox | null = null;
let keepDir = false;

/** Ctrl-C, SIGTERM, a crash: kill everything we started, synchronously, then go. */
function emergencyCleanup(): number {
  for (const t of liveTerms) t.killNow();
  for (const c of liveChildren) {
    try {
      c.kill('SIGKILL');
    } catch {
      /* gone */
    }
  }
  return sandbox ? sandbox.dispose(keepDir) : 0;
}

function installHandlers(): void {
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
      process.stderr.write(`bench: ${sig}: stopping and removing every session, supervisor and tmux server it started\n`);
      emergencyCleanup();
      process.exit(sig === 'SIGINT' ? 130 : 143);
    });
  }
  process.on('exit', () => {
    emergencyCleanup();
  });
}

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
  const plan = makePlan(opts);
  keepDir = opts.keep;
  installHandlers();
  const prog0 = new Progress(0);
  const sb = new Sandbox();
  sandbox = sb;
  if (opts.app) sb.cli = path.join(opts.app, 'bin', 'symposium-mcp');
  else if (!opts.inPlace) sb.freezeBuild();
  if (opts.profileDir) {
    fs.mkdirSync(opts.profileDir, { recursive: true });
    // --cpu-prof is refused in NODE_OPTIONS; a preloaded script does the same through the
    // inspector, in every Node process the CLI starts (supervisors included).
    const hook = path.join(sb.dir, 'cpu-profile-hook.js');
    fs.writeFileSync(hook, PROFILE_HOOK);
    sb.env.NODE_OPTIONS = `${sb.env.NODE_OPTIONS ?? ''} --require ${hook}`.trim();
    sb.env.SYMPOSIUM_BENCH_PROFILE_DIR = opts.profileDir;
    prog0.note(`bench: CPU profiles go to ${opts.profileDir}; figures measured while profiling are slower than normal`);
  }
  const errors: string[] = [];
  const notes: string[] = [];
  const t0 = now();
  const loadStart = os.loadavg().map((x) => Math.round(x * 100) / 100);

  const tmux = new TmuxSystem(sb);
  const pty = new PtySystem(sb);
  let tmuxVersion: string | null = null;
  try {
    tmuxVersion = await tmux.version();
  } catch (err) {
    if (opts.columns.includes('tmux')) throw new BenchError(`tmux is not available: ${errorText(err)} (install tmux, or pass --systems pty,direct)`);
  }
  const systems = new Map<SystemName, System>();
  let ptyUnavailable: string | null = null;
  try {
    if (opts.columns.includes('tmux')) {
      await tmux.reset();
      systems.set('tmux', tmux);
    }
    if (opts.columns.includes('pty')) {
      prog0.note('bench: checking that the pty backend can spawn an agent…');
      ptyUnavailable = await probePty(pty, sb.cli);
      if (ptyUnavailable) {
        prog0.note(`Error: the pty backend is not available: ${ptyUnavailable}\nbench: measuring the other systems only; pty figures are missing.`);
        errors.push(`pty backend not available: ${ptyUnavailable}`);
        // Whatever the failed probe left behind.
        Sandbox.killPids(() => sb.ptyProcesses());
      } else systems.set('pty', pty);
    }
    const columns = opts.columns.filter((c) => c === 'direct' || systems.has(c));

    const floods = opts.figures.includes('flood');
    const floodFile = path.join(sb.dir, 'flood.txt');
    const colourFile = path.join(sb.dir, 'flood-colour.txt');
    const flood = { path: floodFile, end: floods ? makeFloodFile(floodFile, plan.floodBytes) : '' };
    const colourFlood = { path: colourFile, end: floods ? makeFloodFile(colourFile, plan.floodBytes, true) : '' };
    const ctx: Omit<Ctx, 'progress'> = { sb, systems, plan, size: { cols: 120, rows: 40 }, flood, colourFlood };

    /** `fn` measures one column per call; `together` all columns in one call (echo). */
    type Job =
      | { figure: string; cols: Column[]; runs: number; fn: (col: Column) => Promise<Values> }
      | { figure: string; cols: Column[]; runs: number; together: (order: Column[]) => Promise<Map<Column, ColumnResult>> };
    const jobs: Job[] = [];
    const c = ctx as Ctx;
    const without = (x: Column): Column[] => columns.filter((col) => col !== x);
    for (const f of opts.figures) {
      if (f === 'spawn') {
        jobs.push({ figure: 'spawn', cols: columns, runs: plan.runs.spawn, fn: (col) => figSpawn(c, col) });
        jobs.push({ figure: 'spawn-cold', cols: columns, runs: plan.runs.spawn, fn: (col) => figSpawn(c, col, true) });
        jobs.push({ figure: 'startup', cols: columns, runs: plan.runs.spawn, fn: (col) => figStartup(c, col) });
      }
      if (f === 'flood') {
        jobs.push({ figure: 'flood-detached', cols: columns, runs: plan.runs.flood, fn: (col) => figFlood(c, col, false) });
        jobs.push({ figure: 'flood-attached', cols: columns, runs: plan.runs.flood, fn: (col) => figFlood(c, col, true) });
        jobs.push({ figure: 'flood-colour', cols: columns, runs: plan.runs.flood, fn: (col) => figFlood(c, col, false, c.colourFlood) });
      }
      if (f === 'echo') jobs.push({ figure: 'echo', cols: columns, runs: plan.runs.echo, together: (order) => figEchoInTurns(c, order) });
      if (f === 'attach') {
        jobs.push({ figure: 'attach', cols: without('direct'), runs: plan.runs.attach, fn: (col) => figAttach(c, col) });
        jobs.push({ figure: 'attach-cold', cols: without('direct'), runs: plan.runs.attach, fn: (col) => figAttach(c, col, true) });
      }
      if (f === 'history') jobs.push({ figure: 'history', cols: without('direct'), runs: plan.runs.history, fn: (col) => figHistoryMemory(c, col) });
      if (f === 'scale') jobs.push({ figure: 'scale', cols: without('direct'), runs: plan.runs.scale, fn: (col) => figScale(c, col) });
      if (f === 'memory') jobs.push({ figure: 'memory', cols: columns, runs: plan.runs.memory, fn: (col) => figMemory(c, col) });
    }
    const progress = new Progress(jobs.reduce((n, j) => n + ('together' in j ? 1 : j.cols.length) * j.runs, 0));
    c.progress = (w) => progress.step(w);

    const records: RunRecord[] = [];
    const jobSeconds: Record<string, number> = {};
    for (const job of jobs) {
      const jobStart = now();
      for (let r = 0; r < job.runs; r++) {
        // Interleave the systems, starting with a different one each run.
        const order = job.cols.map((_, i) => job.cols[(i + r) % job.cols.length]!);
        if ('together' in job) {
          progress.step(`${job.figure}: ${order.join(', ')} in turns, run ${r + 1}/${job.runs}`);
          try {
            const all = await job.together(order);
            for (const col of job.cols) records.push({ figure: job.figure, column: col, run: r + 1, ...all.get(col)! });
          } catch (err) {
            const msg = `${job.figure} run ${r + 1}: ${errorText(err)}`;
            for (const col of job.cols) records.push({ figure: job.figure, column: col, run: r + 1, error: errorText(err) });
            errors.push(msg);
            progress.note(`bench: error: ${msg}`);
            for (const s of systems.values()) await s.reset().catch((e) => errors.push(`reset failed: ${errorText(e)}`));
            Sandbox.killPids(() => sb.ptyProcesses());
          }
          continue;
        }
        for (const col of order) {
          progress.step(`${job.figure}: ${col}, run ${r + 1}/${job.runs}`);
          try {
            const values = await job.fn(col);
            records.push({ figure: job.figure, column: col, run: r + 1, values });
            if (values.complete === false) {
              notes.push(`${job.figure} ${col} run ${r + 1}: the end of the flood was lost: its last line is not on the final screen${col === 'direct' ? ' (node-pty reported the exit without the last data)' : ''}`);
            }
          } catch (err) {
            const msg = `${job.figure} ${col} run ${r + 1}: ${errorText(err)}`;
            records.push({ figure: job.figure, column: col, run: r + 1, error: errorText(err) });
            errors.push(msg);
            progress.note(`bench: error: ${msg}`);
            // Start the next run from a clean state.
            const s = systems.get(col as SystemName);
            await s?.reset().catch((e) => errors.push(`reset of ${col} failed: ${errorText(e)}`));
            if (col === 'pty') Sandbox.killPids(() => sb.ptyProcesses());
          }
        }
      }
      jobSeconds[job.figure] = Math.round((now() - jobStart) / 100) / 10;
    }
    progress.end();

    const defs = metrics(plan.floodBytes / 1e6, plan.idleSessions, plan.scaleAgents, plan.scaleCalls).filter((m) => records.some((r) => r.figure === m.figure));
    // Requested but unavailable systems keep their column, empty.
    const shown = opts.columns;
    const results = aggregate(records, defs, shown);
    const mach = await machine(tmuxVersion);
    const report = {
      tool: 'symposium-mcp bench',
      date: new Date().toISOString(),
      quick: opts.quick,
      machine: { ...mach, loadavg_start: loadStart },
      plan,
      systems: {
        pty: { measured: systems.has('pty'), error: ptyUnavailable },
        tmux: { measured: systems.has('tmux'), version: tmuxVersion, config: fs.readFileSync(sb.tmuxConf, 'utf8').trim().split('\n') },
        direct: { measured: columns.includes('direct') },
      },
      targets: {
        met: results.filter((r) => r.verdict === 'pass').map((r) => r.key),
        missed: results.filter((r) => r.verdict === 'fail').map((r) => `${r.key}: ${r.shortfall}`),
        not_measured: results.filter((r) => r.verdict === 'n/a').map((r) => r.key),
      },
      figures: results,
      runs: records,
      notes,
      errors,
      duration_s: Math.round((now() - t0) / 100) / 10,
      figure_seconds: jobSeconds,
    };
    const outPath = path.resolve(opts.out);
    fs.writeFileSync(outPath, `${JSON.stringify(report, null, 2)}\n`);
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    } else {
      const lines: string[] = [];
      lines.push(`symposium-mcp bench${opts.quick ? ' (quick)' : ''} — ${report.date}`);
      lines.push(`machine: ${mach.nproc} CPUs, ${mach.cpu}, ${mach.memory_gib} GiB, ${mach.kernel}, node ${mach.node}, ${mach.tmux ?? 'no tmux'}; load average ${loadStart.join(' ')} at start, ${mach.loadavg.join(' ')} at end`);
      lines.push(`runs: spawn ${plan.runs.spawn}, flood ${plan.runs.flood}, echo ${plan.runs.echo}×${plan.keys} keys, attach ${plan.runs.attach}, memory ${plan.runs.memory}×${plan.idleSessions} sessions, history ${plan.runs.history}, scale ${plan.runs.scale}×${plan.scaleAgents} agents; median of runs, [min–max of the pty runs] (peak PSS: max of runs; echo percentiles: over the keys of all runs together)`);
      lines.push('');
      if (ptyUnavailable) lines.push(`pty backend NOT MEASURED: ${ptyUnavailable}`, '');
      lines.push(table(results, defs, shown));
      lines.push('');
      lines.push('direct: the agent on a pty read by this process, no multiplexer; its idle-memory value is a bare `node` process, its "bare Node relay" echo a Node process that only copies bytes between the terminal and the agent\'s pty (src/bench/node-relay.ts): the floors for a Node supervisor.');
      for (const n of notes) lines.push(`note: ${n}`);
      for (const e of errors) lines.push(`error: ${e}`);
      lines.push(`results: ${outPath} (${report.duration_s} s)`);
      process.stdout.write(`${lines.join('\n')}\n`);
    }
    return ptyUnavailable || errors.length ? 1 : 0;
  } finally {
    // The orderly way first, then the sweep for anything left.
    await pty.reset().catch(() => undefined);
    await pty.stopStandby().catch(() => undefined);
    await tmux.shutdown().catch(() => undefined);
    for (const t of liveTerms) t.killNow();
    const left = sb.dispose(opts.keep);
    if (left > 0) process.stderr.write(`bench: ${left} leftover processes had to be killed at the end\n`);
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`Error: ${err instanceof BenchError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    emergencyCleanup();
    process.exitCode = 1;
  },
);
