import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach } from 'vitest';

// Mounts made by a test (a small tmpfs, a read-only bind mount), undone after each test
// even when it fails: lazily, since a supervisor may still hold a file open under one.
// Call mountsPerTest() after sandboxPerTest(): hooks unwind as a stack, so the mounts go
// before the sandbox's directory is removed.

const IS_ROOT = process.getuid?.() === 0;

export function mountsPerTest(): {
  /** Mounts for this test; null when done, else why this machine does not allow it. */
  mount(args: string[], target: string): string | null;
} {
  const mounts: string[] = [];
  afterEach(() => {
    for (const m of mounts.splice(0).reverse()) spawnSync('umount', ['-l', m]);
  });
  return {
    mount(args, target) {
      if (!IS_ROOT) return 'the tests do not run as root';
      const r = spawnSync('mount', [...args, target], { encoding: 'utf8' });
      if (r.status !== 0) return `mount ${args.join(' ')} failed: ${(r.stderr || String(r.error)).trim()}`;
      if (!mounts.includes(target)) mounts.push(target);
      return null;
    },
  };
}

/** Fills the file system of `dir` with `dir/fill`, leaving `leavePages` blocks free. */
export function fillUp(dir: string, leavePages = 0): void {
  const fill = path.join(dir, 'fill');
  fs.rmSync(fill, { force: true });
  const st = fs.statfsSync(dir);
  const fd = fs.openSync(fill, 'w');
  try {
    const want = (st.bavail - leavePages) * st.bsize;
    const chunk = Buffer.alloc(st.bsize);
    for (let done = 0; done < want; done += chunk.length) fs.writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    fs.closeSync(fd);
  }
}

/** Every file under `dir`, relative, sorted. */
export function filesUnder(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).sort();
}
