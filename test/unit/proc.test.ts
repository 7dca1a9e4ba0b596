import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { procStat, readProcText } from '../../src/sys/proc';

// /proc read without readFileSync (its files say they are empty): the same text, small or
// past the shared buffer, and null for what is gone.

describe('readProcText', () => {
  it('reads small and large /proc files whole, and nothing for a process that is gone', () => {
    expect(readProcText('/proc/self/cmdline')).toBe(fs.readFileSync('/proc/self/cmdline', 'latin1'));
    // Larger than the 4 KiB buffer: read in several steps into a bigger one.
    const maps = fs.readFileSync('/proc/self/maps', 'latin1');
    expect(maps.length).toBeGreaterThan(4096);
    const read = readProcText('/proc/self/maps')!;
    expect(read.split('\n').length).toBeGreaterThan(maps.split('\n').length / 2);
    expect(read.slice(0, 200)).toBe(maps.slice(0, 200));
    expect(readProcText('/proc/self/environ', 'utf8')).toBe(fs.readFileSync('/proc/self/environ', 'utf8'));
    expect(readProcText('/proc/999999999/stat')).toBeNull();
    expect(procStat(process.pid)).toMatchObject({ pid: process.pid, ppid: process.ppid });
    // One record, given whole by one read: the same text as read to the end.
    expect(readProcText('/proc/self/stat', 'latin1', true)!.split(' ').slice(0, 5)).toEqual(fs.readFileSync('/proc/self/stat', 'latin1').split(' ').slice(0, 5));
  });
});
