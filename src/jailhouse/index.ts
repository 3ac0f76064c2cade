/**
 * Jailhouse configurations for the rest of crtosd: decode and encode binary system and cell
 * configurations (revisions 12, 13 and 14), the readable YAML description of them, and the
 * consistency checks of `crtosctl cell-config check`. The only module others import.
 */
export type {
  Arch,
  ArchSource,
  Revision,
  DecodeOptions,
  ConfigFile,
  SystemConfig,
  CellConfig,
  MemoryRegion,
  Console,
  CacheRegion,
  Irqchip,
  PioRegion,
  PciDevice,
  PciDeviceType,
  PciCapability,
  IommuUnit,
  PlatformInfo,
  X86PlatformInfo,
  ArmPlatformInfo,
} from './types.js';
export { decodeConfig, type DecodeResult } from './decode.js';
export { encodeConfig, cellConfigSize } from './encode.js';
export { cellFieldAt } from './offsets.js';
export {
  configDescriptionSchema,
  cellDescriptionSchema,
  inlineCellConfigSchema,
  completeInlineCellConfig,
  inlineSystemMismatches,
  type InlineCellConfig,
  systemDescriptionSchema,
  parseConfigDescription,
  parseConfigDescriptionText,
  describeConfig,
  describeConfigYaml,
  type ParseResult,
  type ParseOptions,
  type DescribeOptions,
} from './description.js';
export { checkConfigs, checkCellConfigs, checkPciTypes, targetMismatches, type CheckInput } from './check.js';
export { formatCpuList, parseCpuList, formatBdf, parseBdf, formatSize, parseInteger } from './values.js';
