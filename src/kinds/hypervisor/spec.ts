/**
 * Hypervisor: the partitioning layer. Its `type:` names the backend that runs it (src/backends/):
 * each registered backend contributes the variant of the schema with its own fields (Jailhouse:
 * the driver and the system configuration; RTMux: the module and the image it places), its
 * references, files and change table. Pure: the backends' definitions only, never their engine code.
 */
import { z } from 'zod';
import { commonFields, defineKind, COMMON_CHANGES, RETRY_CHANGES, retryFields } from '../spec-common.js';
import { backendDefinitions, backendGeneration, findBackendDefinition, type BackendDefinition, type HypervisorCommon } from '../../backends/definitions.js';

/** Whether a change that takes the hypervisor down and up (and every cell with it) applies by itself. */
const reEnableOnChange = z
  .boolean()
  .default(false)
  .meta({
    description:
      'Apply a change that needs the hypervisor disabled and enabled again (its system configuration, its links) without asking: it destroys every cell. Default false: the change waits, shown by `crtosctl plan` and `crtosctl status`, until `crtosctl restart` of this unit.',
  });

/** A backend's variant: the common fields, its `type:`, its own fields, the retry fields (the JSON Schema's order). */
function variant(def: BackendDefinition) {
  return z.strictObject({ kind: z.literal('Hypervisor'), ...commonFields, type: z.literal(def.type), ...def.fields, reEnableOnChange, ...retryFields });
}

let built: { generation: number; schema: z.ZodType } | undefined;

/** One variant per registered backend (its `type:`), rebuilt when a backend is registered. */
export function hypervisorSchema(): z.ZodType {
  if (built?.generation !== backendGeneration()) {
    const defs = backendDefinitions();
    const variants = defs.map(variant) as [ReturnType<typeof variant>, ...ReturnType<typeof variant>[]];
    const description = `The partitioning hypervisor: ${defs.map((d) => d.title).join(' or ')}.`;
    built = { generation: backendGeneration(), schema: z.discriminatedUnion('type', variants).meta({ title: 'Hypervisor', description }) };
  }
  return built.schema;
}

/** What every Hypervisor unit has; its backend's fields are read by the backend (HypervisorUnit<Its fields>). */
export type HypervisorSpec = HypervisorCommon;

/** The definition of the backend a parsed spec names (its `type:` was checked against the registry). */
const backendOfSpec = (h: unknown): BackendDefinition => findBackendDefinition((h as HypervisorCommon).type)!;

export const hypervisorDefinition = defineKind({
  kind: 'Hypervisor',
  summary: 'The partitioning hypervisor (Jailhouse, RTMux)',
  get schema() {
    return hypervisorSchema();
  },
  references: (h) => backendOfSpec(h).references(h as never),
  files: (h) => backendOfSpec(h).files(h as never),
  onePerMachine: { hint: 'a machine runs one hypervisor; keep one Hypervisor unit (load the other deployment on its own machine)' },
  // Changing the type, or any backend's own field but `timeout`, takes the hypervisor down and up.
  get changes() {
    return { ...COMMON_CHANGES, type: 're-enable' as const, ...Object.assign({}, ...backendDefinitions().map((d) => d.changes)), reEnableOnChange: 'none' as const, ...RETRY_CHANGES };
  },
  // A running hypervisor is never taken down for an edit unless the operator asks or its unit allows it.
  holdChange: (h, action, id) =>
    action === 're-enable' && !(h as { reEnableOnChange?: boolean }).reEnableOnChange
      ? `apply with \`crtosctl restart ${id}\` (every cell is destroyed and created again), or set reEnableOnChange: true`
      : undefined,
});
