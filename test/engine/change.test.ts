import { describe, expect, test } from 'vitest';
import { classifyChange } from '../../src/engine/change.js';

describe('change classification', () => {
  const before = { exec: 'a', environment: 'b', description: 'c', restart: 'd' };
  test('the mildest action that covers every changed field', () => {
    expect(classifyChange('Loader', before, { ...before, description: 'x' }).action).toBe('none');
    expect(classifyChange('Loader', before, { ...before, description: 'x', exec: 'y' })).toMatchObject({ action: 'restart', decisive: ['exec'], fields: ['description', 'exec'] });
    expect(classifyChange('Cell', { load: '1', config: '2' }, { load: '3', config: '2' }).action).toBe('reload');
    expect(classifyChange('Cell', { load: '1', config: '2' }, { load: '3', config: '4' }).action).toBe('recreate');
    expect(classifyChange('Hypervisor', { system: '1' }, { system: '2' }).action).toBe('re-enable');
  });
  test('an image never acts itself, and only cells reload in place', () => {
    expect(classifyChange('Image', { path: '1' }, { path: '2' }).action).toBe('none');
    expect(classifyChange('Driver', { mystery: '1' }, { mystery: '2' }).action).toBe('restart');
  });
});

