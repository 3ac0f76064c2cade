import { describe, expect, it } from 'vitest';
import { unitsOnMachine } from '../../src/conditions/machine-set.js';
import { build, errorsOf } from '../units/helpers.js';
import { facts } from './facts-fixture.js';

const TREE = `kind: Driver
name: jailhouse
module: jailhouse
conditions:
  compatible: "fsl,imx8mp*"
---
kind: Hypervisor
name: jailhouse
type: jailhouse
driver: jailhouse
system: /etc/jailhouse/%b.cell
---
kind: Loader
name: telemetry
exec: [/opt/%a/telemetry, --host, "%H"]
wants: [jailhouse.hypervisor]
description: telemetry of %l (%%)
`;

describe('a unit set on one machine', () => {
  it('skips a unit whose condition fails and, transitively, what requires it; not what only wants it', () => {
    const { set } = build({ 'u.yaml': TREE });
    const on = unitsOnMachine(set!, facts({ board: { model: 'QEMU virt', compatible: ['linux,dummy-virt'], id: 'linux,dummy-virt' } }));
    expect([...on.skipped]).toEqual([
      ['jailhouse.driver', { subState: 'condition-failed', text: 'condition failed: compatible "fsl,imx8mp*" (compatible is "linux,dummy-virt")' }],
      ['jailhouse.hypervisor', { subState: 'skipped', text: 'skipped: requires jailhouse.driver, whose condition failed' }],
    ]);
    expect([...on.applied.units.keys()]).toEqual(['telemetry.loader']);
    expect(on.applied.layers.flat()).toEqual(['telemetry.loader']);
    // Every unit stays listed, for its status.
    expect([...on.set.units.keys()]).toEqual(['jailhouse.driver', 'jailhouse.hypervisor', 'telemetry.loader']);
  });

  it("expands specifiers in the applied units' strings, not in references, names or conditions", () => {
    const { set } = build({ 'u.yaml': TREE });
    const on = unitsOnMachine(set!, facts());
    expect(on.skipped.size).toBe(0);
    const hv = on.applied.units.get('jailhouse.hypervisor')!.spec as unknown as { system: string; driver: string };
    expect(hv.system).toBe('/etc/jailhouse/fsl,imx8mp-evk.cell');
    expect(hv.driver).toBe('jailhouse');
    const loader = on.applied.units.get('telemetry.loader')!.spec as unknown as { exec: string[]; description: string; wants: string[] };
    expect(loader.exec).toEqual(['/opt/arm64/telemetry', '--host', 'rt-box-7.lab.example']);
    expect(loader.description).toBe('telemetry of rt-box-7 (%)');
    expect(loader.wants).toEqual(['jailhouse.hypervisor']);
    expect((on.applied.units.get('jailhouse.driver')!.spec as unknown as { conditions: unknown }).conditions).toEqual({ compatible: ['fsl,imx8mp*'] });
    // The set as loaded is left as it was: each machine expands its own copy.
    expect((set!.units.get('jailhouse.hypervisor')!.spec as unknown as { system: string }).system).toBe('/etc/jailhouse/%b.cell');
  });
});

describe('conditions and specifiers when unit files load', () => {
  it('refuses an unknown condition name at its key, with a did-you-mean hint', () => {
    const result = build({ 'u.yaml': 'kind: Driver\nname: x\nmodule: x\nconditions:\n  architecure: arm64\n' });
    expect(errorsOf(result)).toEqual([
      expect.objectContaining({ code: 'UNIT_UNKNOWN_FIELD', file: 'u.yaml', line: 5, column: 3, unit: 'x.driver', message: "unknown field 'architecure' in 'conditions'", hint: "did you mean 'architecture'?" }),
    ]);
  });

  it('refuses values that cannot hold: an unknown architecture, a comparison that is none, a relative path', () => {
    const result = build({ 'u.yaml': 'kind: Driver\nname: x\nmodule: x\nconditions:\n  architecture: amd64\n  cpus: [">=4", "many"]\n  pathExists: dev/x\n' });
    expect(errorsOf(result).map((p) => [p.line, p.column, p.message])).toEqual([
      [5, 17, expect.stringContaining("'amd64' is not an architecture systemd names")],
      [6, 17, expect.stringContaining("'many' is not a comparison of CPUs")],
      [7, 15, "'conditions.pathExists': 'dev/x' is not an absolute path"],
    ]);
  });

  it('refuses an unknown specifier at its own column, quoted or not, in the file that wrote it', () => {
    const result = build({ 'u.yaml': 'kind: Loader\nname: x\nexec: [/opt/x, "%q"]\nenvironment:\n  A: /run/%Z/%H\n' });
    expect(errorsOf(result).map((p) => [p.code, p.line, p.column, p.message, p.hint])).toEqual([
      ['UNIT_UNKNOWN_SPECIFIER', 3, 17, "'exec[1]' has the unknown specifier '%q'", 'specifiers are %H %l %m %a %b %v %n %N %%; write %% for a literal %'],
      ['UNIT_UNKNOWN_SPECIFIER', 5, 11, "'environment.A' has the unknown specifier '%Z'", expect.any(String)],
    ]);
  });

  it('leaves % in names, references and conditions to their own checks', () => {
    expect(errorsOf(build({ 'u.yaml': 'kind: Driver\nname: x\nmodule: x\nconditions:\n  host: "100%"\n' }))).toEqual([]);
  });
});
