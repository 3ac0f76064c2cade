/** The engine's public surface: the Manager (implements ManagerApi) and the pure planner. */
export { Manager, type ManagerOptions, type LoadResult } from './manager.js';
export { plan, type Plan, type PlanJob, type PlanInput } from './plan.js';
export { classifyChange } from './change.js';
export { describeUnits } from './description.js';
export { fileStateStore, memoryStateStore, type StateStore } from './state-file.js';
export type * from './manager-api.js';
export type { AppliedRecord, UnitDescription, Observation, Hold } from './types.js';
