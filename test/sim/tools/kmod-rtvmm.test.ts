/** The simulated rtvmm.ko: reads /vmm/rtos.bin at insmod, like upstream's vmm_init. */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { machineFile, tempMachine } from '../helpers.js';
import { createSimMachine, RTMUX_DESCRIPTION, RTMUX_IMAGE_FILE, RTMUX_MODULE_FILE, rtthreadImage } from '../../../src/sim/index.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe.concurrent('simulated RTMux machine and rtvmm.ko', () => {
  it('the RTMux machine has rtvmm.ko and the RT-Thread image, and no image placed yet', async () => {
    const m = await tempMachine(RTMUX_DESCRIPTION);
    expect(m.description).toMatchObject({ arch: 'arm', cpus: 1, example: 'rtmux' });
    expect(readFileSync(join(m.dir, RTMUX_MODULE_FILE), 'latin1')).toContain('crtos-sim-module name=rtvmm');
    expect(sha(readFileSync(join(m.dir, RTMUX_IMAGE_FILE)))).toBe(sha(rtthreadImage()));
    expect(existsSync(join(m.dir, 'vmm/rtos.bin'))).toBe(false);
    // Deterministic, and each version different.
    expect(sha(rtthreadImage())).toBe(sha(rtthreadImage(1)));
    expect(sha(rtthreadImage(2))).not.toBe(sha(rtthreadImage(1)));
  });

  it('without /vmm/rtos.bin: "open file failed", the module loads anyway and no RTOS runs', async () => {
    const m = await tempMachine(RTMUX_DESCRIPTION);
    const r = await m.runInProcess('insmod', [RTMUX_MODULE_FILE]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(machineFile(m, 'proc/modules')).toContain('rtvmm 12288 0 - Live');
    expect((await m.state()).modules[0]!.rtDomain).toEqual({ running: false });
    const entry = (await m.readLog()).at(-1)!;
    expect(entry).toMatchObject({ op: 'insmod', result: 'ok', detail: { module: 'rtvmm', rtDomain: { running: false }, kernelLog: ['open file failed'] } });
  });

  it('with /vmm/rtos.bin: the RT domain runs the image read at load, and rmmod ends it', async () => {
    const m = await tempMachine(RTMUX_DESCRIPTION);
    const image = rtthreadImage(3);
    mkdirSync(join(m.dir, 'vmm'));
    writeFileSync(join(m.dir, 'vmm/rtos.bin'), image);
    expect((await m.runInProcess('insmod', [RTMUX_MODULE_FILE])).code).toBe(0);
    const domain = { running: true, image: { sha256: sha(image), size: image.length } };
    expect((await m.state()).modules[0]!.rtDomain).toEqual(domain);
    expect((await m.readLog()).at(-1)!.detail).toEqual({ module: 'rtvmm', rtDomain: domain });
    // Replacing the file later changes nothing: the module read it once.
    writeFileSync(join(m.dir, 'vmm/rtos.bin'), rtthreadImage(4));
    expect((await m.state()).modules[0]!.rtDomain).toEqual(domain);
    expect((await m.runInProcess('rmmod', ['rtvmm'])).code).toBe(0);
    expect((await m.state()).modules).toEqual([]);
    expect(machineFile(m, 'proc/modules')).toBe('');
  });

  it('modules other than rtvmm have no RT domain', async () => {
    const m = await tempMachine();
    expect((await m.runInProcess('modprobe', ['jailhouse'])).code).toBe(0);
    expect((await m.state()).modules[0]).not.toHaveProperty('rtDomain');
  });

  it('an unknown example is refused', async () => {
    await expect(createSimMachine('/tmp/never-created-crtos-sim', { example: 'xen' as 'none' })).rejects.toThrow(/example must be crtos, rtmux, remoteproc, fleet-arm64, linux-only or none/);
  });
});
