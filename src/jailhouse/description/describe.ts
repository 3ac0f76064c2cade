/**
 * describe: configuration -> readable, YAML/JSON-safe object (no bigints), fields at their
 * default left out unless the caller asks for all of them (`full`). Every function takes the
 * choice as an argument.
 */
import { Document, isScalar, isSeq, visit } from 'yaml';
import { SHMEM_PROTOCOLS } from '../flags.js';
import type { CellConfig, ConfigFile, Console, IommuUnit, MemoryRegion, PciDevice, SystemConfig } from '../types.js';
import { formatBdf, formatCpuList, formatHex, formatHexBytes, formatSize } from '../values.js';
import { defaultCpuSetSize } from './cell-schemas.js';

type Plain = string | number | boolean | Plain[] | { [k: string]: Plain };
type Fields = { [k: string]: Plain };

export interface DescribeOptions {
  /** Also list fields at their default (zero, empty), as `cell-config show --full` does. */
  full?: boolean;
}

/** Whether fields at their default are written. */
type Full = boolean;

/** `value`, unless it is the default and defaults are left out. */
function unlessDefault<T>(full: Full, isDefault: boolean, value: T): T | undefined {
  return isDefault && !full ? undefined : value;
}

const isZero = (v: Plain): boolean =>
  v === 0 || v === '0x0' || v === '0' || v === false || (Array.isArray(v) ? v.length === 0 : typeof v === 'object' && Object.keys(v).length === 0);

/** Copies `entries` leaving out undefined ones and, unless `full`, those at zero (0, '0x0', '0', [], {}, false) not named in `keep`. */
function compact(full: Full, entries: Record<string, Plain | undefined>, keep: readonly string[] = []): Fields {
  const out: Fields = {};
  for (const [k, v] of Object.entries(entries)) {
    if (v === undefined || (!full && isZero(v) && !keep.includes(k))) continue;
    out[k] = v;
  }
  return out;
}

/** 32-bit words in hex, trailing zero words left out unless `full`. */
function hexList(full: Full, words: readonly number[]): string[] | undefined {
  let n = words.length;
  while (!full && n > 0 && words[n - 1] === 0) n--;
  return n === 0 ? undefined : words.slice(0, n).map(formatHex);
}

function describeMemory(full: Full, m: MemoryRegion): Fields {
  return compact(full, {
    physStart: formatHex(m.physStart),
    virtStart: unlessDefault(full, m.virtStart === m.physStart, formatHex(m.virtStart)),
    size: formatSize(m.size),
    flags: m.flags,
  }, ['virtStart']);
}

function describeConsole(full: Full, c: Console): Fields {
  return compact(full, {
    address: formatHex(c.address),
    size: formatSize(c.size),
    type: unlessDefault(full, c.type === 'NONE', c.type),
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

function describePci(full: Full, d: PciDevice): Fields {
  return compact(
    full,
    {
      type: d.type,
      iommu: d.iommu,
      domain: d.domain,
      bdf: formatBdf(d.bdf),
      barMask: hexList(full, d.barMask),
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

function describeCellBody(full: Full, c: CellConfig): Fields {
  return compact(
    full,
    {
      name: c.name,
      id: c.id,
      flags: c.flags,
      cpuSetSize: unlessDefault(full, c.cpuSetSize === defaultCpuSetSize(c.cpus), c.cpuSetSize),
      cpus: unlessDefault(full, c.cpus.length === 0, formatCpuList(c.cpus)),
      memoryRegions: c.memoryRegions.map((m) => describeMemory(full, m)),
      cacheRegions: c.cacheRegions.map((r) => compact(full, { start: r.start, size: r.size, type: unlessDefault(full, r.type === 'L3', r.type), padding: r.padding, flags: r.flags }, ['type'])),
      irqchips: c.irqchips.map((i) => compact(full, { address: formatHex(i.address), id: formatHex(i.id), pinBase: i.pinBase, pinBitmap: hexList(full, i.pinBitmap) })),
      pioRegions: c.pioRegions.map((p) => ({ base: formatHex(p.base), length: formatHex(p.length) })),
      pciDevices: c.pciDevices.map((d) => describePci(full, d)),
      pciCaps: c.pciCaps.map((p) => compact(full, { id: formatHex(p.id), start: formatHex(p.start), len: p.len, flags: p.flags }, ['id'])),
      streamIds: c.streamIds.map(formatHex),
      vpciIrqBase: c.vpciIrqBase,
      cpuResetAddress: formatHex(c.cpuResetAddress),
      msgReplyTimeout: unlessDefault(full, c.msgReplyTimeout === 0n, c.msgReplyTimeout.toString()),
      console: describeConsole(full, c.console),
      trailing: c.trailing && c.trailing.length > 0 ? formatHexBytes(c.trailing) : undefined,
    },
    // Fields whose default is not "zero" (or that unlessDefault already left out when default).
    ['name', 'cpuSetSize', 'cpus', 'msgReplyTimeout'],
  );
}

function describeIommu(full: Full, u: IommuUnit): Fields {
  return compact(
    full,
    {
      type: u.type,
      base: formatHex(u.base),
      size: formatSize(u.size),
      amd: u.amd ? compact(full, { bdf: formatBdf(u.amd.bdf), baseCap: formatHex(u.amd.baseCap), msiCap: formatHex(u.amd.msiCap), features: formatHex(u.amd.features) }) : undefined,
      tipvu: u.tipvu ? compact(full, { tlbBase: formatHex(u.tipvu.tlbBase), tlbSize: formatSize(u.tipvu.tlbSize) }) : undefined,
      unionBytes: u.unionBytes ? formatHexBytes(u.unionBytes) : undefined,
    },
    ['type', 'amd', 'tipvu'],
  );
}

function describePlatform(full: Full, info: SystemConfig['platformInfo']): Fields {
  const { x86, arm } = info;
  return compact(full, {
    pciMmconfigBase: formatHex(info.pciMmconfigBase),
    pciMmconfigEndBus: info.pciMmconfigEndBus,
    pciIsVirtual: info.pciIsVirtual,
    pciDomain: info.pciDomain,
    iommuUnits: info.iommuUnits.map((u) => describeIommu(full, u)),
    x86: x86
      ? compact(full, {
          pmTimerAddress: formatHex(x86.pmTimerAddress),
          apicMode: unlessDefault(full, x86.apicMode === 'AUTO', x86.apicMode),
          vtdInterruptLimit: x86.vtdInterruptLimit,
          tscKhz: x86.tscKhz,
          apicKhz: x86.apicKhz,
        })
      : undefined,
    arm: arm
      ? compact(full, {
          maintenanceIrq: arm.maintenanceIrq,
          gicVersion: arm.gicVersion,
          gicdBase: formatHex(arm.gicdBase),
          giccBase: formatHex(arm.giccBase),
          gichBase: formatHex(arm.gichBase),
          gicvBase: formatHex(arm.gicvBase),
          gicrBase: formatHex(arm.gicrBase),
        })
      : undefined,
  });
}

function describeSystem(full: Full, s: SystemConfig): Fields {
  return compact(
    full,
    {
      kind: 'system',
      revision: s.revision,
      arch: s.arch,
      flags: s.flags,
      hypervisorMemory: describeMemory(full, s.hypervisorMemory),
      debugConsole: describeConsole(full, s.debugConsole),
      platformInfo: describePlatform(full, s.platformInfo),
      rootCell: describeCellBody(full, s.rootCell),
      trailing: s.trailing && s.trailing.length > 0 ? formatHexBytes(s.trailing) : undefined,
    },
    ['revision', 'arch', 'hypervisorMemory'],
  );
}

/**
 * The readable form of a configuration: what `cell-config show` prints and what
 * parseConfigDescription reads back. 64-bit values are hex strings, sizes like '1G', so the
 * result is JSON- and YAML-safe.
 */
export function describeConfig(config: ConfigFile, opts: DescribeOptions = {}): object {
  const full = opts.full ?? false;
  if (config.kind === 'system') return describeSystem(full, config);
  return { kind: 'cell', revision: config.revision, arch: config.arch, ...describeCellBody(full, config) };
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
