/** The simulated machine's public surface, for tests, the demo and `crtos-sim`. */
export { createSimMachine, openSimMachine, destroySimMachine, readMachineLog, type SimMachine, type BringUpStage, type CreateOptions } from './machine.js';
export { DEFAULT_DESCRIPTION, type MachineDescription, type ModuleCatalogEntry, type ModuleEffect, type ModuleParameterDeclaration, type ModuleParameterCheck, type ReadinessEndpoint } from './description.js';
export { SIM_OPERATIONS, DEFAULT_TIMINGS, REAL_TIMINGS, PROCESSOR_CRASH_TYPES, PROCESSOR_FAULT_KINDS, type SimFault, type SimCellFailure, type SimFaultFile, type SimOperation, type SimProcessorFault, type SimTimings } from './faults.js';
export type { SimLogEntry } from './store.js';
export type { SimState, SimCell, SimModule, SimInterface, SimRtDomain, CellReply, SimIvshmemDevice, SimIvshmemEndpoint, SimShmemSection } from './state.js';
export { predictableIfname } from './state.js';
export { pciDeviceName } from './ivshmem.js';
export { memoryTmpdir } from './scratch.js';
export { nuttxImage, crtosSystemConfig, crtosBaseSystemConfig, nuttxCellConfig, INMATE_MEMORY } from './crtos-example.js';
export { RTMUX_DESCRIPTION, RTMUX_IMAGE_FILE, RTMUX_MODULE_FILE, RTVMM_IMAGE_PATH, rtthreadImage } from './rtmux-example.js';
export { REMOTEPROC_DESCRIPTION, REMOTEPROC_FIRMWARE_FILE, REMOTEPROC_PROXY_FILE, REMOTEPROC_PROCESSOR } from './remoteproc/example.js';
export { firmwareImage, zephyrFirmware, type FirmwareSpec } from './remoteproc/firmware.js';
export type { RemoteprocDescription, ProcessorDescription } from './remoteproc/description.js';
export type { RemoteprocModel, Rproc, RprocState, CoreState, RpmsgChannel, Devcoredump } from './remoteproc/model.js';
export { kernelPaths as remoteprocPaths } from './remoteproc/files.js';
