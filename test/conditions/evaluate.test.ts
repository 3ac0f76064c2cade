import { describe, expect, it } from 'vitest';
import { conditionText, firstFailedCondition, undecidedConditions, type PathExists } from '../../src/conditions/evaluate.js';
import type { Conditions } from '../../src/conditions/schema.js';
import { facts } from './facts-fixture.js';

const f = facts();
const holds = (c: Conditions, exists?: PathExists) => firstFailedCondition(c, f, exists) === undefined;

describe('conditions against machine facts', () => {
  it('architecture: systemd names, equal', () => {
    expect(holds({ architecture: ['arm64'] })).toBe(true);
    expect(holds({ architecture: ['x86-64'] })).toBe(false);
  });

  it('host: a glob on the hostname (any case), or a machine id', () => {
    expect(holds({ host: ['rt-box-*'] })).toBe(true);
    expect(holds({ host: ['RT-BOX-7.lab.example'] })).toBe(true);
    expect(holds({ host: ['rt-box-8*'] })).toBe(false);
    expect(holds({ host: ['0123456789abcdef0123456789abcdef'] })).toBe(true);
    expect(holds({ host: ['ffffffffffffffffffffffffffffffff'] })).toBe(false);
  });

  it('machineId', () => {
    expect(holds({ machineId: ['0123456789abcdef0123456789abcdef'] })).toBe(true);
    expect(holds({ machineId: ['00000000000000000000000000000000'] })).toBe(false);
  });

  it('kernelCommandLine: a word alone or as word=…, or word=value exactly', () => {
    expect(holds({ kernelCommandLine: ['memmap'] })).toBe(true);
    expect(holds({ kernelCommandLine: ['quiet'] })).toBe(true);
    expect(holds({ kernelCommandLine: ['memmap=0x6000000$0x3a000000'] })).toBe(true);
    expect(holds({ kernelCommandLine: ['memmap=0x1'] })).toBe(false);
    expect(holds({ kernelCommandLine: ['mem'] })).toBe(false);
  });

  it('pathExists: asked of the machine; one it cannot answer is undecided, taken as met either way and named', () => {
    const exists = (p: string) => p === '/dev/jailhouse';
    expect(holds({ pathExists: ['/dev/jailhouse'] }, exists)).toBe(true);
    expect(holds({ pathExists: ['/dev/nope'] }, exists)).toBe(false);
    const known = (p: string) => (p === '/dev/jailhouse' ? true : undefined);
    expect(holds({ pathExists: ['/dev/unknown'] }, known)).toBe(true);
    expect(holds({ pathExists: ['!/dev/unknown'] }, known)).toBe(true);
    expect(holds({ pathExists: ['!/dev/jailhouse', '/dev/unknown'] }, known)).toBe(false);
    expect(undecidedConditions({ pathExists: ['/dev/jailhouse', '!/dev/unknown'] }, known)).toEqual(['!/dev/unknown']);
  });

  it('cpus and memory: comparisons, memory in K/M/G/T of 1024', () => {
    expect(holds({ cpus: ['>=4'] })).toBe(true);
    expect(holds({ cpus: ['>4'] })).toBe(false);
    expect(holds({ cpus: ['4'] })).toBe(true);
    expect(holds({ cpus: ['!=4'] })).toBe(false);
    expect(holds({ cpus: ['<8'] })).toBe(true);
    expect(holds({ memory: ['>=2G'] })).toBe(true);
    expect(holds({ memory: ['>2G'] })).toBe(false);
    expect(holds({ memory: ['<=2048M'] })).toBe(true);
  });

  it('board: a glob on the model, or on DMI "vendor product" without a device tree', () => {
    expect(holds({ board: ['*i.MX8M Plus*'] })).toBe(false);
    expect(holds({ board: ['*i.MX8MPlus*'] })).toBe(true);
    const dmi = facts({ board: { vendor: 'Supermicro', product: 'C7X99-OCE-F', id: 'supermicro-c7x99-oce-f' } });
    expect(firstFailedCondition({ board: ['Supermicro C7X99*'] }, dmi)).toBeUndefined();
  });

  it('compatible: met when any compatible string matches', () => {
    expect(holds({ compatible: ['fsl,imx8mp'] })).toBe(true);
    expect(holds({ compatible: ['fsl,imx8m?-evk'] })).toBe(true);
    expect(holds({ compatible: ['ti,*'] })).toBe(false);
  });

  it('a leading ! negates; every value of a list must hold', () => {
    expect(holds({ architecture: ['!x86-64'] })).toBe(true);
    expect(holds({ architecture: ['!arm64'] })).toBe(false);
    expect(holds({ compatible: ['fsl,*', '!fsl,imx8mm*'] })).toBe(true);
    expect(holds({ compatible: ['fsl,*', '!fsl,imx8mp*'] })).toBe(false);
  });

  it('names the first condition that fails and what the machine has', () => {
    const failed = firstFailedCondition({ architecture: ['arm64'], board: ['*i.MX8M Plus*'] }, facts({ board: { model: 'QEMU virt', id: 'qemu' } }));
    expect(failed).toEqual({ name: 'board', value: '*i.MX8M Plus*', actual: 'board is "QEMU virt"' });
    expect(conditionText(failed!)).toBe('condition failed: board "*i.MX8M Plus*" (board is "QEMU virt")');
    expect(conditionText(firstFailedCondition({ cpus: ['>=8'] }, f)!)).toBe('condition failed: cpus ">=8" (4 CPUs)');
    expect(conditionText(firstFailedCondition({ pathExists: ['!/dev/jailhouse'] }, f, () => true)!)).toBe('condition failed: pathExists "!/dev/jailhouse" (/dev/jailhouse exists)');
  });
});
