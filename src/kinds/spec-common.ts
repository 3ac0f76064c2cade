/**
 * What every unit kind shares: identity, description and systemd's dependency vocabulary, plus the
 * KindDefinition each kind module exports. A kind module is pure data and pure functions (schema,
 * references, files, change table, the transaction checks it declares); how a kind is observed,
 * started and stopped lives in its folder's behaviour.ts, so unit files can be validated without
 * loading anything that acts.
 */
import { z } from 'zod';
import { duration } from '../units/scalars.js';
import { conditionsField } from '../conditions/schema.js';
import { kindNames, kindOfSuffix } from './registry.js';
import type { Problem } from '../errors/problem.js';
import type { Unit } from '../units/types.js';
import type { CheckContext } from '../transaction/context.js';

/** A kind's name as units spell it (`kind: Cell`); the registry (src/kinds/registry.ts) knows which exist. */
export type KindName = string;

/** `nuttx.cell`: the unit's name and its kind in lower case. */
export function unitId(name: string, kind: KindName): string {
  return `${name}.${kind.toLowerCase()}`;
}

const UNIT_ID_RE = /^[A-Za-z0-9_][A-Za-z0-9_.@-]*\.([a-z][a-z0-9]*)$/;

/** Checked when a unit file is parsed, so kinds registered after this module loaded count. */
export const unitIdRef = z
  .string()
  .refine((id) => kindOfSuffix(UNIT_ID_RE.exec(id)?.[1] ?? '') !== undefined, {
    error: () => `must be a unit id NAME.KIND, KIND one of ${kindNames().map((k) => k.toLowerCase()).join(', ')}`,
  })
  .meta({ description: 'A unit id: NAME.KIND, e.g. "nuttx.cell".' });

/** The unit-id pattern with today's kinds spelled out, for the JSON Schema editors read. */
export function unitIdPattern(): string {
  return `^[A-Za-z0-9_][A-Za-z0-9_.@-]*\\.(${kindNames().map((k) => k.toLowerCase()).join('|')})$`;
}

export const unitName = z
  .string()
  .regex(/^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,63}$/, {
    message: 'must be 1-64 characters of letters, digits, "_", ".", "@" or "-", not starting with "." or "-"',
  })
  .meta({ description: 'The unit name; with the kind it forms the unit id NAME.KIND.' });

/** Fields every kind accepts. */
export const commonFields = {
  name: unitName,
  description: z.string().optional().meta({ description: 'One line shown by crtosctl status.' }),
  documentation: z.array(z.string()).optional().meta({ description: 'URIs of documentation for this unit.' }),
  requires: z.array(unitIdRef).default([]).meta({
    description: 'Units pulled in and started before this one; if one fails or stops, this unit fails or stops too.',
  }),
  wants: z.array(unitIdRef).default([]).meta({
    description: 'Units pulled in and started before this one; their failure does not affect this unit.',
  }),
  after: z.array(unitIdRef).default([]).meta({ description: 'Order only: start after these units (if they are started at all).' }),
  before: z.array(unitIdRef).default([]).meta({ description: 'Order only: start before these units.' }),
  conditions: conditionsField,
};

export const startLimit = z
  .strictObject({
    burst: z.number().int().positive().default(5).meta({ description: 'Starts allowed within the interval.' }),
    interval: duration.prefault(10).meta({ description: 'The window the burst is counted in (default 10s).' }),
  })
  .meta({ description: 'Start rate limit, as systemd StartLimitBurst/StartLimitIntervalSec.' });

export const startLimitDefault = { burst: 5, interval: 10_000 };

/**
 * A failed start is tried again with growing back-off, within the start limit, as systemd's
 * Restart=on-failure: a transient failure at boot (a module that fails once with EIO, an enable
 * refused while the machine settles) heals without an operator. Drivers, hypervisors, networks.
 */
export const retryFields = {
  restartSec: duration.prefault(1).meta({ description: 'Delay before a failed start is tried again (default 1s); doubles on each try up to restartMaxSec.' }),
  restartMaxSec: duration.prefault(30).meta({ description: 'Longest delay between tries (default 30s).' }),
  startLimit: startLimit.default(startLimitDefault),
};

/** Changing how failures are retried touches nothing that runs. */
export const RETRY_CHANGES = { restartSec: 'none', restartMaxSec: 'none', startLimit: 'none' } as const satisfies Record<keyof typeof retryFields, ChangeAction>;

/**
 * What a change of a field needs, mildest first:
 * - none: only the stored description changes (description, documentation);
 * - restart: stop and start the unit (a Loader's command line);
 * - reload: shut the cell down, load its images, start it again, without destroying it;
 * - recreate: destroy and create again (a cell's configuration);
 * - re-enable: disable and enable the hypervisor, which takes every cell down.
 */
export const CHANGE_ACTIONS = ['none', 'restart', 'reload', 'recreate', 're-enable'] as const;
export type ChangeAction = (typeof CHANGE_ACTIONS)[number];

export function severity(action: ChangeAction): number {
  return CHANGE_ACTIONS.indexOf(action);
}

/** Dependency fields: changing them re-orders, it never touches a running unit by itself. */
export const COMMON_CHANGES: Record<keyof typeof commonFields, ChangeAction> = {
  name: 'recreate',
  description: 'none',
  documentation: 'none',
  requires: 'none',
  wants: 'none',
  after: 'none',
  before: 'none',
  // Whether the unit runs at all is the conditions' whole effect: a change that stops or starts it is planned as such.
  conditions: 'none',
};

/** A reference from a field to another unit; implies requires + after (README.md, Unit format). */
export interface UnitReference {
  /** Dotted field path, for error positions: `driver`, `load.0.image`. */
  field: string;
  target: string;
  /**
   * false: the target must exist, but nothing is implied (a link names the cells it connects; it
   * does not stop when one of them restarts).
   */
  dependency?: false;
}

/** A machine file the unit names; checked to exist under --root by `validate --root`. */
export interface FileReference {
  field: string;
  path: string;
}

export interface KindDefinition<Schema extends z.ZodType = z.ZodType> {
  kind: KindName;
  /** One line, for documentation and `crtosctl` help. */
  summary: string;
  /** The whole unit document's schema, `kind` included. */
  schema: Schema;
  references(spec: z.output<Schema>): UnitReference[];
  files(spec: z.output<Schema>): FileReference[];
  /** What a change of each top-level field needs; unlisted fields default to 'restart'. */
  changes: Record<string, ChangeAction>;
  /**
   * At most one unit of this kind per machine (a machine runs one partitioning hypervisor): a
   * second one is refused with this hint.
   */
  onePerMachine?: { hint: string };
  /**
   * The unit runs nothing itself (an Image): a change of its description never touches it. The
   * units that use it fold its contents into their own fields (see foldsContentOf) and act for it.
   */
  inert?: boolean;
  /**
   * Fields whose digest carries the contents of the units they reference (a cell's `load` carries
   * its images' bytes): when such a field decides a change, the plan names the referenced units
   * that changed rather than the field.
   */
  foldsContentOf?: readonly string[];
  /** Device nodes the unit creates once it runs (a driver's `provides`): what other units may name before they exist. */
  provides?(spec: z.output<Schema>): string[];
  /**
   * Device nodes the unit is handed (a loader's environment): each must exist on the machine or be
   * provided by a unit of the set (see provides), checked by `validate --root` and before a set is applied.
   */
  deviceNodes?(spec: z.output<Schema>): FileReference[];
  /** Machine files whose contents the unit pins by sha256 (an image): checked before anything is loaded. */
  pins?(spec: z.output<Schema>): PinnedFile[];
  /**
   * What the units of this kind can be found wrong together, against the machine's files when
   * given (the cells of one Jailhouse: CPUs two cells claim, regions that overlap). Run by the
   * transaction check after the files and pins, for the units of this kind in the set.
   */
  checkSet?(ctx: CheckContext, units: readonly Unit[]): Promise<Problem[]>;
  /**
   * A change the unit's own file asks for that is not applied by itself while the unit runs (a
   * hypervisor's re-enable destroys every cell): returns how the operator applies it, or undefined
   * to apply it now. The plan shows it pending and `crtosctl status` names it.
   */
  holdChange?(spec: z.output<Schema>, action: ChangeAction, id: string): string | undefined;
}

/** A machine file and the sha256 a unit pins for it, with the fields that name each (for positions). */
export interface PinnedFile {
  field: string;
  path: string;
  pinField: string;
  sha256: string | undefined;
}

export function defineKind<Schema extends z.ZodType>(def: KindDefinition<Schema>): KindDefinition<Schema> {
  return def;
}
