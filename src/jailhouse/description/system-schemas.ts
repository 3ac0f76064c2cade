/** Schemas of a system configuration: platform info, IOMMU units, and the system description. */
import { z } from 'zod';
import { APIC_MODES, IOMMU_TYPES, SYSTEM_FLAGS } from '../flags.js';
import type { IommuUnit, SystemConfig } from '../types.js';
import { CONSOLE_DEFAULT, consoleSchema, cpusFitSet, memoryRegionSchema, toCell, type CellBodyFields } from './cell-schemas.js';
import { bdf, enumName, flagList, hexBytes, u64, uint } from './value-schemas.js';

export const revisionSchema = () => z.union([z.literal(12), z.literal(13), z.literal(14)]).default(14);
export const archSchema = () => z.enum(['x86', 'arm', 'arm64']).default('x86');

function iommuUnitSchema() {
  return z
    .strictObject({
      type: enumName(IOMMU_TYPES, 0xffffffff),
      base: u64().default(0n),
      size: uint(4).default(0),
      amd: z.strictObject({ bdf: bdf().default(0), baseCap: uint(1).default(0), msiCap: uint(1).default(0), features: uint(4).default(0) }).optional(),
      tipvu: z.strictObject({ tlbBase: u64().default(0n), tlbSize: uint(4).default(0) }).optional(),
      unionBytes: hexBytes().refine((b) => b.length === 12, 'unionBytes must be 12 bytes').optional(),
    })
    .transform((u): IommuUnit => {
      const unit: IommuUnit = { type: u.type, base: u.base, size: u.size };
      if (u.amd) unit.amd = u.amd;
      if (u.tipvu) unit.tipvu = u.tipvu;
      if (u.unionBytes) unit.unionBytes = u.unionBytes;
      return unit;
    });
}

function platformInfoSchema() {
  const x86 = z.strictObject({
    pmTimerAddress: uint(2).default(0),
    apicMode: enumName(APIC_MODES, 0xff).default('AUTO'),
    vtdInterruptLimit: uint(4).default(0),
    tscKhz: uint(4).default(0),
    apicKhz: uint(4).default(0),
  });
  const arm = z.strictObject({
    maintenanceIrq: uint(1).default(0),
    gicVersion: uint(1).default(0),
    gicdBase: u64().default(0n),
    giccBase: u64().default(0n),
    gichBase: u64().default(0n),
    gicvBase: u64().default(0n),
    gicrBase: u64().default(0n),
  });
  return z.strictObject({
    pciMmconfigBase: u64().default(0n),
    pciMmconfigEndBus: uint(1).default(0),
    pciIsVirtual: uint(1).default(0),
    pciDomain: uint(2).default(0),
    iommuUnits: z.array(iommuUnitSchema()).max(8).default([]),
    x86: x86.optional(),
    arm: arm.optional(),
  });
}

type ParsedPlatformInfo = z.output<ReturnType<typeof platformInfoSchema>>;

/** The platform info of an `arch` system: the part of the other architecture left out, its own filled in. */
function platformOf(info: ParsedPlatformInfo, arch: SystemConfig['arch']): SystemConfig['platformInfo'] {
  const { x86, arm, ...common } = info;
  return arch === 'x86'
    ? { ...common, x86: x86 ?? { pmTimerAddress: 0, apicMode: 'AUTO', vtdInterruptLimit: 0, tscKhz: 0, apicKhz: 0 } }
    : { ...common, arm: arm ?? { maintenanceIrq: 0, gicVersion: 0, gicdBase: 0n, giccBase: 0n, gichBase: 0n, gicvBase: 0n, gicrBase: 0n } };
}

/** A `kind: system` description, its root cell made of `cellBody`. */
export function systemDescriptionSchema(cellBody: CellBodyFields) {
  return z
    .strictObject({
      kind: z.literal('system'),
      revision: revisionSchema(),
      arch: archSchema(),
      flags: flagList(SYSTEM_FLAGS).default([]),
      hypervisorMemory: memoryRegionSchema(),
      debugConsole: consoleSchema().default(CONSOLE_DEFAULT),
      platformInfo: platformInfoSchema().default({ pciMmconfigBase: 0n, pciMmconfigEndBus: 0, pciIsVirtual: 0, pciDomain: 0, iommuUnits: [] }),
      rootCell: z.strictObject(cellBody).omit({ trailing: true }).superRefine(cpusFitSet),
      trailing: hexBytes().optional(),
    })
    .superRefine((s, ctx) => {
      if (s.arch === 'x86' && s.platformInfo.arm) ctx.addIssue({ code: 'custom', path: ['platformInfo', 'arm'], message: 'an x86 system takes platformInfo.x86, not platformInfo.arm' });
      if (s.arch !== 'x86' && s.platformInfo.x86) ctx.addIssue({ code: 'custom', path: ['platformInfo', 'x86'], message: `an ${s.arch} system takes platformInfo.arm, not platformInfo.x86` });
    })
    .transform((s): SystemConfig => {
      const sys: SystemConfig = {
        kind: 'system',
        revision: s.revision,
        arch: s.arch,
        flags: s.flags,
        hypervisorMemory: s.hypervisorMemory,
        debugConsole: s.debugConsole,
        platformInfo: platformOf(s.platformInfo, s.arch),
        rootCell: toCell(s.rootCell, s.revision, s.arch),
      };
      if (s.trailing && s.trailing.length > 0) sys.trailing = s.trailing;
      return sys;
    });
}
