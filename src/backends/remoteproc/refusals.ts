/**
 * What a refused sysfs write means (reference: remoteproc sysfs ABI, the per-state errnos of
 * mainline >= v5.19 and the older EBUSY for `start`): the kernel returns only an errno, so the
 * message names the processor, the attribute, the value, the state it was in, and what to do.
 */
import { HostError } from '../../host/host-error.js';
import type { Processor } from './sysfs.js';
import { attributePath } from './sysfs.js';

interface Meaning {
  why: string;
  hint: string;
}

/** The kernel's reason for an errno on one attribute and value, in the state the processor was in. */
export function meaningOf(attribute: string, value: string, errno: string | undefined, p: Processor): Meaning {
  const word = value.trim();
  const at = `${attribute}:${word}`;
  switch (errno) {
    case 'EBUSY':
      if (attribute === 'firmware') return { why: 'the firmware can only be changed while the processor is offline', hint: `stop it first (\`echo stop > ${attributePath(p, 'state')}\`, or \`crtosctl stop\` of its cell): crtosd stops it itself when a cell's firmware changes` };
      if (attribute === 'coredump') return { why: 'the coredump setting cannot change while the processor is crashed', hint: `let the recovery finish, or \`echo recover > ${attributePath(p, 'recovery')}\`, then try again` };
      if (at === 'state:start') return { why: 'it runs already (a kernel before 5.19 refuses a second start)', hint: 'nothing to do: crtosd adopts a running processor; stop it first to load another firmware' };
      break;
    case 'ENOENT':
      if (at === 'state:start') return { why: `the firmware file ${p.firmware} is not in the kernel's firmware search path (dmesg: request_firmware failed: -2)`, hint: 'install it under /lib/firmware (the hypervisor\'s firmwareDir) or the directory firmware_class.path names' };
      return { why: `the processor's ${attribute} file is gone (its driver was removed?)`, hint: `check that ${p.name}'s platform driver is loaded (\`ls /sys/class/remoteproc\`)` };
    case 'EINVAL':
      if (at === 'state:start') return { why: 'the kernel could not boot the firmware (its ELF or resource table was refused; dmesg: Boot failed: -22)', hint: `check that ${p.firmware} is an ELF built for ${p.name}, with a resource table` };
      if (at === 'state:stop') return { why: `a processor can only be stopped while running or attached (it is ${p.state}; a driver without a stop operation refuses it too)`, hint: p.state === 'crashed' ? `with recovery disabled a crashed processor is recovered first: \`echo recover > ${attributePath(p, 'recovery')}\`` : 'nothing to stop' };
      if (at === 'state:detach') return { why: 'only an attached processor whose driver can detach it can be detached', hint: 'stop it instead' };
      if (attribute === 'firmware') return { why: 'the firmware name is empty (or the write was interrupted)', hint: 'give the Image a file name' };
      return { why: `the kernel does not take ${JSON.stringify(word)} there`, hint: attribute === 'recovery' ? 'write enabled, disabled or recover' : attribute === 'coredump' ? 'write disabled, enabled or inline' : 'write start, stop or detach' };
    case 'EACCES':
    case 'EPERM':
      return { why: `${attribute} cannot be written (the driver made the remoteproc attributes read-only, or crtosd is not root)`, hint: `crtosd needs root; a driver with sysfs_read_only (${p.name}) cannot be driven from user space` };
    case 'ENOMEM':
      return { why: 'the kernel ran out of memory', hint: 'try again; check the machine\'s memory' };
  }
  return { why: `the kernel returned ${errno ?? 'an error'}`, hint: `see dmesg for ${p.name}` };
}

/** A refused write, as a HostError that keeps the errno (so callers can tell "already done"). */
export function refusal(e: HostError, attribute: string, value: string, p: Processor): HostError {
  const { why, hint } = meaningOf(attribute, value, e.errno, p);
  return new HostError({
    code: 'HOST_WRITE_FAILED',
    op: 'writeAttribute',
    errno: e.errno,
    message: `the kernel refused ${JSON.stringify(value.trim())} for ${attribute} of processor ${p.name} (${p.dir}, ${p.state}) with ${e.errno ?? 'an error'}: ${why}`,
    hint,
  });
}
