import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { crtosSystemConfig } from '../../src/sim/index.js';
import { DEFAULT_DESCRIPTION, mergeDescription, validateDescription, type ModuleCatalogEntry } from '../../src/sim/description.js';
import { initialState, type SimState } from '../../src/sim/state.js';
import { rootIvshmemDevices } from '../../src/sim/ivshmem.js';
import { applyModuleParameters, parseGivenParameters, parseKernelUlong } from '../../src/sim/module-parameters.js';

const EXAMPLE = { revision: 12 as const, arch: 'x86' as const, cpus: 4, hypervisorMemory: { physStart: 0x3a000000n, size: 0x6000000n } };
const SHADOW = DEFAULT_DESCRIPTION.modules.find((m) => m.name === 'shadow') as ModuleCatalogEntry;

/** A state with Jailhouse enabled on the example system configuration (its shadow R/W section is at 0x100001000). */
function enabledState(): SimState {
  const d = mergeDescription({});
  const state = initialState(d);
  state.jailhouse.enabled = true;
  state.jailhouse.ivshmem = rootIvshmemDevices(crtosSystemConfig(EXAMPLE), d);
  return state;
}

const given = (...args: string[]) => parseGivenParameters(args);

describe('kstrtoul, as the kernel parses an unsigned long parameter', () => {
  it.each<[string, bigint | undefined]>([
    ['0x100001000', 0x100001000n],
    ['0X1f', 0x1fn],
    ['4294971392', 4294971392n],
    ['010', 8n],
    ['0', 0n],
    ['+7', 7n],
    ['7\n', 7n],
    ['18446744073709551615', 2n ** 64n - 1n],
    ['18446744073709551616', undefined],
    ['-1', undefined],
    [' 1', undefined],
    ['0x', undefined],
    ['08', undefined],
    ['1k', undefined],
    ['', undefined],
  ])('%j → %s', (text, value) => {
    expect(parseKernelUlong(text)).toBe(value);
  });

  it('reads back every 64-bit value written in hex, octal or decimal (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (v) => {
        expect(parseKernelUlong(`0x${v.toString(16)}`)).toBe(v);
        expect(parseKernelUlong(`0${v.toString(8)}`)).toBe(v);
        expect(parseKernelUlong(v.toString())).toBe(v);
      }),
    );
  });
});

describe('module parameters at load', () => {
  const entry: ModuleCatalogEntry = { name: 'demo', parameters: { verbose: 'N', size: { default: '4096', type: 'ulong' } } };

  it('gives every declared parameter its default unless set; a ulong reads in decimal; a bare text parameter reads Y', () => {
    expect(applyModuleParameters('demo', entry, given('size=0x10', 'verbose'), initialState(mergeDescription({})))).toEqual({ parameters: { verbose: 'Y', size: '16' }, kernelLog: [] });
    expect(applyModuleParameters('demo', entry, [], initialState(mergeDescription({})))).toEqual({ parameters: { verbose: 'N', size: '4096' }, kernelLog: [] });
  });

  it('ignores an undeclared parameter with the kernel warning, and the last of a repeated one wins', () => {
    expect(applyModuleParameters('demo', entry, given('bogus=1', 'size=1', 'size=2'), initialState(mergeDescription({})))).toEqual({
      parameters: { verbose: 'N', size: '2' },
      kernelLog: ["demo: unknown parameter 'bogus' ignored"],
    });
    // A module that declares nothing ignores them all.
    expect(applyModuleParameters('plain', undefined, given('a=1', 'b'), initialState(mergeDescription({}))).kernelLog).toEqual([
      "plain: unknown parameter 'a' ignored",
      "plain: unknown parameter 'b' ignored",
    ]);
  });

  it('fails the load (EINVAL) on a value its type refuses, with the kernel line', () => {
    expect(applyModuleParameters('demo', entry, given('size=lots'), initialState(mergeDescription({})))).toMatchObject({ errno: 'EINVAL', kernelLog: ["demo: `lots' invalid for parameter `size'"] });
    expect(applyModuleParameters('demo', entry, given('size'), initialState(mergeDescription({})))).toMatchObject({ errno: 'EINVAL', kernelLog: ["demo: `' invalid for parameter `size'"] });
  });

  it("shadow's shmaddr: the R/W section of a shadow device of the root cell, in any notation; absent is fine", () => {
    const state = enabledState();
    expect(applyModuleParameters('shadow', SHADOW, given('shmaddr=0x100001000'), state)).toEqual({ parameters: { shmaddr: '4294971392' }, kernelLog: [] });
    expect(applyModuleParameters('shadow', SHADOW, given('shmaddr=4294971392'), state).errno).toBeUndefined();
    expect(applyModuleParameters('shadow', SHADOW, [], state)).toEqual({ parameters: { shmaddr: '0' }, kernelLog: [] });
  });

  it("shadow's shmaddr: the README's stale address, the state table, the net link's window and a disabled hypervisor are refused", () => {
    const state = enabledState();
    const refused = (value: string, s: SimState = state) => applyModuleParameters('shadow', SHADOW, given(`shmaddr=${value}`), s);
    expect(refused('0x108000000')).toMatchObject({ errno: 'EINVAL', kernelLog: ['shadow: shmaddr 0x108000000 is not the R/W section of any shadow ivshmem device'] });
    expect(refused('0x100000000').errno).toBe('EINVAL');
    // ivshmem-net's window: not a shadow device, and its R/W section is absent (address 0, size 0).
    expect(refused('0x140100000').errno).toBe('EINVAL');
    expect(refused('0').errno).toBe('EINVAL');
    // No devices before enable or once a disable removed them.
    const disabled = { ...state, jailhouse: { ...state.jailhouse, enabled: false } };
    expect(refused('0x100001000', disabled).errno).toBe('EINVAL');
    const removed = enabledState();
    for (const dev of removed.jailhouse.ivshmem) dev.present = false;
    expect(refused('0x100001000', removed).errno).toBe('EINVAL');
  });

  it('the catalog checks its declarations', () => {
    const withParameter = (p: unknown) => validateDescription(mergeDescription({ modules: [{ name: 'm', parameters: { p } } as unknown as ModuleCatalogEntry] }));
    expect(validateDescription(DEFAULT_DESCRIPTION)).toEqual([]);
    expect(withParameter({ default: '0', type: 'float' })).toEqual(['module m parameter p: type must be text or ulong, not "float"']);
    expect(withParameter({ default: '0', type: 'ulong', check: 'nonsense' })).toEqual(['module m parameter p: check must be shadow-rw-section, not "nonsense"']);
    expect(withParameter({ default: '0', check: 'shadow-rw-section' })).toEqual(['module m parameter p: check shadow-rw-section compares an address, so the type must be ulong']);
    expect(withParameter({ default: '0', perm: 0o1000 })).toEqual(['module m parameter p: perm must be permission bits 0..0o777']);
  });
});
