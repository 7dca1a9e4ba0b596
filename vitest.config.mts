import { defineConfig } from 'vitest/config';

// Tests start real processes (supervisors, tmux, ptys): two cores on CI, so limit workers.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 30_000,
    pool: 'forks',
    maxWorkers: 2,
    fileParallelism: true,
  },
});
