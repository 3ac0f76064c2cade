import { describe, expect, it } from 'vitest';
import { unitCodes } from '../../src/errors/codes/units.js';
import { MAX_ALIASED_VALUES, MAX_DEPTH, MAX_DOCUMENTS, MAX_FILE_BYTES, formatBytes } from '../../src/units/limits.js';

describe('limits', () => {
  it('are what the documented codes say', () => {
    expect(unitCodes.UNIT_FILE_TOO_LARGE.summary).toContain(formatBytes(MAX_FILE_BYTES));
    const limit = unitCodes.UNIT_YAML_LIMIT.summary;
    expect(limit).toContain(`over ${MAX_DEPTH} levels`);
    expect(limit).toContain(`over ${MAX_DOCUMENTS.toLocaleString('en')} documents`);
    expect(limit).toContain(`over ${MAX_ALIASED_VALUES.toLocaleString('en')} values`);
  });

  it('formats sizes in binary units', () => {
    expect(formatBytes(1024 * 1024)).toBe('1 MiB');
    expect(formatBytes(64 * 1024)).toBe('64 KiB');
    expect(formatBytes(1000)).toBe('1000 bytes');
  });
});
