import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadUnits } from '../src/units/load.js';
import { repoRoot, specOf } from './units/helpers.js';
import type { RtmuxHypervisor } from '../src/backends/rtmux/definition.js';

describe('example deployments', () => {
  // The bring-up order of the manual cRTOS installation: module, enable, drivers, link, cell, loader;
  // in the short form the links (their devices in the root cell) come between enable and drivers.
  const CRTOS = [
    {
      dir: 'units/crtos',
      units: ['crtos-link.network', 'crtos-net.link', 'hello.loader', 'ivshmem-net.driver', 'jailhouse.driver', 'jailhouse.hypervisor', 'nuttx.cell', 'nuttx.image', 'shadow.driver', 'shadow.link'],
      layers: [
        ['jailhouse.driver', 'nuttx.image'],
        ['jailhouse.hypervisor'],
        ['crtos-net.link', 'shadow.link'],
        ['ivshmem-net.driver', 'shadow.driver'],
        ['crtos-link.network'],
        ['nuttx.cell'],
        ['hello.loader'],
      ],
    },
    {
      dir: 'units/crtos-handwritten',
      units: ['crtos-link.network', 'hello.loader', 'ivshmem-net.driver', 'jailhouse.driver', 'jailhouse.hypervisor', 'nuttx.cell', 'nuttx.image', 'shadow.driver'],
      layers: [
        ['jailhouse.driver', 'nuttx.image'],
        ['jailhouse.hypervisor'],
        ['ivshmem-net.driver', 'shadow.driver'],
        ['crtos-link.network'],
        ['nuttx.cell'],
        ['hello.loader'],
      ],
    },
  ];

  it.each(CRTOS)('$dir is the complete cRTOS deployment and every file it names exists on the simulated machine', async (example) => {
    const machine = mkdtempSync(join(tmpdir(), 'crtos-example-'));
    try {
      execFileSync(process.execPath, [join(repoRoot, 'dist/crtos-sim.mjs'), 'create', join(machine, 'm')], { stdio: 'ignore' });
      const r = await loadUnits({ directories: [example.dir], cwd: repoRoot, root: join(machine, 'm') });
      expect(r.problems).toEqual([]);
      expect([...r.set!.units.keys()].sort()).toEqual(example.units);
      // The pinned checksum is that of the image the simulated machine writes.
      const image = r.set!.units.get('nuttx.image')!;
      const written = createHash('sha256').update(readFileSync(join(machine, 'm/opt/crtos/nuttx.bin'))).digest('hex');
      expect(specOf(image, 'Image').sha256).toBe(written);
      expect(r.set!.layers.map((layer) => [...layer].sort())).toEqual(example.layers);
    } finally {
      rmSync(machine, { recursive: true, force: true });
    }
  });

  it('units/crtos-inline over units/crtos-handwritten is the same deployment with the cell configured inline', async () => {
    const r = await loadUnits({ directories: ['units/crtos-inline', 'units/crtos-handwritten'], cwd: repoRoot });
    expect(r.problems).toEqual([]);
    expect(r.set!.units.size).toBe(8);
    const cell = r.set!.units.get('nuttx.cell')!;
    expect(cell.source.file).toContain('crtos-inline');
    const config = specOf(cell, 'Cell').config;
    expect(typeof config === 'object' && config.name).toBe('nuttx');
  });

  it('units/rtmux places its image at /vmm/rtos.bin', async () => {
    const r = await loadUnits({ directories: ['units/rtmux'], cwd: repoRoot });
    expect(r.problems).toEqual([]);
    const hv = r.set!.units.get('rtmux.hypervisor')!;
    const hvSpec = (hv as RtmuxHypervisor).spec;
    expect(hvSpec.type === 'rtmux' && [hvSpec.imagePath, hvSpec.module]).toEqual(['/vmm/rtos.bin', '/lib/modules/rtvmm.ko']);
    expect(r.set!.deps.get('rtmux.hypervisor')!.requires).toEqual(['rt-thread.image']);
  });
});
