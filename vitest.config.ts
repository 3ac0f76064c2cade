import { defineConfig } from 'vitest/config';

// Suites that spawn the bundled binaries need dist/: globalSetup builds it once per run.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // A timeout bounds only a test that failed. On the busy 2-core machine (two vitest workers
    // beside a CPU hog and the other suites) CPU-bound tests that take a few seconds alone took
    // 34-41 s (units/load-hostile, units/mutations, jailhouse/arch-inference) and the remoteproc
    // fault tests over 30 s: they failed at the old 30 s without anything being wrong.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
