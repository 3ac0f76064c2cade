/** The unit model: kinds and their schemas, loading with positions, drop-ins, the dependency graph. */
export * from '../kinds/index.js';
export * from './scalars.js';
export type { Unit, UnitOf, UnitSet, UnitSource, UnitDependencies, SpecByKind } from './types.js';
export { loadUnits, DEFAULT_UNIT_DIRECTORIES, type LoadOptions, type LoadResult } from './load.js';
export { buildUnitSet, type UnitSourceFile, type BuildOptions, type BuildResult } from './build.js';
export { discoverUnitFiles, isUnitFileName, type DiscoveredFile } from './discover.js';
export { buildGraph, type Edge, type Cycle, type Graph } from './graph.js';
export { mergeValues } from './merge.js';
export { parseSource, SourcePositions, type SourceDocument, type ParsedSource } from './yaml-source.js';
export { didYouMean, closest, editDistance } from './did-you-mean.js';
