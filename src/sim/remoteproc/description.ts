/**
 * What a simulated machine's remote processors are: the part of a MachineDescription
 * (`remoteproc`) that says which cores the SoC has, which platform driver registers each one, and
 * how that driver sets it up (reference/remoteproc.md §1, §8, §10). Each field stands for a choice
 * a real driver makes, so a backend can be tested against each kind of vendor driver.
 */

export interface RemoteprocDescription {
  /**
   * `firmware_class.path=` on the kernel command line: a directory (machine path) searched before
   * /lib/firmware/updates/… (reference §5). Absent or empty: not set.
   */
  firmwareClassPath?: string;
  processors: ProcessorDescription[];
}

export interface ProcessorDescription {
  /** What the driver passes to rproc_alloc: `name` reads it (the stable name, e.g. `imx-rproc`). */
  name: string;
  /** The platform driver's module (a catalog entry): the processor exists while it is loaded. */
  driver: string;
  /** The default firmware name the driver gives; absent: `rproc-<name>-fw`, as rproc_alloc makes it. */
  firmware?: string;
  /**
   * auto_boot: the driver registers the processor and boots it at once (or attaches to it, when it
   * runs already). Default false: i.MX and STM32 drivers set it only from a DT property.
   */
  autoBoot?: boolean;
  /** The driver turns recovery off (TI K3 R5F: "error recovery is not supported"); `recovery` reads `disabled`. */
  recoveryDisabled?: boolean;
  /** ops->stop is there (default true); without it `stop` is EINVAL (TI K3 R5F in IPC-only mode). */
  canStop?: boolean;
  /** ops->detach is there (default false); without it `detach` is EINVAL. */
  canDetach?: boolean;
  /** RPROC_FEAT_ATTACH_ON_RECOVERY: recovery detaches and attaches again instead of reloading the firmware. */
  attachOnRecovery?: boolean;
  /**
   * The bootloader started the core before Linux, with this image (a machine path to a firmware
   * file): the driver registers the processor `detached`, or `attached` at once with autoBoot.
   */
  runningAtBoot?: { image: string };
  /**
   * How long a recovery takes from the crash until the firmware runs again (the reload and start),
   * in ms; the processor's attributes are locked meanwhile, as rproc->lock is. Default 50.
   */
  recoveryMs?: number;
}

export const DEFAULT_RECOVERY_MS = 50;

/** The firmware name the driver gives when it names none (rproc_alloc_firmware). */
export function defaultFirmwareName(p: ProcessorDescription): string {
  return p.firmware ?? `rproc-${p.name}-fw`;
}

/** Problems with a remoteproc description, as sentences; `modules` is the machine's module catalog. */
export function remoteprocProblems(r: RemoteprocDescription, modules: readonly { name: string }[]): string[] {
  const problems: string[] = [];
  if (!Array.isArray(r.processors)) return ['remoteproc.processors must be a list of processors'];
  if (r.firmwareClassPath !== undefined && r.firmwareClassPath !== '' && !r.firmwareClassPath.startsWith('/')) {
    problems.push(`remoteproc.firmwareClassPath must be an absolute machine path, not ${JSON.stringify(r.firmwareClassPath)}`);
  }
  const names = new Set<string>();
  for (const p of r.processors) {
    const what = `remoteproc processor ${JSON.stringify(p.name)}`;
    if (typeof p.name !== 'string' || !/^[\w.-]{1,64}$/.test(p.name)) problems.push(`${what}: name must be 1..64 letters, digits, dots, dashes or underscores`);
    if (names.has(p.name)) problems.push(`${what} is listed twice (crtosd finds a processor by its name)`);
    names.add(p.name);
    if (!modules.some((m) => m.name === p.driver)) problems.push(`${what}: driver ${JSON.stringify(p.driver)} is not a module of the machine's catalog`);
    if (p.firmware !== undefined && (p.firmware === '' || p.firmware.includes('\n'))) problems.push(`${what}: firmware must be a non-empty name on one line`);
    if (p.runningAtBoot !== undefined && !(typeof p.runningAtBoot.image === 'string' && p.runningAtBoot.image.startsWith('/'))) {
      problems.push(`${what}: runningAtBoot.image must be the machine path of the image the core runs`);
    }
    if (p.recoveryMs !== undefined && !(Number.isFinite(p.recoveryMs) && p.recoveryMs >= 0)) problems.push(`${what}: recoveryMs must be a number of milliseconds >= 0`);
  }
  return problems;
}
