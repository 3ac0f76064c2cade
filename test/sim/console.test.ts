/** The hypervisor console: a 2 KB ring, and paging_dump_stats's line. */
import { describe, expect, it } from 'vitest';
import { CONSOLE_RING_BYTES, poolUsage, printk } from '../../src/sim/console.js';
import { mergeDescription } from '../../src/sim/description.js';
import { initialState } from '../../src/sim/state.js';

describe('the console ring', () => {
  it('keeps the last 2048 bytes printed', () => {
    const state = initialState(mergeDescription({}));
    printk(state, 'a'.repeat(2000));
    printk(state, 'b'.repeat(100));
    expect(CONSOLE_RING_BYTES).toBe(2048);
    expect(state.jailhouse.console).toBe('a'.repeat(1948) + 'b'.repeat(100));
  });

  it("prints the pools as paging_dump_stats does, the cells' pages included", () => {
    const state = initialState(mergeDescription({}));
    expect(poolUsage(state, 'after cell creation')).toBe('');
    state.jailhouse.pools = { memPages: 994, memUsedAtEnable: 144, remapPages: 131072, remapUsed: 528 };
    state.jailhouse.cells = [{ poolPages: 6 } as never];
    expect(poolUsage(state, 'after cell creation')).toBe('Page pool usage after cell creation: mem 150/994, remap 528/131072\n');
  });
});
