/**
 * The backend registry: every hypervisor backend crtosd knows, by its `type:`. Two tables, as for
 * kinds: definitions (pure; read by the Hypervisor kind's schema, `validate` and crtosctl) and
 * backends (the engine's). src/backends/definitions.ts registers the built-in definitions,
 * src/backends/index.ts the built-in backends; a test registers its own with registerBackend.
 */
import type { Backend, BackendDefinition } from './port.js';

const definitions = new Map<string, BackendDefinition>();
const backends = new Map<string, Backend>();
/** Bumped on every registration, so what is built from the definitions (a schema) knows to rebuild. */
let generation = 0;

/**
 * Hypervisor units and cells recorded before backends were recorded (no `hypervisorType` in their
 * facts) ran on Jailhouse, the only backend with cells then.
 */
export const DEFAULT_BACKEND = 'jailhouse';

export function registerBackendDefinition(def: BackendDefinition): void {
  if (!/^[a-z][a-z0-9-]*$/.test(def.type)) throw new Error(`backend type ${JSON.stringify(def.type)} must be a lower-case word`);
  const known = definitions.get(def.type);
  if (known === def) return;
  if (known) throw new Error(`backend ${def.type} is already registered`);
  definitions.set(def.type, def);
  generation++;
}

/** Registers the backend and, when not yet there, its definition. */
export function registerBackend(backend: Backend): void {
  const type = backend.definition.type;
  if (backends.has(type)) throw new Error(`backend ${type} is already registered`);
  registerBackendDefinition(backend.definition);
  backends.set(type, backend);
}

/** The definitions, in registration order. */
export function backendDefinitions(): BackendDefinition[] {
  return [...definitions.values()];
}

export function findBackendDefinition(type: string): BackendDefinition | undefined {
  return definitions.get(type);
}

/** Changes whenever a definition is registered. */
export function backendGeneration(): number {
  return generation;
}

/** The backends, in registration order. */
export function allBackends(): Backend[] {
  return [...backends.values()];
}

export function findBackend(type: string): Backend | undefined {
  return backends.get(type);
}

/**
 * The backend of a type that must exist: a Hypervisor's `type:` was checked against the
 * definitions when its unit loaded; a record's type may name one no longer registered.
 */
export function backendOf(type: string | undefined): Backend {
  const b = backends.get(type ?? DEFAULT_BACKEND);
  if (!b) throw new Error(`unknown hypervisor backend ${JSON.stringify(type)}: not in the backend registry`);
  return b;
}

/** The backend of a target: its recorded hypervisorType (Hypervisor units and cells both carry it). */
export function backendOfFacts(facts: { hypervisorType?: string }): Backend {
  return backendOf(facts.hypervisorType);
}

/** The definitions of the backends that run cells, in registration order (the types a Cell's hypervisor may have). */
export function cellBackendDefinitions(): BackendDefinition[] {
  return [...definitions.values()].filter((d) => d.checkCells !== undefined);
}
