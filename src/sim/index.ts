/** The simulated machine's public surface, for tests, the demo and `crtos-sim`. */
export { createSimMachine, openSimMachine, destroySimMachine, readMachineLog, type SimMachine, type BringUpStage } from './machine.js';
export { DEFAULT_DESCRIPTION, type MachineDescription, type ModuleCatalogEntry, type ModuleEffect, type ModuleParameterDeclaration, type ModuleParameterCheck, type ReadinessEndpoint } from './description.js';
export { SIM_OPERATIONS, DEFAULT_TIMINGS, REAL_TIMINGS, type SimFault, type SimCellFailure, type SimFaultFile, type SimOperation, type SimTimings } from './faults.js';
export type { SimLogEntry } from './store.js';
export type { SimState, SimCell, SimModule, SimInterface, SimRtDomain, CellReply, SimIvshmemDevice, SimIvshmemEndpoint, SimShmemSection } from './state.js';
export { predictableIfname } from './state.js';
export { pciDeviceName } from './ivshmem.js';
export { nuttxImage, crtosSystemConfig, crtosBaseSystemConfig, nuttxCellConfig, INMATE_MEMORY } from './crtos-example.js';
export { RTMUX_DESCRIPTION, RTMUX_IMAGE_FILE, RTMUX_MODULE_FILE, RTVMM_IMAGE_PATH, rtthreadImage } from './rtmux-example.js';
