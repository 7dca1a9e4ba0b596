'use strict';
// The training run behind two code caches (scripts/bundle.js, trainSpawn): a Node under the
// supervisor's flags does what `agent spawn`'s native front end has a CLI do (src/launch.ts,
// src/spawn-front-end.ts): `agent list`, then a whole spawn, in which it becomes the agent's
// supervisor; the agent prints coloured lines and a title, then waits. A second later the
// run writes the caches of both bundles and leaves (the agent hangs up with it); they hold
// every function that ran: what a spawn and its supervisor's first second compile, for the
// standby (src/standby/serve.ts) to load once instead of each of its copies compiling them
// (measured, 40 spawns 10 at a time: 45 ms of each copy's CPU against 23-29 with every
// function compiled ahead). Usage: node FLAGS train-spawn.js CLI_ID SUPERVISOR_ID WORKDIR
// (the bundles' build ids), with SYMPOSIUM_SPAWN_REPORT_FD=3 on a pipe, in a throw-away
// home; exits 0 once both caches are written.
const fs = require('node:fs');
const path = require('node:path');
const { writeAtomically } = require('./write-atomically');

const dist = path.join(__dirname, '..', 'dist');
const { CLI_BUNDLE_SUPERVISOR_FLAGS: cliBundle } = require(path.join(dist, 'launch.js'));
const { SUPERVISOR_BUNDLE: supervisorBundle } = require(path.join(dist, 'supervisor', 'launch.js'));
const [cliId, supervisorId, workdir] = process.argv.slice(2);

/** Long enough for a slow machine; a training that does not end writes nothing. */
const GIVE_UP_MS = 30_000;
const POLL_MS = 20;
const FIRST_SECOND_MS = 1200;

// Coloured lines, plain ones and a title (an agent's first screen), then a quiet moment.
const AGENT = [
  "printf '\\033]0;training\\007'",
  'i=0',
  "while [ $i -lt 60 ]; do printf '\\033[3%dm%4d\\033[0m training line, some words\\r\\n' $((i % 8)) $i; i=$((i + 1)); done",
  "printf 'a plain line\\r\\n'",
  'sleep 60',
].join('; ');

function writeCache(bundle, id, script) {
  writeAtomically(bundle.cacheFile, bundle.cacheBytes(id, script));
}

/** Both caches, each under the flags it is taken with: the supervisor's bundle inside V8's
 *  compilation cache, the CLI's outside it (src/launch.ts). */
function writeCaches() {
  writeCache(supervisorBundle, supervisorId, supervisorBundle.started);
  require('node:v8').setFlagsFromString('--no-compilation-cache');
  writeCache(cliBundle, cliId, cliBundle.started);
}

/** The session's record, as the CLI wrote it (null before it did). */
function record() {
  try {
    return JSON.parse(fs.readFileSync(path.join(process.env.SYMPOSIUM_HOME, 'agent-sessions.json'), 'utf8')).training ?? null;
  } catch {
    return null;
  }
}

/** However the run ends: nothing it started lives on (a supervisor started apart, the agent). */
function endAll() {
  const r = record();
  const kill = (pid) => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  };
  if (r && Number.isInteger(r.supervisor_pid) && r.supervisor_pid !== process.pid) kill(r.supervisor_pid);
  if (r && Number.isInteger(r.agent_pid) && r.agent_pid > 0) {
    kill(-r.agent_pid); // its process group: the agent is a session leader
    kill(r.agent_pid);
  }
}

setTimeout(() => process.exit(3), GIVE_UP_MS);
process.on('exit', endAll);

(async () => {
  const cli = cliBundle.start();
  if (!cli) process.exit(4);
  for (const argv of [['--help'], ['agent', 'list'], ['agent', 'list', '--json']]) await cli.main(['node', 'symposium-mcp', ...argv]);
  // Without the addon the CLI cannot become the supervisor (it would start one apart).
  if (!fs.existsSync(path.join(dist, 'symposium-addon.node'))) process.exit(6);
  process.argv = ['node', 'symposium-mcp', 'agent', 'spawn', '--uuid', 'training', '--workdir', workdir, '--cols', '120', '--rows', '40', '--', '/bin/sh', '-c', AGENT];
  cli.run();
  while (record()?.status !== 'Running') {
    if (process.exitCode) process.exit(7); // the spawn failed (no pty here?)
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  // It must be this process that became the supervisor: its caches are what it compiled.
  if (record().supervisor_pid !== process.pid) process.exit(8);
  // The agent's first second: its output mirrored, the quiet after it (src/supervisor/warm-up.ts).
  await new Promise((resolve) => setTimeout(resolve, FIRST_SECOND_MS));
  if (!cliBundle.started || !supervisorBundle.started) process.exit(5);
  writeCaches();
  // Before the agent ends: what runs at its end (or the supervisor's) is not in the caches,
  // so that an idle supervisor does not hold it compiled (caches written at the end: the
  // supervisor's 788 KB against 729, idle PSS per session ~0.2 MB more in quick runs).
  process.exit(0);
})();
