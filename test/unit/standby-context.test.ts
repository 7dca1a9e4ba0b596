import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { contextDifference, nodeOnPath, processContext, startEnv } from '../../src/standby/context';
import { waitFor } from '../helpers/sandbox';

// What a standby compares before it takes a spawn (src/standby/context.ts), read from /proc
// of real processes.

const started: ChildProcess[] = [];
afterEach(() => {
  for (const c of started.splice(0)) c.kill('SIGKILL');
});

/** `sh -c SCRIPT` that ends in a sleep (its pid, once the script has run). */
async function child(script: string): Promise<number> {
  const c = spawn('sh', ['-c', `${script}; exec sleep 30`], { stdio: 'ignore' });
  started.push(c);
  await waitFor(() => fs.readFileSync(`/proc/${c.pid}/cmdline`, 'latin1').startsWith('sleep'));
  return c.pid!;
}

describe("a standby's context check", () => {
  it('a child inherits ours: no difference (the soft limit of open files aside, which Node raises)', async () => {
    const me = processContext(process.pid);
    expect(me.get('Groups')).not.toMatch(/:/); // the field's own value, never the next line
    expect(contextDifference(me, processContext(await child('ulimit -Sn 512')))).toBeNull();
  });

  it('another hard limit, niceness or CPU set is a difference, named', async () => {
    const me = processContext(process.pid);
    expect(contextDifference(me, processContext(await child('ulimit -n 1000')))).toBe('limits');
    expect(contextDifference(me, processContext(await child('renice -n 5 -p $$ > /dev/null')))).toBe('nice');
    expect(contextDifference(me, processContext(await child('taskset -p 1 $$ > /dev/null')))).toBe('Cpus_allowed_list');
  });

  it("the start-up environment: Node's, libuv's, the linker's and glibc's variables only", () => {
    expect(startEnv({ PATH: '/bin', NODE_OPTIONS: '--x', LD_PRELOAD: 'a.so', MALLOC_ARENA_MAX: '1', UV_THREADPOOL_SIZE: '2', GLIBC_TUNABLES: 't', HOME: '/h' })).toBe(
      'GLIBC_TUNABLES=t\nLD_PRELOAD=a.so\nMALLOC_ARENA_MAX=1\nNODE_OPTIONS=--x\nUV_THREADPOOL_SIZE=2',
    );
    expect(nodeOnPath(process.env.PATH)).toBe(fs.realpathSync(process.execPath));
    expect(nodeOnPath('::/nonexistent')).toBeNull();
  });
});
