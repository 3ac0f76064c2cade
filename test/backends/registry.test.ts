/**
 * The backend registry: the built-in definitions in order (the Hypervisor kind's `type:` values
 * come from here), the engine's backends behind them, and what registration refuses.
 */
import { describe, expect, test } from 'vitest';
import { z } from 'zod';
import { allBackends, backendDefinitions, backendGeneration, backendOf, cellBackendDefinitions, DEFAULT_BACKEND, findBackend, registerBackend, registerBackendDefinition, type Backend } from '../../src/backends/index.js';

describe('the backend registry', () => {
  test('lists the built-in definitions and backends in registration order', () => {
    expect(backendDefinitions().map((d) => d.type)).toEqual(['jailhouse', 'rtmux', 'remoteproc']);
    expect(allBackends().map((b) => b.definition.type)).toEqual(['jailhouse', 'rtmux', 'remoteproc']);
    expect(cellBackendDefinitions().map((d) => d.type)).toEqual(['jailhouse', 'remoteproc']);
  });

  test('a record that names no backend ran on Jailhouse', () => {
    expect(DEFAULT_BACKEND).toBe('jailhouse');
    expect(backendOf(undefined)).toBe(findBackend('jailhouse'));
  });

  test('an unknown type is an error, not a silent default', () => {
    expect(() => backendOf('xen')).toThrow(/unknown hypervisor backend "xen"/);
  });

  test('each backend contributes its Hypervisor fields with a change action for every one', () => {
    // What a backend's description holds besides the unit's fields: Jailhouse's links, the digest
    // of the Link units the root cell carries (a change of them is a re-enable too).
    const describedOnly: Record<string, string[]> = { jailhouse: ['links'] };
    for (const d of backendDefinitions()) expect(Object.keys(d.changes).sort(), d.type).toEqual([...Object.keys(d.fields), ...(describedOnly[d.type] ?? [])].sort());
    expect(findBackend('jailhouse')!.definition.changes).toMatchObject({ links: 're-enable' });
  });

  test('refuses a second backend of a type, and a type that is not a lower-case word', () => {
    expect(() => registerBackend(findBackend('rtmux')!)).toThrow(/already registered/);
    expect(() => registerBackendDefinition({ ...findBackend('rtmux')!.definition })).toThrow(/already registered/);
    expect(() => registerBackendDefinition({ ...findBackend('rtmux')!.definition, type: 'Xen' })).toThrow(/lower-case word/);
  });

  test('a new backend is listed after the built-ins, and what is built from the list learns it changed', () => {
    const before = backendGeneration();
    const test: Backend = {
      definition: { type: 'registry-test', title: 'Test', fields: { size: z.number() }, references: () => [], files: () => [], changes: { size: 're-enable' } },
      hypervisor: { activeSubState: 'running', observe: () => ({ state: 'inactive', subState: 'dead', enabled: false }), enable: async () => ({}), disable: async () => undefined },
    };
    registerBackend(test);
    expect(backendGeneration()).toBe(before + 1);
    expect(backendDefinitions().at(-1)!.type).toBe('registry-test');
    expect(backendOf('registry-test')).toBe(test);
  });
});
