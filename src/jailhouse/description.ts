/**
 * The YAML description of a cell or system configuration: the binary structures field for field
 * (camelCase of the C names), with readable values. The zod schemas parse straight into the
 * structures of types.ts; describeConfig is their inverse and leaves out fields at their default.
 * A Cell unit carries its configuration inline with `inlineCellConfigSchema`.
 *
 * description/: value-schemas.ts (single values), cell-schemas.ts and system-schemas.ts (the
 * structures), schemas.ts (the schemas others use, built on first use), parse.ts (documents and
 * YAML text to configurations or problems), describe.ts (the inverse), inline.ts (an inline cell
 * configuration against its system's).
 */
export {
  cellDescriptionSchema,
  configDescriptionSchema,
  inlineCellConfigSchema,
  systemDescriptionSchema,
  type InlineCellConfig,
} from './description/schemas.js';
export { defaultCpuSetSize } from './description/cell-schemas.js';
export { completeInlineCellConfig, inlineSystemMismatches } from './description/inline.js';
export { parseConfigDescription, parseConfigDescriptionText, type ParseResult, type ParseOptions } from './description/parse.js';
export { describeConfig, describeConfigYaml, type DescribeOptions } from './description/describe.js';
