import { describe, expect, test } from 'vitest';
import { renderBlame } from '../../../src/cli/analyze/blame.js';
import { crtosBringUp, unit } from './fixtures.js';

describe('analyze blame', () => {
  test('slowest first, times right-aligned; units without an activation time are left out', () => {
    const units = [...crtosBringUp(), unit('never.network', 0, 0), unit('slow.loader', 5_000_000, 0)];
    expect(renderBlame(units)).toBe(
      ['    2s nuttx.cell', '1.500s jailhouse.hypervisor', ' 200ms jailhouse.driver', ' 200ms shadow.driver', '  50ms hello.loader', '  50ms nuttx.image', ''].join('\n'),
    );
  });

  test('a unit that failed on its way up is blamed for the time until it failed', () => {
    const failed = unit('bad.cell', 1_000_000, 0, { deactivated: 1_300_000, time: 300_000 });
    expect(renderBlame([failed])).toBe('300ms bad.cell\n');
  });
});
