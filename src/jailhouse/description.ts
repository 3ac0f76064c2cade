/**
 * The YAML description of a cell or system configuration: the binary structures field for field
 * (camelCase of the C names), with readable values. The zod schema parses straight into the
 * structures of types.ts; describeConfig is its inverse and leaves out fields at their default.
 * A Cell unit carries its configuration inline with `inlineCellConfigSchema`.
 */
import { z } from 'zod';
import { Document, LineCounter, parseDocument, isNode, isScalar, isSeq, visit } from 'yaml';
import { problem, type Problem } from '../errors/problem.js';
import {
  APIC_MODES,
  CACHE_FLAGS,
  CELL_FLAGS,
  CONSOLE_FLAGS,
  CONSOLE_TYPES,
  IOMMU_TYPES,
  MEMORY_FLAGS,
  PCI_CAP_FLAGS,
  SHMEM_PROTOCOLS,
  SYSTEM_FLAGS,
  CACHE_TYPES,
  bitsToNames,
  enumToName,
  nameToEnum,
  namesToBits,
  type BitNames,
  type EnumNames,
} from './flags.js';
import { formatBdf, formatCpuList, formatHex, formatHexBytes, formatSize, parseBdf, parseCpuList, parseHexBytes, parseInteger } from './values.js';
import type { Arch, CellConfig, ConfigFile, Console, IommuUnit, MemoryRegion, PciDevice, Revision, SystemConfig } from './types.js';

/**
 * Every schema of the description, built on first use: constructing them costs ~10 ms, which the
 * unit loader (a Cell's `config` may be written inline) must not pay for unit sets without one.
 */
function buildSchemas() {
  // ---------------------------------------------------------------------------------------------
  // Value schemas

  const intInput = z.union([z.number(), z.string(), z.bigint()]);

  function uint(bytes: 1 | 2 | 4) {
    const max = 2 ** (8 * bytes) - 1;
    return intInput.transform((v, ctx) => {
      const n = parseInteger(v);
      if (n === undefined || n < 0n || n > BigInt(max)) {
        ctx.addIssue({ code: 'custom', message: `expected an integer 0..${formatHex(max)} (decimal, 0x hex, or a size like 4K), got ${JSON.stringify(v)}` });
        return z.NEVER;
      }
      return Number(n);
    });
  }

  const u64 = intInput.transform((v, ctx) => {
    const n = parseInteger(v);
    if (n === undefined || n < 0n || n > 0xffffffffffffffffn) {
      ctx.addIssue({ code: 'custom', message: `expected a 64-bit unsigned integer (decimal, 0x hex, or a size like 1G), got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return n;
  });

  function flagList(table: BitNames) {
    return z.array(z.string()).transform((names, ctx) => {
      const r = namesToBits(names, table);
      if (!r.ok) {
        ctx.addIssue({ code: 'custom', message: `unknown flag '${r.bad}'; expected one of ${table.map(([n]) => n).join(', ')} or a hex value` });
        return z.NEVER;
      }
      // Canonical order (table order), so a description and the decoded file compare equal.
      return bitsToNames(r.value, table);
    });
  }

  /** Accepts a name from `table`, a hex string or a number; yields the canonical name. */
  function enumName(table: EnumNames, max: number) {
    return z.union([z.number(), z.string()]).transform((v, ctx) => {
      const n = typeof v === 'number' ? v : nameToEnum(v, table);
      if (n === undefined || !Number.isInteger(n) || n < 0 || n > max) {
        ctx.addIssue({ code: 'custom', message: `expected one of ${table.map(([name]) => name).join(', ')} or a number, got ${JSON.stringify(v)}` });
        return z.NEVER;
      }
      return enumToName(n, table);
    });
  }

  const cpuList = z.union([z.number(), z.string(), z.array(z.union([z.number(), z.string()]))]).transform((v, ctx) => {
    const cpus = parseCpuList(v);
    if (cpus === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected a CPU list like '1-3,5' or [1, 2], got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return cpus;
  });

  const bdf = z.union([z.number(), z.string()]).transform((v, ctx) => {
    const n = parseBdf(v);
    if (n === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected a PCI address bus:device.function like '00:0e.0', got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return n;
  });

  const hexBytes = z.string().transform((v, ctx) => {
    const b = parseHexBytes(v);
    if (b === undefined) {
      ctx.addIssue({ code: 'custom', message: 'expected hex bytes like "00ff10"' });
      return z.NEVER;
    }
    return b;
  });

  const mmu500StreamId = z
    .strictObject({ id: uint(2), maskOut: uint(2).default(0) })
    .transform((s) => ((s.maskOut << 16) | s.id) >>> 0);

  const protocol = z.union([z.number(), z.string()]).transform((v, ctx) => {
    const n = typeof v === 'number' ? v : (nameToEnum(v, SHMEM_PROTOCOLS) ?? (parseInteger(v) === undefined ? undefined : Number(parseInteger(v))));
    if (n === undefined || !Number.isInteger(n) || n < 0 || n > 0xffff) {
      ctx.addIssue({ code: 'custom', message: `expected VETH, UNDEFINED or a 16-bit number, got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return n;
  });

  // ---------------------------------------------------------------------------------------------
  // Structure schemas

  const memoryRegion = z
    .strictObject({
      physStart: u64.default(0n),
      /** Defaults to physStart (an identity mapping). */
      virtStart: u64.optional(),
      size: u64.default(0n),
      flags: flagList(MEMORY_FLAGS).default([]),
    })
    .transform((m): MemoryRegion => ({ physStart: m.physStart, virtStart: m.virtStart ?? m.physStart, size: m.size, flags: m.flags }));

  const consoleSchema = z
    .strictObject({
      address: u64.default(0n),
      size: uint(4).default(0),
      type: enumName(CONSOLE_TYPES, 0xffff).default('NONE'),
      flags: flagList(CONSOLE_FLAGS).default([]),
      divider: uint(4).default(0),
      gateNr: uint(4).default(0),
      clockReg: u64.default(0n),
    })
    .transform((c): Console => c);

  const CONSOLE_DEFAULT: Console = { address: 0n, size: 0, type: 'NONE', flags: [], divider: 0, gateNr: 0, clockReg: 0n };

  const cacheRegion = z.strictObject({
    start: uint(4).default(0),
    size: uint(4).default(0),
    type: enumName(CACHE_TYPES, 0xff).default('L3'),
    padding: uint(1).default(0),
    flags: flagList(CACHE_FLAGS).default([]),
  });

  const irqchip = z.strictObject({
    address: u64.default(0n),
    id: uint(4).default(0),
    pinBase: uint(4).default(0),
    pinBitmap: z
      .array(uint(4))
      .max(4)
      .default([])
      .transform((w): [number, number, number, number] => [w[0] ?? 0, w[1] ?? 0, w[2] ?? 0, w[3] ?? 0]),
  });

  const pioRegion = z.strictObject({ base: uint(2), length: uint(2) });

  const pciDevice = z
    .strictObject({
      type: z.enum(['device', 'bridge', 'ivshmem']),
      iommu: uint(1).default(0),
      domain: uint(2).default(0),
      bdf,
      barMask: z
        .array(uint(4))
        .max(6)
        .default([])
        .transform((w): PciDevice['barMask'] => [w[0] ?? 0, w[1] ?? 0, w[2] ?? 0, w[3] ?? 0, w[4] ?? 0, w[5] ?? 0]),
      capsStart: uint(2).default(0),
      numCaps: uint(2).default(0),
      numMsiVectors: uint(1).default(0),
      msi64bits: z.boolean().default(false),
      msiMaskable: z.boolean().default(false),
      msiReservedBits: z.number().int().min(0).max(63).default(0),
      numMsixVectors: uint(2).default(0),
      msixRegionSize: uint(2).default(0),
      msixAddress: u64.default(0n),
      shmemRegionsStart: uint(4).default(0),
      shmemDevId: uint(1).default(0),
      shmemPeers: uint(1).default(0),
      shmemProtocol: protocol.default(0),
    })
    .transform((d): PciDevice => d);

  const pciCap = z.strictObject({ id: uint(2), start: uint(2).default(0), len: uint(2).default(0), flags: flagList(PCI_CAP_FLAGS).default([]) });

  const doc = (description: string) => ({ description });

  const cellBodyFields = {
    name: z
      .string()
      .max(31)
      .refine((s) => [...s].every((c) => c.charCodeAt(0) > 0 && c.charCodeAt(0) <= 0xff), 'name must use single-byte characters and no NUL')
      .meta(doc('The cell name Jailhouse knows it by (at most 31 single-byte characters).')),
    id: uint(4).default(0).meta(doc('Cell id asked for; 0 lets the hypervisor choose.')),
    flags: flagList(CELL_FLAGS).default([]).meta(doc('Cell flags by name, e.g. [PASSIVE_COMMREG].')),
    /** Bytes of the CPU bitmap; defaults to 8 (one u64, as upstream) or what the CPUs need. */
    cpuSetSize: uint(4).optional().meta(doc('Bytes of the CPU bitmap; default 8, or what the CPUs need.')),
    cpus: cpuList.default([]).meta(doc("The cell's CPUs: '1-3,5', a number or a list.")),
    memoryRegions: z.array(memoryRegion).default([]).meta(doc('Memory regions: { physStart, virtStart (default physStart), size, flags }.')),
    cacheRegions: z.array(cacheRegion).default([]).meta(doc('Cache partitions (CAT): { start, size, type, flags }.')),
    irqchips: z.array(irqchip).default([]).meta(doc('Interrupt controllers: { address, id, pinBase, pinBitmap }.')),
    pioRegions: z.array(pioRegion).default([]).meta(doc('x86 port I/O ranges: { base, length }.')),
    pciDevices: z.array(pciDevice).default([]).meta(doc('PCI devices, ivshmem links included: { type, bdf, ... }.')),
    pciCaps: z.array(pciCap).default([]).meta(doc('PCI capabilities of the devices: { id, start, len, flags }.')),
    /** Raw 32-bit values, or MMU-500 (SMMUv2) `{ id, maskOut }` pairs stored as id | maskOut << 16. */
    streamIds: z.array(z.union([uint(4), mmu500StreamId])).default([]).meta(doc('IOMMU stream ids: numbers, or MMU-500 { id, maskOut }.')),
    vpciIrqBase: uint(4).default(0).meta(doc('First interrupt of the virtual PCI host controller.')),
    cpuResetAddress: u64.default(0n).meta(doc('Where the cell CPUs start (ARM).')),
    msgReplyTimeout: u64.default(0n).meta(doc('Comm region reply timeout; 0 waits forever.')),
    console: consoleSchema.default(CONSOLE_DEFAULT).meta(doc('The cell console: { address, size, type, flags, ... }.')),
    trailing: hexBytes.optional().meta(doc('Bytes after the described structures, as hex (kept for round trips).')),
  };

  const revisionSchema = z.union([z.literal(12), z.literal(13), z.literal(14)]).default(14);
  const archSchema = z.enum(['x86', 'arm', 'arm64']).default('x86');




  function cpusFitSet(c: { cpus: number[]; cpuSetSize?: number | undefined }, ctx: z.RefinementCtx): void {
    const size = c.cpuSetSize ?? defaultCpuSetSize(c.cpus);
    const tooHigh = c.cpus.find((cpu) => cpu >= size * 8);
    if (tooHigh !== undefined) ctx.addIssue({ code: 'custom', path: ['cpus'], message: `CPU ${tooHigh} does not fit a CPU set of ${size} bytes` });
  }

  const cellDescription = z
    .strictObject({ kind: z.literal('cell'), revision: revisionSchema, arch: archSchema, ...cellBodyFields })
    .superRefine(cpusFitSet)
    .transform(({ kind: _kind, revision, arch, ...body }) => toCell(body, revision, arch));


  /**
   * A cell configuration without `kind`, for a Cell unit that carries its configuration inline
   * (`config: { name: nuttx, cpus: 3, ... }`). Parses into a CellConfig whose `revision` and `arch`
   * are left out when not written: they belong to the hypervisor the cell runs on, so the unit's
   * user takes them from its system configuration (completeInlineCellConfig).
   */
  const inlineCellConfig = z
    .strictObject({
      revision: z
        .literal([12, 13, 14])
        .optional()
        .meta({ description: 'Configuration revision (12, 13 or 14); default: that of the hypervisor\'s system configuration.' }),
      arch: z.enum(['x86', 'arm', 'arm64']).optional().meta({ description: 'Architecture; default: that of the hypervisor\'s system configuration.' }),
      ...cellBodyFields,
    })
    .superRefine(cpusFitSet)
    .transform(({ revision, arch, ...body }): InlineCellConfig => {
      const { revision: _r, arch: _a, ...cell } = toCell(body, 14, 'x86');
      return { ...cell, ...(revision === undefined ? {} : { revision }), ...(arch === undefined ? {} : { arch }) };
    })
    .meta({
      title: 'Inline cell configuration',
      description:
        'The cell configuration written out in the unit, as `crtosctl cell-config show` prints it without `kind`; crtosd encodes it for `jailhouse cell create`.',
    });


  const iommuUnit = z
    .strictObject({
      type: enumName(IOMMU_TYPES, 0xffffffff),
      base: u64.default(0n),
      size: uint(4).default(0),
      amd: z.strictObject({ bdf: bdf.default(0), baseCap: uint(1).default(0), msiCap: uint(1).default(0), features: uint(4).default(0) }).optional(),
      tipvu: z.strictObject({ tlbBase: u64.default(0n), tlbSize: uint(4).default(0) }).optional(),
      unionBytes: hexBytes.refine((b) => b.length === 12, 'unionBytes must be 12 bytes').optional(),
    })
    .transform((u): IommuUnit => {
      const unit: IommuUnit = { type: u.type, base: u.base, size: u.size };
      if (u.amd) unit.amd = u.amd;
      if (u.tipvu) unit.tipvu = u.tipvu;
      if (u.unionBytes) unit.unionBytes = u.unionBytes;
      return unit;
    });

  const x86Platform = z.strictObject({
    pmTimerAddress: uint(2).default(0),
    apicMode: enumName(APIC_MODES, 0xff).default('AUTO'),
    vtdInterruptLimit: uint(4).default(0),
    tscKhz: uint(4).default(0),
    apicKhz: uint(4).default(0),
  });

  const armPlatform = z.strictObject({
    maintenanceIrq: uint(1).default(0),
    gicVersion: uint(1).default(0),
    gicdBase: u64.default(0n),
    giccBase: u64.default(0n),
    gichBase: u64.default(0n),
    gicvBase: u64.default(0n),
    gicrBase: u64.default(0n),
  });

  const platformInfo = z.strictObject({
    pciMmconfigBase: u64.default(0n),
    pciMmconfigEndBus: uint(1).default(0),
    pciIsVirtual: uint(1).default(0),
    pciDomain: uint(2).default(0),
    iommuUnits: z.array(iommuUnit).max(8).default([]),
    x86: x86Platform.optional(),
    arm: armPlatform.optional(),
  });

  const systemDescription = z
    .strictObject({
      kind: z.literal('system'),
      revision: revisionSchema,
      arch: archSchema,
      flags: flagList(SYSTEM_FLAGS).default([]),
      hypervisorMemory: memoryRegion,
      debugConsole: consoleSchema.default(CONSOLE_DEFAULT),
      platformInfo: platformInfo.default({ pciMmconfigBase: 0n, pciMmconfigEndBus: 0, pciIsVirtual: 0, pciDomain: 0, iommuUnits: [] }),
      rootCell: z.strictObject(cellBodyFields).omit({ trailing: true }).superRefine(cpusFitSet),
      trailing: hexBytes.optional(),
    })
    .superRefine((s, ctx) => {
      if (s.arch === 'x86' && s.platformInfo.arm) ctx.addIssue({ code: 'custom', path: ['platformInfo', 'arm'], message: 'an x86 system takes platformInfo.x86, not platformInfo.arm' });
      if (s.arch !== 'x86' && s.platformInfo.x86) ctx.addIssue({ code: 'custom', path: ['platformInfo', 'x86'], message: `an ${s.arch} system takes platformInfo.arm, not platformInfo.x86` });
    })
    .transform((s): SystemConfig => {
      const info = s.platformInfo;
      const platform: SystemConfig['platformInfo'] = {
        pciMmconfigBase: info.pciMmconfigBase,
        pciMmconfigEndBus: info.pciMmconfigEndBus,
        pciIsVirtual: info.pciIsVirtual,
        pciDomain: info.pciDomain,
        iommuUnits: info.iommuUnits,
      };
      if (s.arch === 'x86') platform.x86 = info.x86 ?? { pmTimerAddress: 0, apicMode: 'AUTO', vtdInterruptLimit: 0, tscKhz: 0, apicKhz: 0 };
      else platform.arm = info.arm ?? { maintenanceIrq: 0, gicVersion: 0, gicdBase: 0n, giccBase: 0n, gichBase: 0n, gicvBase: 0n, gicrBase: 0n };
      const sys: SystemConfig = {
        kind: 'system',
        revision: s.revision,
        arch: s.arch,
        flags: s.flags,
        hypervisorMemory: s.hypervisorMemory,
        debugConsole: s.debugConsole,
        platformInfo: platform,
        rootCell: toCell(s.rootCell, s.revision, s.arch),
      };
      if (s.trailing && s.trailing.length > 0) sys.trailing = s.trailing;
      return sys;
    });

  /** A description document: `kind: system` or `kind: cell`. */
  const configDescription = z.union([systemDescription, cellDescription]);
  return { cellDescription, inlineCellConfig, systemDescription, configDescription };
}

let built: ReturnType<typeof buildSchemas> | undefined;
const schemas = (): ReturnType<typeof buildSchemas> => (built ??= buildSchemas());

/** A `kind: cell` description (the schemas below are built when first used). */
export const cellDescriptionSchema = z.lazy(() => schemas().cellDescription);

/** What a Cell unit carries inline: the configuration, with revision and arch only when written. */
export type InlineCellConfig = Omit<CellConfig, 'revision' | 'arch'> & { revision?: Revision; arch?: Arch };

/**
 * A cell configuration without `kind`, for a Cell unit that carries its configuration inline
 * (`config: { name: nuttx, cpus: 3, ... }`). Parses into a CellConfig whose `revision` and `arch`
 * are left out when not written: they belong to the hypervisor the cell runs on, so the unit's
 * user takes them from its system configuration (completeInlineCellConfig).
 */
export const inlineCellConfigSchema = z.lazy(() => schemas().inlineCellConfig);

/** The configuration to encode: the inline description with the hypervisor's revision and arch where it gave none. */
export function completeInlineCellConfig(inline: InlineCellConfig, system: { revision: Revision; arch: Arch }): CellConfig {
  return { ...inline, kind: 'cell', revision: inline.revision ?? system.revision, arch: inline.arch ?? system.arch };
}

/**
 * Where an inline description contradicts the system configuration it is to run under (a field
 * written, and other than the system's): Jailhouse refuses a cell of another revision and ignores
 * one of another architecture. A `system` field left undefined is not known, so not compared.
 */
export function inlineSystemMismatches(
  inline: InlineCellConfig,
  system: { revision?: Revision | undefined; arch?: Arch | undefined },
): { field: 'revision' | 'arch'; written: Revision | Arch; wanted: Revision | Arch }[] {
  const pairs = [
    { field: 'revision', written: inline.revision, wanted: system.revision },
    { field: 'arch', written: inline.arch, wanted: system.arch },
  ] as const;
  return pairs.flatMap((p) => (p.written === undefined || p.wanted === undefined || p.written === p.wanted ? [] : [{ field: p.field, written: p.written, wanted: p.wanted }]));
}

/** A `kind: system` description. */
export const systemDescriptionSchema = z.lazy(() => schemas().systemDescription);

/** A description document: `kind: system` or `kind: cell`. */
export const configDescriptionSchema = z.lazy(() => schemas().configDescription);

/** Bitmap bytes a CPU list needs by default: 8 (upstream's __u64 cpus[1]) or whole u64 words. */
export function defaultCpuSetSize(cpus: readonly number[]): number {
  const highest = cpus.length === 0 ? 0 : Math.max(...cpus);
  return Math.max(8, Math.ceil((highest + 1) / 64) * 8);
}

type CellBody = Omit<CellConfig, 'kind' | 'revision' | 'arch' | 'cpuSetSize' | 'trailing'> & { cpuSetSize?: number | undefined; trailing?: Uint8Array | undefined };

function toCell(body: CellBody, revision: 12 | 13 | 14, arch: CellConfig['arch']): CellConfig {
  const { trailing, cpuSetSize, ...rest } = body;
  const cell: CellConfig = { kind: 'cell', revision, arch, ...rest, cpuSetSize: cpuSetSize ?? defaultCpuSetSize(body.cpus) };
  if (trailing && trailing.length > 0) cell.trailing = trailing;
  return cell;
}

export type ParseResult = { ok: true; config: ConfigFile } | { ok: false; problems: Problem[] };

function issuesToProblems(issues: readonly z.core.$ZodIssue[], file?: string): Problem[] {
  return issues.map((i) => {
    const path = i.path.map(String).join('.');
    const p = problem('CELLCFG_DESCRIPTION', path ? `${path}: ${i.message}` : i.message, { hint: 'see test/fixtures/*.yaml for complete examples' });
    if (file) p.file = file;
    return p;
  });
}

/** Validates a parsed YAML/JSON document and builds the configuration it describes. */
export function parseConfigDescription(doc: unknown): ParseResult {
  const kind = typeof doc === 'object' && doc !== null ? (doc as { kind?: unknown }).kind : undefined;
  // Pick the branch by `kind` so errors talk about the right schema, not about a union.
  const schema = kind === 'system' ? systemDescriptionSchema : kind === 'cell' ? cellDescriptionSchema : undefined;
  if (!schema) {
    return { ok: false, problems: [problem('CELLCFG_DESCRIPTION', `kind must be 'system' or 'cell', got ${JSON.stringify(kind)}`, { hint: "start the description with 'kind: cell' or 'kind: system'" })] };
  }
  const r = schema.safeParse(doc);
  return r.success ? { ok: true, config: r.data } : { ok: false, problems: issuesToProblems(r.error.issues) };
}

/** Integers that fit a double exactly become numbers again; only wider ones stay bigint. */
function smallIntsAsNumbers(v: unknown): unknown {
  if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  if (Array.isArray(v)) return v.map(smallIntsAsNumbers);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, smallIntsAsNumbers(x)]));
  return v;
}

/** Parses YAML text, so problems carry the file's line and column. */
export function parseConfigDescriptionText(text: string, file: string): ParseResult {
  const lineCounter = new LineCounter();
  // Integers as bigint, so 64-bit addresses written without quotes keep every bit.
  const doc = parseDocument(text, { lineCounter, intAsBigInt: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        return problem('CELLCFG_DESCRIPTION', e.message.split('\n')[0] ?? e.message, pos ? { file, line: pos.line, column: pos.col } : { file });
      }),
    };
  }
  const value = smallIntsAsNumbers(doc.toJS());
  const r = parseConfigDescription(value);
  if (r.ok) return r;
  // Re-run the schema to map issue paths onto YAML nodes.
  const kind = (value as { kind?: unknown } | null)?.kind;
  const schema = kind === 'system' ? systemDescriptionSchema : cellDescriptionSchema;
  const parsed = schema.safeParse(value);
  const issues = parsed.success ? [] : parsed.error.issues;
  if (issues.length === 0) return { ok: false, problems: r.problems.map((p) => ({ ...p, file })) };
  return {
    ok: false,
    problems: issuesToProblems(issues, file).map((p, k) => {
      const path = issues[k]!.path as (string | number)[];
      // Walk up until a node exists (a missing key points at its parent).
      for (let n = path.length; n >= 0; n--) {
        const node = doc.getIn(path.slice(0, n), true);
        if (isNode(node) && node.range) {
          const pos = lineCounter.linePos(node.range[0]);
          return { ...p, line: pos.line, column: pos.col };
        }
      }
      return p;
    }),
  };
}

// ---------------------------------------------------------------------------------------------
// describe: configuration -> readable, YAML/JSON-safe object (no bigints), defaults left out

type Plain = string | number | boolean | Plain[] | { [k: string]: Plain };

/** Copies `entries` leaving out those at their default (0, '0x0', '0', [], false, undefined). */
let keepDefaults = false;

/** `value`, unless it is the default and defaults are left out. */
function unlessDefault<T>(isDefault: boolean, value: T): T | undefined {
  return isDefault && !keepDefaults ? undefined : value;
}

function compact(entries: Record<string, Plain | undefined>, keep: readonly string[] = []): { [k: string]: Plain } {
  const out: { [k: string]: Plain } = {};
  for (const [k, v] of Object.entries(entries)) {
    if (v === undefined) continue;
    if (keepDefaults) {
      out[k] = v;
      continue;
    }
    const isDefault = v === 0 || v === '0x0' || v === '0' || v === false || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0);
    if (isDefault && !keep.includes(k)) continue;
    out[k] = v;
  }
  return out;
}

const hexList = (words: readonly number[]): string[] | undefined => {
  let n = words.length;
  while (!keepDefaults && n > 0 && words[n - 1] === 0) n--;
  return n === 0 ? undefined : words.slice(0, n).map(formatHex);
};

function describeMemory(m: MemoryRegion): { [k: string]: Plain } {
  return compact({
    physStart: formatHex(m.physStart),
    virtStart: unlessDefault(m.virtStart === m.physStart, formatHex(m.virtStart)),
    size: formatSize(m.size),
    flags: m.flags,
  }, ['virtStart']);
}

function describeConsole(c: Console): { [k: string]: Plain } {
  return compact({
    address: formatHex(c.address),
    size: formatSize(c.size),
    type: unlessDefault(c.type === 'NONE', c.type),
    flags: c.flags,
    divider: c.divider,
    gateNr: c.gateNr,
    clockReg: formatHex(c.clockReg),
  });
}

function describeProtocol(p: number): string | number {
  const name = SHMEM_PROTOCOLS.find(([, v]) => v === p)?.[0];
  return name === 'UNDEFINED' ? 0 : (name ?? formatHex(p));
}

function describePci(d: PciDevice): { [k: string]: Plain } {
  return compact(
    {
      type: d.type,
      iommu: d.iommu,
      domain: d.domain,
      bdf: formatBdf(d.bdf),
      barMask: hexList(d.barMask),
      capsStart: d.capsStart,
      numCaps: d.numCaps,
      numMsiVectors: d.numMsiVectors,
      msi64bits: d.msi64bits,
      msiMaskable: d.msiMaskable,
      msiReservedBits: d.msiReservedBits,
      numMsixVectors: d.numMsixVectors,
      msixRegionSize: formatSize(d.msixRegionSize),
      msixAddress: formatHex(d.msixAddress),
      shmemRegionsStart: d.shmemRegionsStart,
      shmemDevId: d.shmemDevId,
      shmemPeers: d.shmemPeers,
      shmemProtocol: describeProtocol(d.shmemProtocol),
    },
    ['bdf'],
  );
}

function describeCellBody(c: CellConfig): { [k: string]: Plain } {
  return compact(
    {
      name: c.name,
      id: c.id,
      flags: c.flags,
      cpuSetSize: unlessDefault(c.cpuSetSize === defaultCpuSetSize(c.cpus), c.cpuSetSize),
      cpus: unlessDefault(c.cpus.length === 0, formatCpuList(c.cpus)),
      memoryRegions: c.memoryRegions.map(describeMemory),
      cacheRegions: c.cacheRegions.map((r) => compact({ start: r.start, size: r.size, type: unlessDefault(r.type === 'L3', r.type), padding: r.padding, flags: r.flags }, ['type'])),
      irqchips: c.irqchips.map((i) => compact({ address: formatHex(i.address), id: formatHex(i.id), pinBase: i.pinBase, pinBitmap: hexList(i.pinBitmap) })),
      pioRegions: c.pioRegions.map((p) => ({ base: formatHex(p.base), length: formatHex(p.length) })),
      pciDevices: c.pciDevices.map(describePci),
      pciCaps: c.pciCaps.map((p) => compact({ id: formatHex(p.id), start: formatHex(p.start), len: p.len, flags: p.flags }, ['id'])),
      streamIds: c.streamIds.map(formatHex),
      vpciIrqBase: c.vpciIrqBase,
      cpuResetAddress: formatHex(c.cpuResetAddress),
      msgReplyTimeout: unlessDefault(c.msgReplyTimeout === 0n, c.msgReplyTimeout.toString()),
      console: describeConsole(c.console),
      trailing: c.trailing && c.trailing.length > 0 ? formatHexBytes(c.trailing) : undefined,
    },
    // Fields whose default is not "zero" (or that unlessDefault already left out when default).
    ['name', 'cpuSetSize', 'cpus', 'msgReplyTimeout'],
  );
}

function describeIommu(u: IommuUnit): { [k: string]: Plain } {
  return compact(
    {
      type: u.type,
      base: formatHex(u.base),
      size: formatSize(u.size),
      amd: u.amd ? compact({ bdf: formatBdf(u.amd.bdf), baseCap: formatHex(u.amd.baseCap), msiCap: formatHex(u.amd.msiCap), features: formatHex(u.amd.features) }) : undefined,
      tipvu: u.tipvu ? compact({ tlbBase: formatHex(u.tipvu.tlbBase), tlbSize: formatSize(u.tipvu.tlbSize) }) : undefined,
      unionBytes: u.unionBytes ? formatHexBytes(u.unionBytes) : undefined,
    },
    ['type', 'amd', 'tipvu'],
  );
}

function describeSystem(s: SystemConfig): { [k: string]: Plain } {
  const info = s.platformInfo;
  return compact(
    {
      kind: 'system',
      revision: s.revision,
      arch: s.arch,
      flags: s.flags,
      hypervisorMemory: describeMemory(s.hypervisorMemory),
      debugConsole: describeConsole(s.debugConsole),
      platformInfo: compact({
        pciMmconfigBase: formatHex(info.pciMmconfigBase),
        pciMmconfigEndBus: info.pciMmconfigEndBus,
        pciIsVirtual: info.pciIsVirtual,
        pciDomain: info.pciDomain,
        iommuUnits: info.iommuUnits.map(describeIommu),
        x86: info.x86
          ? compact({
              pmTimerAddress: formatHex(info.x86.pmTimerAddress),
              apicMode: unlessDefault(info.x86.apicMode === 'AUTO', info.x86.apicMode),
              vtdInterruptLimit: info.x86.vtdInterruptLimit,
              tscKhz: info.x86.tscKhz,
              apicKhz: info.x86.apicKhz,
            })
          : undefined,
        arm: info.arm
          ? compact({
              maintenanceIrq: info.arm.maintenanceIrq,
              gicVersion: info.arm.gicVersion,
              gicdBase: formatHex(info.arm.gicdBase),
              giccBase: formatHex(info.arm.giccBase),
              gichBase: formatHex(info.arm.gichBase),
              gicvBase: formatHex(info.arm.gicvBase),
              gicrBase: formatHex(info.arm.gicrBase),
            })
          : undefined,
      }),
      rootCell: describeCellBody(s.rootCell),
      trailing: s.trailing && s.trailing.length > 0 ? formatHexBytes(s.trailing) : undefined,
    },
    ['revision', 'arch', 'hypervisorMemory'],
  );
}

export interface DescribeOptions {
  /** Also list fields at their default (zero, empty), as `cell-config show --full` does. */
  full?: boolean;
}

/**
 * The readable form of a configuration: what `cell-config show` prints and what
 * parseConfigDescription reads back. 64-bit values are hex strings, sizes like '1G', so the
 * result is JSON- and YAML-safe.
 */
export function describeConfig(config: ConfigFile, opts: DescribeOptions = {}): object {
  keepDefaults = opts.full ?? false;
  try {
    if (config.kind === 'system') return describeSystem(config);
    return { kind: 'cell', revision: config.revision, arch: config.arch, ...describeCellBody(config) };
  } finally {
    keepDefaults = false;
  }
}

/** The description as YAML, lists of scalars (flags, bar masks) on one line. */
export function describeConfigYaml(config: ConfigFile, opts: DescribeOptions = {}): string {
  const doc = new Document(describeConfig(config, opts));
  visit(doc, {
    Seq(_key, node) {
      if (isSeq(node) && node.items.every((item) => isScalar(item))) node.flow = true;
    },
  });
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}
