/**
 * The D-Bus API as data: every interface with its methods, properties and signals. Introspection
 * XML, method dispatch (by exact signature) and property typing all read this one table, so what
 * `busctl introspect` shows is what the service does.
 */
import type { KindView } from '../kinds/view.js';
import type { TransitionTimes } from '../engine/manager-api.js';
import { viewOf } from '../kinds/views.js';
import { INTROSPECTABLE_IFACE, JOB_IFACE, MANAGER_IFACE, PEER_IFACE, PROPERTIES_IFACE, UNIT_IFACE } from './names.js';

export interface ArgDef {
  name: string;
  type: string;
}
export interface MethodDef {
  name: string;
  in: ArgDef[];
  out: ArgDef[];
  /** Changes state: root or the admin group only. */
  privileged?: boolean;
  /**
   * Reads the units' log lines (a loader's output among them): root, the admin group and the
   * groups that may read the system journal (adm, systemd-journal), as journald allows.
   */
  readsLogs?: boolean;
}
/**
 * `const` properties never change while the object exists (the unit is replaced on a reload);
 * `true` ones are announced with PropertiesChanged.
 */
export type EmitsChanged = 'true' | 'const';
export interface PropertyDef {
  name: string;
  type: string;
  emits: EmitsChanged;
}
export interface SignalDef {
  name: string;
  args: ArgDef[];
}
export interface InterfaceDef {
  name: string;
  methods: MethodDef[];
  properties: PropertyDef[];
  signals: SignalDef[];
}

const arg = (name: string, type: string): ArgDef => ({ name, type });
const prop = (name: string, type: string, emits: EmitsChanged = 'true'): PropertyDef => ({ name, type, emits });

/** A problem (src/errors/problem.ts) on the bus: a dict holding the fields it has. */
export const PROBLEM_TYPE = 'a{sv}';
/** (id, description, load, active, sub, following, unit path, job id, job type, job path), as systemd. */
export const UNIT_LIST_ENTRY_TYPE = '(ssssssouso)';
/** (job id, unit, job type, job state, job path, unit path), as systemd's ListJobs. */
export const JOB_LIST_ENTRY_TYPE = '(usssoo)';
/** (unit, action, reason): one step of a plan. */
export const PLAN_STEP_TYPE = '(sss)';
/** (type, file, destination): a file a mask or an unmask made or removed, as systemd's MaskUnitFiles. */
export const MASK_CHANGE_TYPE = '(sss)';
/** (time µs, level, unit, message): one log line. */
export const LOG_LINE_TYPE = '(tsss)';
/** (unit, job id, job type, operation, detail, start µs, end µs, result): one operation of a bring-up, CLOCK_MONOTONIC. */
export const TIMELINE_OPERATION_TYPE = '(sussstts)';

const jobMethod = (name: string): MethodDef => ({
  name,
  in: [arg('name', 's'), arg('mode', 's')],
  out: [arg('job', 'o')],
  privileged: true,
});
const reloadOut = [arg('applied', 'b'), arg('problems', `a${PROBLEM_TYPE}`), arg('steps', `a${PLAN_STEP_TYPE}`)];

export const MANAGER: InterfaceDef = {
  name: MANAGER_IFACE,
  methods: [
    { name: 'ListUnits', in: [], out: [arg('units', `a${UNIT_LIST_ENTRY_TYPE}`)] },
    { name: 'ListJobs', in: [], out: [arg('jobs', `a${JOB_LIST_ENTRY_TYPE}`)] },
    { name: 'GetUnit', in: [arg('name', 's')], out: [arg('unit', 'o')] },
    { name: 'GetUnitLog', in: [arg('name', 's'), arg('lines', 'u')], out: [arg('log', `a${LOG_LINE_TYPE}`)], readsLogs: true },
    // The named units' lines, or (none named) every unit's and the daemon-wide ones, by time: `crtosctl logs`.
    { name: 'GetLog', in: [arg('units', 'as'), arg('since', 't'), arg('lines', 'u')], out: [arg('log', `a${LOG_LINE_TYPE}`)], readsLogs: true },
    { name: 'GetTimeline', in: [], out: [arg('operations', `a${TIMELINE_OPERATION_TYPE}`)] },
    jobMethod('StartUnit'),
    jobMethod('StopUnit'),
    jobMethod('RestartUnit'),
    { name: 'Reload', in: [], out: reloadOut, privileged: true },
    // systemd's operator calls, with its signatures (src/engine/operator-api.ts).
    { name: 'ResetFailed', in: [], out: [], privileged: true },
    { name: 'ResetFailedUnit', in: [arg('name', 's')], out: [], privileged: true },
    { name: 'KillUnit', in: [arg('name', 's'), arg('whom', 's'), arg('signal', 'i')], out: [], privileged: true },
    { name: 'MaskUnitFiles', in: [arg('files', 'as'), arg('runtime', 'b'), arg('force', 'b')], out: [arg('changes', `a${MASK_CHANGE_TYPE}`)], privileged: true },
    { name: 'UnmaskUnitFiles', in: [arg('files', 'as'), arg('runtime', 'b')], out: [arg('changes', `a${MASK_CHANGE_TYPE}`)], privileged: true },
    { name: 'PlanReload', in: [], out: reloadOut },
    // What the metrics file holds (crtosd --metrics-file): Prometheus's text format.
    { name: 'Metrics', in: [], out: [arg('text', 's')] },
  ],
  properties: [
    prop('Version', 's', 'const'),
    prop('SystemState', 's'),
    prop('UnitDirectories', 'as'),
    prop('LastLoadErrors', `a${PROBLEM_TYPE}`),
    prop('LastReconcileTimestamp', 't'),
    prop('NUnits', 'u'),
    prop('NJobs', 'u'),
  ],
  signals: [
    { name: 'UnitNew', args: [arg('id', 's'), arg('unit', 'o')] },
    { name: 'UnitRemoved', args: [arg('id', 's'), arg('unit', 'o')] },
    { name: 'JobNew', args: [arg('id', 'u'), arg('job', 'o'), arg('unit', 's')] },
    { name: 'JobRemoved', args: [arg('id', 'u'), arg('job', 'o'), arg('unit', 's'), arg('result', 's')] },
  ],
};

/** systemd's transition timestamps (µs, CLOCK_REALTIME) by the field of UnitTimestamps each carries; each has its …Monotonic twin. */
export const TIMESTAMP_FIELDS = {
  StateChangeTimestamp: 'stateChange',
  InactiveExitTimestamp: 'inactiveExit',
  ActiveEnterTimestamp: 'activeEnter',
  ActiveExitTimestamp: 'activeExit',
  InactiveEnterTimestamp: 'inactiveEnter',
} as const satisfies Record<string, keyof TransitionTimes>;
const TIMESTAMP_PROPERTIES = Object.keys(TIMESTAMP_FIELDS);

const unitJobMethod = (name: string): MethodDef => ({ name, in: [arg('mode', 's')], out: [arg('job', 'o')], privileged: true });

export const UNIT: InterfaceDef = {
  name: UNIT_IFACE,
  methods: [unitJobMethod('Start'), unitJobMethod('Stop'), unitJobMethod('Restart')],
  properties: [
    prop('Id', 's', 'const'),
    prop('Kind', 's', 'const'),
    prop('Description', 's'),
    prop('LoadState', 's'),
    prop('ActiveState', 's'),
    prop('SubState', 's'),
    prop('Result', 's'),
    ...TIMESTAMP_PROPERTIES.flatMap((name) => [prop(name, 't'), prop(`${name}Monotonic`, 't')]),
    prop('SourcePath', 's'),
    prop('DropInPaths', 'as'),
    prop('Requires', 'as'),
    prop('Wants', 'as'),
    prop('After', 'as'),
    prop('Before', 'as'),
    prop('RequiredBy', 'as'),
    prop('WantedBy', 'as'),
    prop('LastError', PROBLEM_TYPE),
    prop('Job', '(uo)'),
    prop('PendingChange', 's'),
    // systemd's ConditionResult, with the reason beside it (systemd has none: `crtosctl status` shows it).
    prop('ConditionResult', 'b'),
    prop('ConditionText', 's'),
  ],
  signals: [],
};

const kindDefs = new WeakMap<KindView, InterfaceDef>();

/**
 * The interface every unit of `kind` carries beside org.crtos.Unit1, from the kind's view. Built
 * on demand: a kind may be registered after this module loaded (a test's kind, for one).
 */
export function kindInterface(kind: string): InterfaceDef {
  const view = viewOf(kind);
  let def = kindDefs.get(view);
  if (!def) {
    def = { name: view.iface, methods: [], properties: view.properties.map((p) => prop(p.name, p.type)), signals: [] };
    kindDefs.set(view, def);
  }
  return def;
}

export const JOB: InterfaceDef = {
  name: JOB_IFACE,
  methods: [],
  properties: [prop('Id', 'u', 'const'), prop('Unit', '(so)', 'const'), prop('JobType', 's', 'const'), prop('State', 's')],
  signals: [],
};

/** The standard interfaces every object has; listed so introspection is complete. */
export const STANDARD: InterfaceDef[] = [
  {
    name: PEER_IFACE,
    methods: [
      { name: 'Ping', in: [], out: [] },
      { name: 'GetMachineId', in: [], out: [arg('machine_uuid', 's')] },
    ],
    properties: [],
    signals: [],
  },
  {
    name: INTROSPECTABLE_IFACE,
    methods: [{ name: 'Introspect', in: [], out: [arg('xml_data', 's')] }],
    properties: [],
    signals: [],
  },
  {
    name: PROPERTIES_IFACE,
    methods: [
      { name: 'Get', in: [arg('interface_name', 's'), arg('property_name', 's')], out: [arg('value', 'v')] },
      { name: 'GetAll', in: [arg('interface_name', 's')], out: [arg('props', 'a{sv}')] },
      { name: 'Set', in: [arg('interface_name', 's'), arg('property_name', 's'), arg('value', 'v')], out: [] },
    ],
    properties: [],
    signals: [{ name: 'PropertiesChanged', args: [arg('interface_name', 's'), arg('changed_properties', 'a{sv}'), arg('invalidated_properties', 'as')] }],
  },
];

export function inSignature(m: MethodDef): string {
  return m.in.map((a) => a.type).join('');
}
export function outSignature(m: MethodDef): string {
  return m.out.map((a) => a.type).join('');
}
