/**
 * Firmware images of the simulated remote processors, and where the kernel looks for them.
 *
 * An image is an ELF file as far as the kernel's checks go (the e_ident bytes), followed by one
 * line that tells the simulated core what the firmware does once it runs: how long it takes to
 * boot (until it announces its rpmsg channels and starts its heartbeat), how often it writes the
 * heartbeat line into its trace buffer, and which rpmsg services it announces. The rest is
 * deterministic bytes (image-bytes.ts), so a unit can pin the image's sha256.
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { deterministicImage } from '../image-bytes.js';

/** What the kernel and the simulated core know of a firmware image. */
export interface FirmwareImage {
  /** The machine path it was read from. */
  path: string;
  size: number;
  sha256: string;
  /** From the image's simulator line; absent for an ELF file without one (it boots and does nothing visible). */
  identity?: { name: string; version: string };
  /** From start to the rpmsg announcements and the first heartbeat. */
  bootMs: number;
  /** Period of the heartbeat line in the trace buffer; 0: the firmware has no trace buffer. */
  heartbeatMs: number;
  /** rpmsg services announced through the name service, in order (addresses 0x400, 0x401, …). */
  services: string[];
}

/** A firmware the kernel refuses: its log line (rproc_elf_sanity_check's words) and the errno. */
export interface FirmwareRefusal {
  errno: 'EINVAL';
  line: string;
}

const ELF_MAGIC = '\x7fELF';
/** e_ident of a 32-bit little-endian ELF (a Cortex-M image): magic, ELFCLASS32, ELFDATA2LSB, EV_CURRENT, padding. */
const ELF32_IDENT = `${ELF_MAGIC}\x01\x01\x01${'\0'.repeat(9)}`;
/** sizeof(struct elf32_hdr): the kernel refuses anything shorter. */
const ELF32_HEADER_SIZE = 52;
const SIM_LINE = 'crtos-sim rproc firmware:';

export interface FirmwareSpec {
  name: string;
  version: string;
  bootMs: number;
  heartbeatMs: number;
  services: string[];
  /** Total bytes; default 64 KiB. */
  size?: number;
}

/** The bytes of a simulated firmware image, deterministic for a given spec. */
export function firmwareImage(spec: FirmwareSpec): Uint8Array {
  const line = `${SIM_LINE} name=${spec.name} version=${spec.version} boot-ms=${spec.bootMs} heartbeat-ms=${spec.heartbeatMs} services=${spec.services.join(',')}\n`;
  let seed = 0x2545f491;
  for (const ch of line) seed = (Math.imul(seed, 31) + ch.charCodeAt(0)) | 0;
  return deterministicImage(spec.size ?? 64 * 1024, ELF32_IDENT + line, seed || 1);
}

/** The example's Zephyr firmware: the OpenAMP resource-table sample with an rpmsg tty, as built for the i.MX8M Cortex-M core. */
export function zephyrFirmware(version = 1): Uint8Array {
  return firmwareImage({ name: 'zephyr-openamp-rsc-table', version: String(version), bootMs: 100, heartbeatMs: 100, services: ['rpmsg-tty'] });
}

/**
 * Checks an image as rproc_elf_sanity_check does (size, magic, class) and reads the simulator's
 * line; `path` is the machine path it came from.
 */
export function parseFirmware(bytes: Uint8Array, path: string): FirmwareImage | FirmwareRefusal {
  if (bytes.length < ELF32_HEADER_SIZE) return { errno: 'EINVAL', line: 'Image is too small' };
  const head = Buffer.from(bytes.subarray(0, 4)).toString('latin1');
  if (head !== ELF_MAGIC) return { errno: 'EINVAL', line: 'Image is corrupted (bad magic)' };
  const elfClass = bytes[4] ?? 0;
  if (elfClass !== 1 && elfClass !== 2) return { errno: 'EINVAL', line: `Unsupported class: ${elfClass}` };
  const image: FirmwareImage = { path, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), bootMs: 0, heartbeatMs: 0, services: [] };
  const text = Buffer.from(bytes.subarray(16, 16 + 512)).toString('latin1');
  if (!text.startsWith(SIM_LINE)) return image;
  const fields = new Map<string, string>();
  for (const token of text.slice(SIM_LINE.length, text.indexOf('\n')).trim().split(/\s+/)) {
    const eq = token.indexOf('=');
    if (eq > 0) fields.set(token.slice(0, eq), token.slice(eq + 1));
  }
  const ms = (key: string) => {
    const n = Number(fields.get(key));
    return Number.isFinite(n) && n >= 0 ? n : 0;
  };
  image.identity = { name: fields.get('name') ?? 'unknown', version: fields.get('version') ?? '0' };
  image.bootMs = ms('boot-ms');
  image.heartbeatMs = ms('heartbeat-ms');
  image.services = (fields.get('services') ?? '').split(',').filter((s) => s !== '');
  return image;
}

export function isRefusal(x: FirmwareImage | FirmwareRefusal): x is FirmwareRefusal {
  return 'errno' in x;
}

/**
 * The directories request_firmware tries, in order (reference §5): firmware_class.path, then
 * /lib/firmware/updates/<release>, /lib/firmware/updates, /lib/firmware/<release>, /lib/firmware.
 */
export function firmwareSearchPath(kernelRelease: string, classPath?: string): string[] {
  const dirs = [`/lib/firmware/updates/${kernelRelease}`, '/lib/firmware/updates', `/lib/firmware/${kernelRelease}`, '/lib/firmware'];
  return classPath ? [classPath, ...dirs] : dirs;
}

/**
 * The machine path request_firmware loads `name` from: the first directory of the search path
 * that has it as a regular file (`isFile` answers for a machine path), or undefined (ENOENT).
 * The name is relative; `..` cannot climb above the machine's root.
 */
export function findFirmware(name: string, searchPath: readonly string[], isFile: (machinePath: string) => boolean): string | undefined {
  if (name === '') return undefined;
  for (const dir of searchPath) {
    const candidate = posix.normalize(`${dir}/${name}`);
    if (isFile(candidate)) return candidate;
  }
  return undefined;
}
