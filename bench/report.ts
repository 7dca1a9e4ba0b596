import type { RunRecord } from './figures';
import type { Column } from './systems';
import { median, percentile } from './util';

// From run records to figures: the median over runs for each system (the maximum for peak
// memory; echo percentiles over the keys of all runs together), the ratio pty/tmux, and
// the verdict against the targets of issue 8.

export interface Target {
  text: string;
  /** Returns the shortfall as text when missed, '' when met; null when it cannot be judged. */
  judge: (pty: number, tmux: number) => string | null;
}

export interface Metric {
  key: string;
  figure: string;
  value: string;
  label: string;
  unit: string;
  better: 'lower' | 'higher';
  /**
   * How runs combine: the median of the runs' values, their maximum, or (`pooled`) the
   * percentile `pct` of the raw `samples` of all runs together: the p99 of one run of
   * 1 000 keys is its tenth slowest key, and moved by 2× between runs on this VM; over
   * all runs it rests on thirty.
   */
  agg: 'median' | 'max' | 'pooled';
  pooled?: { samples: string; pct: number };
  digits: number;
  target?: Target;
}

const pct = (x: number): string => `${Math.round(x * 100)}%`;

const noSlowerThanTmux: Target = {
  text: '≤ tmux',
  judge: (p, t) => (p <= t ? '' : `${pct(p / t - 1)} slower`),
};
const noLessThanTmux: Target = {
  text: '≥ tmux',
  judge: (p, t) => (p >= t ? '' : `${pct(1 - p / t)} short`),
};
function atMost(limit: number, unit: string, strict = false): Target {
  return {
    text: `${strict ? '<' : '≤'} ${limit} ${unit}`,
    judge: (p) => ((strict ? p < limit : p <= limit) ? '' : `${(p - limit).toFixed(1)} ${unit} over`),
  };
}

export function metrics(floodMB: number, idleSessions: number, scaleAgents = 100, scaleCalls = 200): Metric[] {
  const mb = `${floodMB} MB`;
  return [
    { key: 'spawn_ms', figure: 'spawn', value: 'spawn_ms', label: 'spawn → agent running', unit: 'ms', better: 'lower', agg: 'median', digits: 1, target: atMost(80, 'ms') },
    { key: 'spawn_cold_ms', figure: 'spawn-cold', value: 'spawn_ms', label: '… without a standby (a first spawn)', unit: 'ms', better: 'lower', agg: 'median', digits: 1 },
    { key: 'spawn_visible_ms', figure: 'spawn', value: 'spawn_visible_ms', label: 'spawn → first line seen by capture', unit: 'ms', better: 'lower', agg: 'median', digits: 1 },
    { key: 'startup_ms', figure: 'startup', value: 'startup_ms', label: 'program start-up, no-op', unit: 'ms', better: 'lower', agg: 'median', digits: 1 },
    { key: 'flood_detached_mbps', figure: 'flood-detached', value: 'mbps', label: `flood ${mb}, nothing attached`, unit: 'MB/s', better: 'higher', agg: 'median', digits: 1, target: noLessThanTmux },
    { key: 'flood_attached_mbps', figure: 'flood-attached', value: 'mbps', label: `flood ${mb}, client attached`, unit: 'MB/s', better: 'higher', agg: 'median', digits: 1, target: noLessThanTmux },
    { key: 'flood_colour_mbps', figure: 'flood-colour', value: 'mbps', label: `coloured flood ${mb}, nothing attached`, unit: 'MB/s', better: 'higher', agg: 'median', digits: 1 },
    { key: 'echo_p50_ms', figure: 'echo', value: 'p50_ms', label: 'keystroke echo, median', unit: 'ms', better: 'lower', agg: 'pooled', pooled: { samples: 'echo', pct: 50 }, digits: 2, target: noSlowerThanTmux },
    { key: 'echo_p90_ms', figure: 'echo', value: 'p90_ms', label: 'keystroke echo, p90', unit: 'ms', better: 'lower', agg: 'pooled', pooled: { samples: 'echo', pct: 90 }, digits: 2 },
    { key: 'echo_p99_ms', figure: 'echo', value: 'p99_ms', label: 'keystroke echo, p99', unit: 'ms', better: 'lower', agg: 'pooled', pooled: { samples: 'echo', pct: 99 }, digits: 2, target: noSlowerThanTmux },
    { key: 'echo_warm_p50_ms', figure: 'echo', value: 'warm_p50_ms', label: '… after 2 000 more keys, median', unit: 'ms', better: 'lower', agg: 'pooled', pooled: { samples: 'warm', pct: 50 }, digits: 2 },
    { key: 'echo_warm_p99_ms', figure: 'echo', value: 'warm_p99_ms', label: '… after 2 000 more keys, p99', unit: 'ms', better: 'lower', agg: 'pooled', pooled: { samples: 'warm', pct: 99 }, digits: 2 },
    { key: 'echo_relay_p50_ms', figure: 'echo', value: 'relay_p50_ms', label: 'echo via a bare Node relay, median', unit: 'ms', better: 'lower', agg: 'pooled', pooled: { samples: 'relay', pct: 50 }, digits: 2 },
    { key: 'echo_relay_p99_ms', figure: 'echo', value: 'relay_p99_ms', label: 'echo via a bare Node relay, p99', unit: 'ms', better: 'lower', agg: 'pooled', pooled: { samples: 'relay', pct: 99 }, digits: 2 },
    { key: 'attach_ms', figure: 'attach', value: 'attach_ms', label: 'attach, 5 000 lines of history, warm', unit: 'ms', better: 'lower', agg: 'median', digits: 1, target: atMost(50, 'ms') },
    { key: 'attach_cold_ms', figure: 'attach-cold', value: 'attach_ms', label: '… cold (right after the output)', unit: 'ms', better: 'lower', agg: 'median', digits: 1, target: atMost(50, 'ms') },
    { key: 'attach_first_byte_ms', figure: 'attach', value: 'first_byte_ms', label: '  where it goes: first byte, warm', unit: 'ms', better: 'lower', agg: 'median', digits: 1 },
    { key: 'attach_first_line_ms', figure: 'attach', value: 'first_line_ms', label: '  … the history\'s first line, warm', unit: 'ms', better: 'lower', agg: 'median', digits: 1 },
    { key: 'attach_floor_ms', figure: 'attach', value: 'floor_ms', label: '  … the same bytes by cat (the terminal\'s part)', unit: 'ms', better: 'lower', agg: 'median', digits: 1 },
    { key: 'attach_kchars', figure: 'attach', value: 'attach_kchars', label: '  … characters replayed', unit: 'k', better: 'lower', agg: 'median', digits: 0 },
    { key: 'idle_pss_mib', figure: 'memory', value: 'pss_per_session_mib', label: `idle PSS per session (${idleSessions})`, unit: 'MiB', better: 'lower', agg: 'median', digits: 2, target: atMost(11, 'MiB') },
    { key: 'idle_anon_mib', figure: 'memory', value: 'anon_per_session_mib', label: '  of which private (Pss_Anon)', unit: 'MiB', better: 'lower', agg: 'median', digits: 2 },
    { key: 'idle_shared_mib', figure: 'memory', value: 'shared_share_mib', label: '  of which shared pages\' share (node, libraries)', unit: 'MiB', better: 'lower', agg: 'median', digits: 2 },
    { key: 'idle_v8_mib', figure: 'memory', value: 'v8_mib', label: '  private: V8\'s heap and code', unit: 'MiB', better: 'lower', agg: 'median', digits: 2 },
    { key: 'idle_malloc_mib', figure: 'memory', value: 'malloc_mib', label: '  private: C heap (Node\'s own, buffers, cells)', unit: 'MiB', better: 'lower', agg: 'median', digits: 2 },
    { key: 'idle_stacks_mib', figure: 'memory', value: 'stacks_mib', label: '  private: stacks', unit: 'MiB', better: 'lower', agg: 'median', digits: 2 },
    { key: 'idle_files_mib', figure: 'memory', value: 'files_mib', label: '  private: written pages of node and libraries', unit: 'MiB', better: 'lower', agg: 'median', digits: 2 },
    { key: 'standby_pss_mib', figure: 'memory', value: 'standby_pss_mib', label: '  the standby, waiting (one per user)', unit: 'MiB', better: 'lower', agg: 'median', digits: 2 },
    { key: 'history_pss_mib', figure: 'history', value: 'history_pss_mib', label: 'PSS, full history (10 000 coloured lines)', unit: 'MiB', better: 'lower', agg: 'median', digits: 1, target: atMost(25, 'MiB') },
    { key: 'history_anon_mib', figure: 'history', value: 'history_anon_mib', label: '  of which private (Pss_Anon)', unit: 'MiB', better: 'lower', agg: 'median', digits: 1 },
    { key: 'history_shared_mib', figure: 'history', value: 'history_shared_share_mib', label: '  of which shared pages\' share, alone', unit: 'MiB', better: 'lower', agg: 'median', digits: 1 },
    { key: 'history_beside_mib', figure: 'history', value: 'history_pss_beside_mib', label: '  PSS beside 19 idle agents', unit: 'MiB', better: 'lower', agg: 'median', digits: 1 },
    { key: 'history_v8_mib', figure: 'history', value: 'history_v8_mib', label: '  private: V8\'s heap and code', unit: 'MiB', better: 'lower', agg: 'median', digits: 1 },
    { key: 'history_malloc_mib', figure: 'history', value: 'history_malloc_mib', label: '  private: C heap (cells, archived history, Node)', unit: 'MiB', better: 'lower', agg: 'median', digits: 1 },
    { key: 'scale_storm_s', figure: 'scale', value: 'storm_s', label: `spawn ${scaleAgents} agents, 10 at a time`, unit: 's', better: 'lower', agg: 'median', digits: 2, target: scaleAgents === 100 ? atMost(5, 's') : undefined },
    { key: 'scale_cpu_per_agent_ms', figure: 'scale', value: 'cpu_per_agent_ms', label: '  where it goes: CPU per agent, start to settled', unit: 'ms', better: 'lower', agg: 'median', digits: 0 },
    { key: 'scale_storm_floor_s', figure: 'scale', value: 'storm_cpu_floor_s', label: '  … agents × that ÷ cores: the storm\'s floor', unit: 's', better: 'lower', agg: 'median', digits: 2 },
    { key: 'scale_storm_busy_pct', figure: 'scale', value: 'storm_busy_pct', label: '  … the machine busy during the storm', unit: '%', better: 'lower', agg: 'median', digits: 0 },
    { key: 'scale_total_pss_mib', figure: 'scale', value: 'total_pss_mib', label: `  total PSS of ${scaleAgents} idle agents`, unit: 'MiB', better: 'lower', agg: 'median', digits: 0 },
    { key: 'scale_list_ms', figure: 'scale', value: 'list_ms', label: `  \`list\`, ${scaleAgents} agents`, unit: 'ms', better: 'lower', agg: 'median', digits: 1, target: scaleAgents === 100 ? atMost(100, 'ms') : undefined },
    { key: 'scale_list_json_ms', figure: 'scale', value: 'list_json_ms', label: `  \`list --json\`, ${scaleAgents} agents`, unit: 'ms', better: 'lower', agg: 'median', digits: 1 },
    { key: 'scale_calls_s', figure: 'scale', value: 'calls_s', label: `  ${scaleCalls} send/capture/queue at once`, unit: 's', better: 'lower', agg: 'median', digits: 2 },
    { key: 'scale_call_p50_ms', figure: 'scale', value: 'call_p50_ms', label: '  … each call, median', unit: 'ms', better: 'lower', agg: 'median', digits: 0 },
    { key: 'scale_call_p99_ms', figure: 'scale', value: 'call_p99_ms', label: '  … each call, p99', unit: 'ms', better: 'lower', agg: 'median', digits: 0 },
    { key: 'scale_calls_failed', figure: 'scale', value: 'calls_failed', label: '  … calls that failed', unit: '', better: 'lower', agg: 'max', digits: 0 },
    { key: 'flood_detached_peak_pss_mib', figure: 'flood-detached', value: 'peak_pss_mib', label: 'peak PSS in flood, detached', unit: 'MiB', better: 'lower', agg: 'max', digits: 1, target: atMost(150, 'MiB') },
    { key: 'flood_attached_peak_pss_mib', figure: 'flood-attached', value: 'peak_pss_mib', label: 'peak PSS in flood, attached', unit: 'MiB', better: 'lower', agg: 'max', digits: 1, target: atMost(150, 'MiB') },
    { key: 'flood_colour_peak_pss_mib', figure: 'flood-colour', value: 'peak_pss_mib', label: 'peak PSS in coloured flood', unit: 'MiB', better: 'lower', agg: 'max', digits: 1 },
  ];
}

export interface FigureResult {
  key: string;
  label: string;
  unit: string;
  better: 'lower' | 'higher';
  aggregate: 'median' | 'max' | 'pooled';
  values: Partial<Record<Column, number>>;
  runs: Partial<Record<Column, number[]>>;
  ratio_pty_tmux: number | null;
  target: string | null;
  /** 'pass', 'fail', 'n/a' (no data) or null (no target). */
  verdict: 'pass' | 'fail' | 'n/a' | null;
  shortfall: string | null;
}

export function aggregate(records: RunRecord[], defs: Metric[], columns: Column[]): FigureResult[] {
  return defs.map((m) => {
    const runs: Partial<Record<Column, number[]>> = {};
    const values: Partial<Record<Column, number>> = {};
    for (const col of columns) {
      const xs = records
        .filter((r) => r.figure === m.figure && r.column === col && r.values && typeof r.values[m.value] === 'number')
        .map((r) => r.values![m.value] as number)
        .filter((x) => Number.isFinite(x));
      if (xs.length === 0) continue;
      runs[col] = xs;
      if (m.pooled) {
        const name = m.pooled.samples;
        const all = records.filter((r) => r.figure === m.figure && r.column === col).flatMap((r) => r.samples?.[name] ?? []);
        if (all.length > 0) values[col] = percentile(all, m.pooled.pct);
        continue;
      }
      values[col] = m.agg === 'max' ? Math.max(...xs) : median(xs);
    }
    const p = values.pty;
    const t = values.tmux;
    const ratio = p !== undefined && t !== undefined && t !== 0 ? p / t : null;
    let verdict: FigureResult['verdict'] = null;
    let shortfall: string | null = null;
    if (m.target) {
      const needsTmux = m.target.text.includes('tmux');
      if (p === undefined || (needsTmux && t === undefined)) verdict = 'n/a';
      else {
        const miss = m.target.judge(p, t ?? NaN);
        if (miss === null) verdict = 'n/a';
        else if (miss === '') verdict = 'pass';
        else {
          verdict = 'fail';
          shortfall = miss;
        }
      }
    }
    return {
      key: m.key,
      label: m.label,
      unit: m.unit,
      better: m.better,
      aggregate: m.agg,
      values,
      runs,
      ratio_pty_tmux: ratio,
      target: m.target?.text ?? null,
      verdict,
      shortfall,
    };
  });
}

function fmt(x: number | undefined, digits: number): string {
  if (x === undefined) return '—';
  if (Math.abs(x) >= 1000) return x.toFixed(0);
  return x.toFixed(digits);
}

/** The human table. */
export function table(results: FigureResult[], defs: Metric[], columns: Column[]): string {
  const head = ['figure', 'unit', ...columns, 'pty/tmux', 'pty runs', 'target', 'result'];
  const rows: string[][] = results.map((r, i) => {
    const d = defs[i]!;
    const ratio = r.ratio_pty_tmux === null ? '—' : `${r.ratio_pty_tmux.toFixed(2)}×`;
    const result = r.verdict === null ? '' : r.verdict === 'fail' ? `FAIL: ${r.shortfall}` : r.verdict;
    const runs = r.runs.pty ?? [];
    const spread = d.agg === 'pooled' || runs.length < 2 ? '' : `${fmt(Math.min(...runs), d.digits)}–${fmt(Math.max(...runs), d.digits)}`;
    return [r.label, r.unit, ...columns.map((c) => fmt(r.values[c], d.digits)), ratio, spread, r.target ?? '', result];
  });
  const width = head.map((h, i) => Math.max([...h].length, ...rows.map((r) => [...r[i]!].length)));
  const numeric = (i: number): boolean => i >= 2 && i < 2 + columns.length + 2;
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => {
        const pad = ' '.repeat(width[i]! - [...c].length);
        return numeric(i) ? pad + c : c + pad;
      })
      .join('  ')
      .trimEnd();
  return [line(head), width.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
