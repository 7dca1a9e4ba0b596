import type { Ctx, Values } from './figures';
import * as os from 'node:os';
import { machineCpu, memPartsValues, readCpuSeconds, readMem } from './memory';
import { busyShare } from '../src/sys/proc';
import { PtySystem, type System, TmuxSystem, killAll } from './systems';
import { BenchError, mapLimit, median, now, percentile, sleep } from './util';

// The figures of many agents and of a long history (issue 23): what people who run 10-20
// agents for days, or a hundred on one machine, live with. Each figure starts its own
// sessions and removes them (try/finally), like those of figures.ts.

let counter = 0;
const nextId = (prefix: string): string => `${prefix}${++counter}`;

function sysOf(ctx: Ctx, col: string): System {
  const s = ctx.systems.get(col as 'pty' | 'tmux');
  if (!s) throw new BenchError(`no system ${col}`);
  return s;
}

/** PSS (MiB) of the processes a system spends on `ids` (supervisors and their helpers, or the tmux server), and their pids. */
async function serverPss(s: System, ids: string[]): Promise<{ pss: number; anon: number; pids: number[] }> {
  let pss = 0;
  let anon = 0;
  const pids = await s.serverPids(ids);
  for (const pid of pids) {
    const m = readMem(pid);
    if (!m) throw new BenchError(`process ${pid} (${s.name}) is gone: cannot read its memory`);
    pss += m.pssKiB;
    anon += m.pssAnonKiB;
  }
  return { pss: pss / 1024, anon: anon / 1024, pids };
}

/** Lines coloured as compilers and ls print them (a bold coloured head, a green word), 10 000 of them. */
export const HISTORY_LINES = 10_000;
function colouredHistoryScript(mark: string): string {
  // awk, not a shell loop: the agent prints in ~0.1 s, as a build log would.
  const awk = `BEGIN{for(i=1;i<=${HISTORY_LINES};i++)printf "\\033[1;3%dm%010d\\033[0m history: the quick brown \\033[32mfox jumps\\033[0m over the lazy dog 0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGH\\n", i%8, i}`;
  return `awk '${awk}'; echo ${mark}; exec cat`;
}

/** Idle agents beside the full history's for its second measure: "10-20 agents for days". */
export const HISTORY_NEIGHBOURS = 19;
/** Long enough for the neighbours' supervisors to have started and collected (SETTLE_GC_DELAY_MS 2 s). */
const NEIGHBOURS_SETTLE_MS = 4000;

/**
 * One agent whose history is full: 10 000 coloured lines of ~110 columns on a 120-column
 * screen. After the settle time, the PSS of its supervisor (or of a fresh tmux server holding
 * only it, with the same 10 000-line history limit), its private part, and where that goes
 * (memory.ts, readMemParts). Then again with HISTORY_NEIGHBOURS idle agents
 * beside it: PSS shares the pages of the node binary and its libraries among the processes
 * that map them (~14 MiB of a lone supervisor's PSS), so alone it carries all of them
 * (tmux: the whole server, then holding all 20 sessions).
 */
export async function figHistoryMemory(ctx: Ctx, col: string): Promise<Values> {
  const s = sysOf(ctx, col);
  if (s.name === 'tmux') await s.reset();
  const id = nextId('hm');
  const mark = `HISTORY-FULL-${id}`;
  await s.spawn(id, ['sh', '-c', colouredHistoryScript(mark)], ctx.size);
  const neighbours: string[] = [];
  try {
    await s.waitText(id, mark, 30_000);
    await sleep(ctx.plan.memorySettleMs);
    const m = await serverPss(s, [id]);
    const parts = memPartsValues(m.pids, 1, 'history_');
    const ids = Array.from({ length: HISTORY_NEIGHBOURS }, () => nextId('hn'));
    await mapLimit(ids, s.name === 'pty' ? 4 : 1, async (n) => {
      await s.spawn(n, ['cat'], ctx.size);
      neighbours.push(n);
    });
    await sleep(NEIGHBOURS_SETTLE_MS);
    const beside = await serverPss(s, [id]);
    return {
      history_pss_mib: m.pss,
      history_anon_mib: m.anon,
      history_shared_share_mib: m.pss - m.anon,
      history_pss_beside_mib: beside.pss,
      ...parts,
    };
  } finally {
    await killAll(s, [id, ...neighbours]);
  }
}

/** How many times `list` is timed at each scale figure run (median and spread of these). */
const LIST_REPEATS = 5;

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = now();
  await fn();
  return now() - t0;
}

/**
 * A hundred agents (`cat`, idle): spawned 10 at a time (the storm's wall time), then their
 * memory (total PSS of what the system adds), `list` and `list --json` timed LIST_REPEATS
 * times each, then 200 calls at once, a third each send, capture and queue (tmux: no queue,
 * send instead), their wall time and each call's p50 / p99. All removed at the end.
 */
export async function figScale(ctx: Ctx, col: string): Promise<Values> {
  const s = sysOf(ctx, col);
  if (s.name === 'tmux') await s.reset();
  const n = ctx.plan.scaleAgents;
  const ids = Array.from({ length: n }, () => nextId('sc'));
  const spawned: string[] = [];
  try {
    const cpu0 = machineCpu();
    const t0 = now();
    await mapLimit(ids, 10, async (id) => {
      await s.spawn(id, ['cat'], ctx.size);
      spawned.push(id);
    });
    const stormMs = now() - t0;
    const cpu1 = machineCpu();
    await sleep(ctx.plan.memorySettleMs);
    // Where the storm's time goes: the CPU each agent's process used from its start (the CLI
    // that became its supervisor, then the supervisor) until settled, and how busy the whole
    // machine was meanwhile; a storm that keeps every core busy lasts at least n × that / cores.
    const mem = await serverPss(s, ids);
    let agentCpu = 0;
    for (const pid of mem.pids) agentCpu += readCpuSeconds(pid) ?? 0;
    const list: number[] = [];
    const listJson: number[] = [];
    for (let i = 0; i < LIST_REPEATS; i++) {
      list.push(await timed(() => listOf(s, false)));
      listJson.push(await timed(() => listOf(s, true)));
    }
    const calls = ctx.plan.scaleCalls;
    const each: number[] = [];
    let failed = 0;
    const tCalls = now();
    await Promise.all(
      Array.from({ length: calls }, async (_, i) => {
        const id = ids[i % ids.length]!;
        const kind = i % 3;
        const t = now();
        const ok = await (kind === 0 ? send(s, id, `hello ${i}`) : kind === 1 ? capture(s, id) : queue(s, id, `task ${i}`));
        each.push(now() - t);
        if (!ok) failed++;
      }),
    );
    const callsMs = now() - tCalls;
    return {
      agents: n,
      storm_s: stormMs / 1000,
      storm_busy_pct: 100 * busyShare(cpu0, cpu1),
      cpu_per_agent_ms: (1000 * agentCpu) / n,
      storm_cpu_floor_s: agentCpu / os.availableParallelism(),
      total_pss_mib: mem.pss,
      pss_per_agent_mib: mem.pss / n,
      list_ms: median(list),
      list_min_ms: Math.min(...list),
      list_max_ms: Math.max(...list),
      list_json_ms: median(listJson),
      list_json_min_ms: Math.min(...listJson),
      list_json_max_ms: Math.max(...listJson),
      calls,
      calls_s: callsMs / 1000,
      call_p50_ms: percentile(each, 50),
      call_p99_ms: percentile(each, 99),
      calls_failed: failed,
    };
  } finally {
    await killAll(s, spawned);
  }
}

function listOf(s: System, json: boolean): Promise<unknown> {
  if (s instanceof PtySystem) return s.cli(['agent', 'list', ...(json ? ['--json'] : [])]);
  if (s instanceof TmuxSystem) return s.tmux(json ? ['list-sessions', '-F', '#{session_name} #{pane_pid} #{session_activity}'] : ['list-sessions']);
  throw new BenchError(`no list for ${s.name}`);
}

/** 200 Node processes at once on 2 cores take their time: a call fails only after this long. */
const CALL_TIMEOUT_MS = 120_000;

/** A call that fails or outlasts CALL_TIMEOUT_MS is counted (calls_failed); the figure's other values stay. */
async function ok(p: Promise<{ code: number | null }>): Promise<boolean> {
  try {
    return (await p).code === 0;
  } catch {
    return false;
  }
}

function send(s: System, id: string, text: string): Promise<boolean> {
  if (s instanceof PtySystem) return ok(s.cli(['agent', 'send', id, text], CALL_TIMEOUT_MS, false));
  if (s instanceof TmuxSystem) return ok(s.tmux(['send-keys', '-t', `=${TmuxSystem.session(id)}:`, '-l', text], CALL_TIMEOUT_MS, false));
  throw new BenchError(`no send for ${s.name}`);
}

function capture(s: System, id: string): Promise<boolean> {
  if (s instanceof PtySystem) return ok(s.cli(['agent', 'capture', id], CALL_TIMEOUT_MS, false));
  if (s instanceof TmuxSystem) return ok(s.tmux(['capture-pane', '-p', '-t', `=${TmuxSystem.session(id)}:`], CALL_TIMEOUT_MS, false));
  throw new BenchError(`no capture for ${s.name}`);
}

function queue(s: System, id: string, text: string): Promise<boolean> {
  // tmux has no queue: a send stands in for it.
  if (s instanceof PtySystem) return ok(s.cli(['agent', 'queue', id, text], CALL_TIMEOUT_MS, false));
  return send(s, id, text);
}
