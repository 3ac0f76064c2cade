/**
 * Machine facts: what crtosd knows of a machine, as `crtosctl facts` prints it and a facts file
 * holds it (a facts file is exactly that output). The schema is the facts file's format; fields are
 * camelCase. Conditions and specifiers read these facts, and `validate --facts` reads them from files.
 */
import { z } from 'zod';

export const FACTS_VERSION = 1;

/** `0x00100000-0x39ffffff`: a range of physical addresses, both ends included, as /proc/iomem shows it. */
const RAM_RANGE = /^0x[0-9a-f]+-0x[0-9a-f]+$/i;
const ramRanges = z.array(z.string().regex(RAM_RANGE, { message: 'must be a range like 0x40000000-0x7fffffff' }));

export const factsSchema = z.strictObject({
  crtosFactsVersion: z.literal(FACTS_VERSION).meta({ description: 'The facts format; this crtosctl reads 1.' }),
  hostname: z.string().min(1),
  machineId: z.string().regex(/^([0-9a-f]{32})?$/, { message: 'must be 32 lower-case hex digits (as /etc/machine-id), or empty when unknown' }),
  /** systemd's architecture names (ConditionArchitecture): x86-64, arm64, arm, riscv64, … */
  architecture: z.string().min(1),
  cpus: z.strictObject({
    /** CPUs present (possible ones when present is not shown). */
    count: z.number().int().positive(),
    /** Online CPUs as the kernel lists them ("0-3"). */
    online: z.string(),
  }),
  memory: z.strictObject({
    /** Bytes of RAM Linux manages (/proc/meminfo MemTotal). */
    total: z.number().int().nonnegative(),
    /**
     * RAM Linux uses: the System RAM ranges of /proc/iomem, when it was readable with real
     * addresses. Memory kept from Linux (mem=, memmap=, a reserved-memory node) is not in it.
     */
    systemRam: ramRanges.optional(),
    /**
     * The machine's physical RAM as its firmware reported it (/sys/firmware/memmap on x86, the
     * device tree's memory nodes), whatever Linux was given of it; ranges that touch are joined.
     * Absent when unknown (not readable, or a facts file from before it was collected).
     */
    physicalRam: ramRanges.optional(),
  }),
  kernel: z.strictObject({ release: z.string(), commandLine: z.string() }),
  board: z.strictObject({
    model: z.string().optional(),
    compatible: z.array(z.string()).optional(),
    vendor: z.string().optional(),
    product: z.string().optional(),
    /** What %b expands to: the first compatible string, else DMI "vendor product" (see boardId). */
    id: z.string(),
  }),
  jailhouse: z.strictObject({
    /** The jailhouse module is loaded or installed. */
    present: z.boolean(),
    enabled: z.boolean(),
    /** Of the system configuration(s) in /etc/jailhouse, when they agree. */
    revision: z.number().int().optional(),
    arch: z.string().optional(),
  }),
  remoteproc: z.array(z.strictObject({ name: z.string(), state: z.string() })),
  /**
   * What `pathExists` conditions ask of this machine: a path and whether it exists there
   * (`crtosctl facts --path PATH` adds one). `validate --facts` decides such a condition from
   * this first, then from --root; with neither it cannot, and says so.
   */
  paths: z
    .record(z.string(), z.boolean())
    .superRefine((paths, ctx) => {
      for (const p of Object.keys(paths)) if (!p.startsWith('/')) ctx.addIssue({ code: 'custom', path: [p], message: `'${p}' is not an absolute path, as a pathExists condition names one` });
    })
    .optional(),
});

export type MachineFacts = z.output<typeof factsSchema>;

/**
 * What a machine is, as opposed to what it is doing: the facts conditions, specifiers and the fit
 * checks read. crtosd reads these (and only these) on every load of the unit files, so a reload
 * never waits on the hypervisor's or the processors' state, nor decodes configurations for it.
 */
export type MachineIdentity = Omit<MachineFacts, 'crtosFactsVersion' | 'jailhouse' | 'remoteproc'>;

/**
 * The board's id (%b): the most specific device-tree compatible string, else DMI "vendor product";
 * lower case, each run of characters outside [a-z0-9,._-] one "-", so it can name a file.
 */
export function boardId(board: { compatible?: readonly string[]; vendor?: string; product?: string }): string {
  const raw = board.compatible?.[0] ?? [board.vendor, board.product].filter((s) => s !== undefined && s !== '').join(' ');
  return raw
    .toLowerCase()
    .replace(/[^a-z0-9,._-]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** uname's machine → systemd's architecture name (src/basic/architecture.c's table, little-endian unless said). */
const UNAME_TO_SYSTEMD: [RegExp, string][] = [
  [/^x86_64$/, 'x86-64'],
  [/^i[3-6]86$/, 'x86'],
  [/^aarch64$/, 'arm64'],
  [/^aarch64_be$/, 'arm64-be'],
  [/^arm.*b$/, 'arm-be'],
  [/^arm/, 'arm'],
  [/^riscv64$/, 'riscv64'],
  [/^riscv32$/, 'riscv32'],
  [/^ppc64le$/, 'ppc64-le'],
  [/^ppc64$/, 'ppc64'],
  [/^ppc$/, 'ppc'],
  [/^s390x$/, 's390x'],
  [/^s390$/, 's390'],
  [/^loongarch64$/, 'loongarch64'],
  [/^mips64$/, 'mips64'],
  [/^mips$/, 'mips'],
];

export function architectureOfMachine(machine: string): string {
  return UNAME_TO_SYSTEMD.find(([re]) => re.test(machine))?.[1] ?? machine;
}

/** Every architecture name the conditions know (for did-you-mean on a misspelt one). */
export const ARCHITECTURES: readonly string[] = [...new Set(UNAME_TO_SYSTEMD.map(([, name]) => name))];

/** The hostname up to its first dot (%l). */
export function shortHostname(hostname: string): string {
  const dot = hostname.indexOf('.');
  return dot < 0 ? hostname : hostname.slice(0, dot);
}
