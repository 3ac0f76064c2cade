/** A Cell unit's inline configuration against the system configuration of its hypervisor. */
import type { Arch, CellConfig, Revision } from '../types.js';
import type { InlineCellConfig } from './schemas.js';

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
