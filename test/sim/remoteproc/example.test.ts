/** `crtos-sim create --example remoteproc`, its faults and `destroy`, as a shell user runs them (the command's code, in this process). */
import { afterAll, describe, expect, it } from 'vitest';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { destroySimMachine, openSimMachine } from '../../../src/sim/index.js';
import { runSimCli } from '../../../src/sim/cli.js';
import { REMOTEPROC_DESCRIPTION, REMOTEPROC_FIRMWARE_FILE, REMOTEPROC_PROXY_FILE } from '../../../src/sim/remoteproc/example.js';
import { zephyrFirmware } from '../../../src/sim/remoteproc/firmware.js';
import { fuseMountsUnder } from '../../../src/sim/remoteproc/mounts.js';
import { mergeDescription, validateDescription } from '../../../src/sim/description.js';

/** Machines made by `create` (their kernels outlive it): destroyed even when a test fails. */
const machines: string[] = [];
afterAll(async () => {
  for (const d of machines) {
    await destroySimMachine(d);
    rmSync(dirname(d), { recursive: true, force: true });
  }
});

async function crtosSim(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runSimCli(args, { out: (t) => void (stdout += t), err: (t) => void (stderr += t), readFile: (p) => readFileSync(p, 'utf8') });
  return { code, stdout, stderr };
}

async function created(): Promise<string> {
  const dir = join(mkdtempSync(join(tmpdir(), 'crtos-sim-rp-')), 'm');
  machines.push(dir);
  expect(await crtosSim('create', dir, '--example', 'remoteproc')).toMatchObject({ code: 0, stderr: '' });
  return dir;
}

describe('crtos-sim create --example remoteproc', () => {
  it('makes the i.MX8M machine: one Cortex-M core offline, its driver and rpmsg_tty loaded at boot, the firmware and proxy to install; destroy unmounts and removes it', async () => {
    const dir = await created();
    // The kernel outlives the command that created the machine.
    expect(readFileSync(join(dir, 'sys/class/remoteproc/remoteproc0/name'), 'utf8')).toBe('imx-rproc\n');
    expect(readFileSync(join(dir, 'sys/class/remoteproc/remoteproc0/state'), 'utf8')).toBe('offline\n');
    const m = openSimMachine(dir);
    expect((await m.state()).modules.map((x) => x.name).sort()).toEqual(['imx_rproc', 'rpmsg_tty']);
    expect((await m.readLog()).filter((e) => e.op === 'modprobe')).toEqual([]);
    expect(Buffer.compare(readFileSync(join(dir, REMOTEPROC_FIRMWARE_FILE)), zephyrFirmware())).toBe(0);
    accessSync(join(dir, REMOTEPROC_PROXY_FILE), constants.X_OK);
    expect(readdirSync(join(dir, 'lib/firmware'))).toEqual([]);
    expect(() => writeFileSync(join(dir, 'sys/class/remoteproc/remoteproc0/state'), 'start\n')).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    // One line per operation, the written value's newline shown as \n.
    expect((await crtosSim('log', dir)).stdout).toMatch(/ sysfs write +ENOENT +\/sys\/class\/remoteproc\/remoteproc0\/state start\\n\n/);

    expect(await crtosSim('destroy', dir)).toMatchObject({ code: 0 });
    expect(fuseMountsUnder(dir)).toEqual([]);
    expect(existsSync(dir)).toBe(false);
  });

  it('sets processor faults in faults.json, crashes or hangs a running firmware now, and explains bad usage', async () => {
    const dir = await created();
    const m = openSimMachine(dir);
    expect((await crtosSim('fault', dir, '--processor', 'imx-rproc', '--crash', '--after', '2000', '--type', 'fatal error', '--times', '2')).code).toBe(0);
    expect((await crtosSim('fault', dir, '--processor', 'imx-rproc', '--hang', '--after', '500')).code).toBe(0);
    expect((await crtosSim('fault', dir, '--processor', 'imx-rproc', '--boot-fail', '--times', '1')).code).toBe(0);
    expect((await m.faults()).processorFaults).toEqual([
      { processor: 'imx-rproc', kind: 'crash', afterMs: 2000, crashType: 'fatal error', times: 2 },
      { processor: 'imx-rproc', kind: 'hang', afterMs: 500 },
      { processor: 'imx-rproc', kind: 'boot-fail', times: 1 },
    ]);
    expect((await crtosSim('fault', dir, '--clear')).code).toBe(0);
    expect((await m.faults()).processorFaults).toBeUndefined();

    const offline = await crtosSim('fault', dir, '--processor', 'imx-rproc', '--crash', '--now');
    expect(offline.code).toBe(1);
    expect(offline.stderr).toContain('imx-rproc is offline: the kernel ignores a crash report now');

    for (const args of [['--processor', 'imx-rproc'], ['--processor', 'imx-rproc', '--crash', '--hang'], ['--processor', 'imx-rproc', '--boot-fail', '--after', '5'], ['--processor', 'imx-rproc', '--hang', '--type', 'watchdog'], ['--processor', 'imx-rproc', '--crash', '--now', '--times', '1']]) {
      const r = await crtosSim('fault', dir, ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^crtos-sim: /);
    }
  });
});

describe('remoteproc machine descriptions', () => {
  it('are checked: driver in the catalog, unique names, boot modules installed, image paths absolute', () => {
    const problems = validateDescription(
      mergeDescription({
        ...REMOTEPROC_DESCRIPTION,
        bootModules: ['imx_rproc', 'nope'],
        remoteproc: {
          firmwareClassPath: 'relative',
          processors: [
            { name: 'imx-rproc', driver: 'imx_rproc' },
            { name: 'imx-rproc', driver: 'missing', runningAtBoot: { image: 'fw.elf' }, recoveryMs: -1 },
            { name: 'bad name', driver: 'imx_rproc', firmware: '' },
          ],
        },
      }),
    );
    expect(problems).toEqual([
      'bootModules: nope is not an installed module of the catalog',
      'remoteproc.firmwareClassPath must be an absolute machine path, not "relative"',
      'remoteproc processor "imx-rproc" is listed twice (crtosd finds a processor by its name)',
      'remoteproc processor "imx-rproc": driver "missing" is not a module of the machine\'s catalog',
      'remoteproc processor "imx-rproc": runningAtBoot.image must be the machine path of the image the core runs',
      'remoteproc processor "imx-rproc": recoveryMs must be a number of milliseconds >= 0',
      'remoteproc processor "bad name": name must be 1..64 letters, digits, dots, dashes or underscores',
      'remoteproc processor "bad name": firmware must be a non-empty name on one line',
    ]);
    expect(validateDescription(mergeDescription(REMOTEPROC_DESCRIPTION))).toEqual([]);
  });
});
