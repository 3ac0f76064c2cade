import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeConfig, type CellConfig, type SystemConfig } from '../../src/jailhouse/index.js';
import { checkConfigs } from '../../src/jailhouse/check.js';
import { runSimCli } from '../../src/sim/cli.js';
import { readDescription } from '../../src/sim/store.js';
import { FREERTOS_IMAGE_FILE, TELEMETRY_FILE, ZEPHYR_IMAGE_FILE } from '../../src/sim/fleet-examples.js';
import { eventsOf, every, until } from '../helpers/wait-for.js';

const work = mkdtempSync(join(tmpdir(), 'crtos-fleet-sim-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function create(name: string, example: string): Promise<string> {
  const dir = join(work, name);
  let err = '';
  const code = await runSimCli(['create', dir, '--example', example], { out: () => undefined, err: (t) => void (err += t), readFile: (p) => readFileSync(p, 'utf8') });
  expect(err).toBe('');
  expect(code).toBe(0);
  return dir;
}

function decode(dir: string, path: string): SystemConfig | CellConfig {
  const r = decodeConfig(readFileSync(join(dir, path)));
  if (!r.ok) throw new Error(`${path} does not decode`);
  return r.config;
}

describe('the fleet example machines', () => {
  it('fleet-arm64 is a four-CPU arm64 Jailhouse board whose board files sit under its first compatible string, and fit together', async () => {
    const dir = await create('arm64', 'fleet-arm64');
    const d = readDescription(dir);
    expect([d.arch, d.cpus, d.configRevision]).toEqual(['arm64', 4, 14]);
    expect(d.modules.map((m) => m.name)).toEqual(['jailhouse']);
    expect(readFileSync(join(dir, 'proc/device-tree/compatible'), 'utf8')).toBe('example,rt-board\0example,a53-soc\0');
    expect(readFileSync(join(dir, 'etc/hostname'), 'utf8')).toBe('rt-board-01\n');

    const system = decode(dir, 'etc/jailhouse/example,rt-board.cell') as SystemConfig;
    expect([system.kind, system.arch, system.revision, system.rootCell.cpus]).toEqual(['system', 'arm64', 14, [0, 1, 2, 3]]);
    // Inside the memory the machine reserves for it (what `jailhouse enable` checks).
    expect([system.hypervisorMemory.physStart, system.hypervisorMemory.size]).toEqual([BigInt(d.hypervisorMemory.physStart), BigInt(d.hypervisorMemory.size)]);
    const freertos = decode(dir, 'etc/jailhouse/example,rt-board/freertos.cell') as CellConfig;
    const zephyr = decode(dir, 'etc/jailhouse/example,rt-board/zephyr.cell') as CellConfig;
    expect([freertos.name, freertos.cpus, zephyr.name, zephyr.cpus]).toEqual(['freertos', [2], 'zephyr', [3]]);
    const image = (cell: string, path: string) => ({ cell, file: path, size: statSync(join(dir, path)).size, address: 0n });
    const problems = checkConfigs({
      system: { file: 'system', config: system },
      cells: [
        { file: 'freertos', config: freertos },
        { file: 'zephyr', config: zephyr },
      ],
      images: [image('freertos', FREERTOS_IMAGE_FILE), image('zephyr', ZEPHYR_IMAGE_FILE)],
    });
    expect(problems).toEqual([]);
    // Two different images, each 16 KiB.
    expect(readFileSync(join(dir, FREERTOS_IMAGE_FILE)).equals(readFileSync(join(dir, ZEPHYR_IMAGE_FILE)))).toBe(false);
  });

  it('linux-only is an arm64 gateway without Jailhouse whose telemetry stand-in runs until its machine is removed', async () => {
    const dir = await create('gateway', 'linux-only');
    const d = readDescription(dir);
    expect([d.arch, d.cpus, d.modules]).toEqual(['arm64', 2, []]);
    expect(readFileSync(join(dir, 'proc/device-tree/compatible'), 'utf8')).toBe('example,gateway\0example,a55-soc\0');
    expect(readFileSync(join(dir, 'proc/modules'), 'utf8')).toBe('');

    const telemetry = spawn(join(dir, TELEMETRY_FILE), ['--source', 'gateway-01'], { stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => telemetry.on('exit', (code) => resolve(code)));
    // In its loop once it has a `sleep` child (before that, the shell may not have read its script).
    const children = () => readFileSync(`/proc/${telemetry.pid}/task/${telemetry.pid}/children`, 'utf8').trim();
    await until('the telemetry stand-in to enter its loop', () => telemetry.exitCode === null && children() !== '', { sources: [eventsOf(telemetry, 'exit'), every(20)], timeoutMs: 5000 });
    rmSync(dir, { recursive: true, force: true });
    expect(await exited).toBe(0);
  });

  it('crtos-sim names every example it knows when given another', async () => {
    let err = '';
    const code = await runSimCli(['create', join(work, 'x'), '--example', 'xen'], { out: () => undefined, err: (t) => void (err += t), readFile: () => '' });
    expect(code).toBe(2);
    expect(err).toContain('unknown example "xen" (crtos, rtmux, remoteproc, fleet-arm64, linux-only)');
  });
});
