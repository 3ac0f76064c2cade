/**
 * `crtosctl cell-config show --generated UNIT`: what crtosd would write for the cRTOS example's
 * hypervisor and cell, readable, from the unit files and the simulated machine's files; nothing
 * for unit files crtosd would refuse.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSimMachine, destroySimMachine, type SimMachine } from '../../src/sim/index.js';
import { parseConfigDescriptionText, encodeConfig } from '../../src/jailhouse/index.js';
import { ctlInProcess } from './helpers/in-process.js';
import { repoRoot } from '../units/helpers.js';

describe('crtosctl cell-config show --generated', () => {
  let dir: string;
  let machine: SimMachine;
  let units: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'crtos-generated-'));
    machine = await createSimMachine(join(dir, 'machine'));
    units = join(dir, 'units');
    cpSync(join(repoRoot, 'units/crtos'), units, { recursive: true });
  });
  afterAll(async () => {
    await destroySimMachine(machine.dir);
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['jailhouse.hypervisor', '/run/crtos/hypervisors/jailhouse.cell', 'etc/jailhouse/sysconfig.cell'],
    ['nuttx.cell', '/run/crtos/cells/nuttx.cell', 'etc/jailhouse/nuttx.cell'],
  ])('%s: the description of what crtosd writes to %s, which builds to the hand-written %s', async (unit, path, handWritten) => {
    const r = await ctlInProcess('cell-config', 'show', '--generated', unit, '--units', units, '--root', machine.dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(new RegExp(`^# What crtosd writes to ${path} \\(\\d+ bytes\\): .* with shadow\\.link at 0x100000000, crtos-net\\.link at 0x140100000$`));
    const parsed = parseConfigDescriptionText(r.stdout, 'generated.yaml');
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    expect(Buffer.from(encodeConfig(parsed.config)).equals(readFileSync(join(machine.dir, handWritten)))).toBe(true);
  });

  it('--json: the same as data, with the links it carries', async () => {
    const r = await ctlInProcess('cell-config', 'show', '--generated', 'nuttx.cell', '--units', units, '--root', machine.dir, '--json');
    expect(r.code).toBe(0);
    const body = JSON.parse(r.stdout) as { path: string; links: string[]; config: { pciDevices: unknown[] } };
    expect(body).toMatchObject({ path: '/run/crtos/cells/nuttx.cell', links: ['shadow.link', 'crtos-net.link'] });
    expect(body.config.pciDevices).toHaveLength(2);
  });

  it('unit files crtosd would refuse: their problems, and nothing generated', async () => {
    const links = join(units, 'links.yaml');
    const good = readFileSync(links, 'utf8');
    writeFileSync(links, good.replace('rwSize: 1G', 'rwSize: 2G'));
    try {
      const r = await ctlInProcess('cell-config', 'show', '--generated', 'nuttx.cell', '--units', units, '--root', machine.dir);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/links\.yaml:\d+:\d+: error\[CELLCFG_LINK_POOL_FULL\]: the link needs/);
      expect(r.stderr).toContain('crtosd would refuse these unit files, so it would write nothing.');
    } finally {
      writeFileSync(links, good);
    }
  });

  it('a unit that is no Hypervisor or Cell is a usage error', async () => {
    const r = await ctlInProcess('cell-config', 'show', '--generated', 'hello.loader', '--units', units, '--root', machine.dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/hello\.loader is not a Hypervisor or Cell unit/);
  });
});
