/**
 * Cell: a partition of the hypervisor running a real-time OS. Created from a configuration file or
 * from the configuration written inline in the unit (encoded by crtosd), loaded with images (and
 * strings) at addresses, started, watched: what a cell that enters `failed`, fails its liveness
 * check or fails to start leads to is its health-monitor table (`health`, over what its older
 * `onFailure` says), within its start limit.
 */
import { z } from 'zod';
import { commonFields, defineKind, COMMON_CHANGES, startLimit, startLimitDefault, unitId } from '../spec-common.js';
import { address, duration, machinePath, tcpEndpoint } from '../../units/scalars.js';
import { inlineCellConfigSchema, type InlineCellConfig } from '../../jailhouse/description.js';
import { standIn } from '../../units/schema-walk.js';
import type { Unit, UnitOf } from '../../units/types.js';
// The registry alone, as the Link kind does: importing the definitions here would be a cycle.
import { backendDefinitions, backendGeneration } from '../../backends/registry.js';
import { healthSchema, livenessSchema } from '../../engine/health/schema.js';
import { resolveTable, type DeclaredHealth, type HealthAction, type HealthEvent, type HealthTable } from '../../engine/health/table.js';

const imageLoad = z.strictObject({
  image: z.string().meta({ description: 'Name of an Image unit; implies requires and after.' }),
  address: address.prefault(0).meta({ description: 'Load address in the cell (guest physical); default 0.' }),
});

const stringLoad = z.strictObject({
  string: z.string().meta({ description: 'A string loaded with its NUL terminator (e.g. an inmate command line).' }),
  address: address.prefault(0).meta({ description: 'Load address in the cell; inmates read their command line at 0x1000.' }),
});

export const readinessSchema = z
  .strictObject({
    tcp: tcpEndpoint.meta({ description: 'Ready once a TCP connection to host:port is accepted.' }),
    timeout: duration.prefault(10).meta({ description: 'Give up (the start fails with result timeout) after this long.' }),
    interval: duration.prefault(0.1).meta({ description: 'Time between probes (default 100ms).' }),
  })
  .meta({ description: 'How to tell the cell has booted.' });

/**
 * `config` written as a mapping: checked against inlineCellConfigSchema only when one is given, so
 * a unit set of .cell paths never builds that schema (~10 ms of start-up). Its issues keep their
 * paths (under `config`), so they point at their YAML nodes; hints and the JSON Schema see the
 * real schema (standIn).
 */
const inlineConfig = standIn(
  z.looseObject({}).transform((value, ctx): InlineCellConfig => {
    const parsed = inlineCellConfigSchema.safeParse(value);
    if (parsed.success) return parsed.data;
    for (const issue of parsed.error.issues) ctx.addIssue(issue as Parameters<typeof ctx.addIssue>[0] & object);
    return z.NEVER;
  }),
  () => inlineCellConfigSchema,
);

/** The events a cell raises, for its `health.on`. */
export const CELL_HEALTH_EVENTS: readonly HealthEvent[] = ['failed', 'liveness', 'startFailed', 'readyTimeout', 'recovered'];

const cellHealthSchema = healthSchema({ kind: 'Cell', events: CELL_HEALTH_EVENTS, cannot: {} });

/**
 * `config`: a path, the inline configurations the backends contribute (remoteproc's processor
 * mapping, strict, so it is tried first), then Jailhouse's loose one. A string is a path, a mapping
 * the configuration itself (the JSON Schema says oneOf).
 */
function configField(inline: readonly z.ZodType[]) {
  // Typed as Jailhouse's: the code that reads a backend's own mapping is that backend's (BackendCellConfig).
  return (z.union([machinePath, ...inline, inlineConfig]) as unknown as z.ZodUnion<[typeof machinePath, typeof inlineConfig]>).meta({
    description:
      'The cell configuration: for Jailhouse the path of a .cell file for `jailhouse cell create`, or the configuration written inline (revision and arch default to the hypervisor\'s; its name and CPUs are read from it); for remoteproc the processor `{ processor, recovery, coredump, bootloader }`.',
  });
}

const cellFields = (inline: readonly z.ZodType[]) => ({
    kind: z.literal('Cell'),
    ...commonFields,
    hypervisor: z.string().meta({ description: 'Name of the Hypervisor unit; implies requires and after.' }),
    config: configField(inline),
    load: z
      .array(z.union([imageLoad, stringLoad]))
      .default([])
      .meta({ description: 'What `jailhouse cell load` puts into the cell, in order (later entries overwrite earlier ones).' }),
    start: z.boolean().default(true).meta({ description: 'Start the cell after loading (false: leave it loaded and shut down).' }),
    onFailure: z
      .enum(['none', 'restart', 'stop'])
      .default('none')
      .meta({
        description:
          'When the cell enters `failed`: leave it (none), reload and start it (restart), or shut it down and stop dependents (stop). The older spelling of `health`: it decides the events `health.on` does not name.',
      }),
    liveness: livenessSchema.optional(),
    health: cellHealthSchema.optional(),
    restartSec: duration.prefault(1).meta({ description: 'Delay before the first restart; doubles on each one up to restartMaxSec.' }),
    restartMaxSec: duration.prefault(60).meta({ description: 'Longest delay between restarts.' }),
    startLimit: startLimit.default(startLimitDefault),
    ready: readinessSchema.optional(),
    timeout: duration.prefault(30).meta({ description: 'Timeout of each create, load, start, shutdown or destroy (default 30s).' }),
});

const CELL_META = { title: 'Cell', description: 'A hypervisor cell (or remote processor): created from its configuration, loaded with images, started and supervised.' };

/** The schema with Jailhouse's configurations only: what CellSpec's type is read from. */
export const cellSchema = z.strictObject(cellFields([])).meta(CELL_META);

let built: { generation: number; schema: typeof cellSchema } | undefined;

/** With the inline configurations of every registered backend, rebuilt when a backend is registered. */
export function cellSchemaOfBackends(): typeof cellSchema {
  if (built?.generation !== backendGeneration()) {
    const inline = backendDefinitions().flatMap((d) => (d.partitions ? [d.partitions.inlineConfig] : []));
    built = { generation: backendGeneration(), schema: z.strictObject(cellFields(inline)).meta(CELL_META) };
  }
  return built.schema;
}

/**
 * A Cell's spec. Its `config` is typed as Jailhouse's (a path or its inline configuration): a
 * backend whose own mapping it may be (remoteproc) reads it as that (its checkCells has refused
 * the others), and Jailhouse's check refuses a mapping of another backend's before it reads one.
 */
export type CellSpec = z.output<typeof cellSchema>;
export type CellLoadEntry = CellSpec['load'][number];

/** Where a cell's encoded inline configuration is written for its backend to create it from (a machine path). */
export const INLINE_CONFIG_DIR = '/run/crtos/cells';

export function inlineConfigPath(unitName: string): string {
  return `${INLINE_CONFIG_DIR}/${unitName}.cell`;
}

/** The Hypervisor unit id a unit runs on when it is a Cell (for tools that start from any unit id). */
export function hypervisorOfCell(unit: Unit): string | undefined {
  return unit.kind === 'Cell' ? unitId((unit as UnitOf<'Cell'>).spec.hypervisor, 'Hypervisor') : undefined;
}

/** The inline configuration of a Cell, undefined when `config` names a file. */
export function inlineConfigOf(spec: CellSpec): InlineCellConfig | undefined {
  return typeof spec.config === 'string' ? undefined : spec.config;
}

/**
 * The cell's health-monitor table: `health` over what `onFailure` says for the events it does not
 * name. onFailure restart reloads a failed cell in place, and tries a failed start again (a start
 * of a cell that is down; a reload of one left failed); stop shuts a failed cell down with its
 * dependents; none leaves it as it is (logged). A failed liveness check is taken as the cell failing.
 */
export function cellHealthTable(spec: CellSpec): HealthTable {
  const legacy = `onFailure: ${spec.onFailure}`;
  const [failed, start]: [HealthAction, HealthAction] = spec.onFailure === 'restart' ? ['reload', 'reload'] : spec.onFailure === 'stop' ? ['stop', 'log'] : ['log', 'log'];
  return resolveTable(spec.health as DeclaredHealth | undefined, {
    failed: { action: failed, legacy },
    liveness: { action: failed, legacy },
    startFailed: { action: start, legacy },
    readyTimeout: { action: start, legacy },
  });
}

export const cellDefinition = defineKind({
  kind: 'Cell',
  summary: 'A hypervisor cell running a real-time OS',
  get schema() {
    return cellSchemaOfBackends();
  },
  references: (c) => [
    { field: 'hypervisor', target: unitId(c.hypervisor, 'Hypervisor') },
    ...c.load.flatMap((entry, i) => ('image' in entry ? [{ field: `load.${i}.image`, target: unitId(entry.image, 'Image') }] : [])),
  ],
  files: (c) => [...(typeof c.config === 'string' ? [{ field: 'config', path: c.config }] : []), ...(c.liveness?.exec ? [{ field: 'liveness.exec.0', path: c.liveness.exec[0] }] : [])],
  changes: {
    ...COMMON_CHANGES,
    hypervisor: 'recreate',
    config: 'recreate',
    // Not a field of the unit: its description's digest of the links its configuration carries.
    links: 'recreate',
    load: 'reload',
    start: 'reload',
    onFailure: 'none',
    restartSec: 'none',
    restartMaxSec: 'none',
    startLimit: 'none',
    ready: 'none',
    timeout: 'none',
    liveness: 'none',
    health: 'none',
  },
  foldsContentOf: ['load'],
  // Loaded on demand: validating a set without cells never loads the .cell codec.
  checkSet: async (ctx, units) => (await import('./check.js')).checkCells(ctx, units),
});
