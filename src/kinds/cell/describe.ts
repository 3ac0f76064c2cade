/**
 * A cell's description: the bytes of the images it loads, folded into `load`, and what its
 * hypervisor's backend reads of its configuration (PartitionPort.describe: Jailhouse folds the
 * .cell bytes, or the inline configuration encoded for its system configuration, into `config`,
 * with the cell's name and CPUs). The backend it runs on is a fact, so a stop or an observation
 * of a removed cell still knows it.
 */
import type { UnitOf } from '../../units/types.js';
import { unitId } from '../spec-common.js';
import { imageSpecOf } from '../image/spec.js';
import type { DescribeContext, KindDescription } from '../behaviour.js';
import { backendOf, findBackend, DEFAULT_BACKEND, type HypervisorCommon, type HypervisorUnit } from '../../backends/index.js';

// Where they were before they moved to the pure spec (a backend describing a cell reads them there).
export { INLINE_CONFIG_DIR, inlineConfigPath } from './spec.js';

export async function describeCell(cell: UnitOf<'Cell'>, ctx: DescribeContext): Promise<KindDescription> {
  const load = await Promise.all(
    cell.spec.load.map(async (entry) => {
      if (!('image' in entry)) return entry;
      const image = imageSpecOf(ctx.set.units.get(unitId(entry.image, 'Image')));
      if (!image) return entry;
      const file = await ctx.file(image.path);
      return { ...entry, imagePath: image.path, sha256: image.sha256, content: file.hash ?? 'unreadable' };
    }),
  );
  const hvId = unitId(cell.spec.hypervisor, 'Hypervisor');
  const hv = ctx.set.units.get(hvId) as HypervisorUnit | undefined;
  const own = hv ? findBackend((hv.spec as HypervisorCommon).type) : undefined;
  // A hypervisor that is missing or runs no cells: the default backend describes the cell (its
  // inline configuration is then refused as a unit file error).
  const backend = own?.partitions ? own : backendOf(DEFAULT_BACKEND);
  const d = await backend.partitions!.describe(cell, own?.partitions ? hv : undefined, hvId, ctx);
  // The file the backend creates it from: what crtosd wrote (generated, encoded), or the unit's own.
  const configPath = d.inlineConfig?.path ?? (typeof cell.spec.config === 'string' ? cell.spec.config : undefined);
  return { ...d, fields: { load, ...d.fields }, facts: { ...d.facts, hypervisorType: backend.definition.type, ...(configPath ? { configPath } : {}) } };
}
