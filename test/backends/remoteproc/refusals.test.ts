/**
 * Every refusal of the remoteproc sysfs interface (reference: §2 and §4, mainline and the older
 * EBUSY for a second start) reads as a sentence naming the processor, the attribute, the value,
 * the state it was in and the kernel's errno, with a hint of what to do; the errno stays on the
 * error so callers can tell "already done".
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { HostError } from '../../../src/host/host-error.js';
import { meaningOf, refusal } from '../../../src/backends/remoteproc/refusals.js';
import type { Processor } from '../../../src/backends/remoteproc/sysfs.js';

const processor = (state: string): Processor => ({ dir: 'remoteproc3', index: 3, name: 'm4', state, firmware: 'crtos-m4.elf', recovery: 'enabled', coredump: 'disabled' });
const refused = (errno: HostError['errno']) => new HostError({ code: 'HOST_WRITE_FAILED', op: 'writeAttribute', errno, message: 'x' });

/** The refusals of reference §2/§4: attribute, value, the state it is refused in, errno. */
const CASES: [string, string, string, HostError['errno'], RegExp][] = [
  ['firmware', 'crtos-m4.elf', 'running', 'EBUSY', /only be changed while the processor is offline/],
  ['firmware', 'crtos-m4.elf', 'attached', 'EBUSY', /only be changed while the processor is offline/],
  ['firmware', '', 'offline', 'EINVAL', /empty/],
  ['state', 'start', 'offline', 'ENOENT', /crtos-m4\.elf is not in the kernel's firmware search path/],
  ['state', 'start', 'offline', 'EINVAL', /could not boot the firmware/],
  ['state', 'start', 'running', 'EBUSY', /runs already/],
  ['state', 'stop', 'offline', 'EINVAL', /only be stopped while running or attached \(it is offline/],
  ['state', 'stop', 'crashed', 'EINVAL', /it is crashed/],
  ['state', 'detach', 'running', 'EINVAL', /only an attached processor/],
  ['state', 'reboot', 'offline', 'EINVAL', /does not take "reboot"/],
  ['recovery', 'maybe', 'running', 'EINVAL', /does not take "maybe"/],
  ['coredump', 'enabled', 'crashed', 'EBUSY', /cannot change while the processor is crashed/],
  ['coredump', 'always', 'offline', 'EINVAL', /does not take "always"/],
  ['state', 'start', 'offline', 'EACCES', /cannot be written/],
  ['firmware', 'x', 'offline', 'ENOMEM', /out of memory/],
];

describe('remoteproc refusals', () => {
  it.each(CASES)('%s=%s while %s: %s', (attribute, value, state, errno, why) => {
    const e = refusal(refused(errno), attribute, `${value}\n`, processor(state));
    expect(e.errno).toBe(errno);
    expect(e.message).toMatch(new RegExp(`^the kernel refused ${JSON.stringify(value).replace(/[.]/g, '\\.')} for ${attribute} of processor m4 \\(remoteproc3, ${state}\\) with ${errno}: `));
    expect(e.message).toMatch(why);
    expect(e.hint).toBeTruthy();
  });

  it('stop refused while crashed says how to recover it', () => {
    expect(meaningOf('state', 'stop', 'EINVAL', processor('crashed')).hint).toBe('with recovery disabled a crashed processor is recovered first: `echo recover > /sys/class/remoteproc/remoteproc3/recovery`');
  });

  it('any attribute, value and errno gives a reason and a hint', () => {
    const errnos = ['EBUSY', 'EINVAL', 'ENOENT', 'EACCES', 'EPERM', 'ENOMEM', 'EIO', undefined] as const;
    fc.assert(
      fc.property(fc.constantFrom('firmware', 'state', 'recovery', 'coredump'), fc.string(), fc.constantFrom(...errnos), fc.constantFrom('offline', 'running', 'crashed', 'attached', 'detached'), (attribute, value, errno, state) => {
        const m = meaningOf(attribute, value, errno, processor(state));
        return m.why.length > 0 && m.hint.length > 0;
      }),
      { seed: 13 },
    );
  });
});
