import type { Problem } from '../errors/problem.js';
import type { CellConfig, SystemConfig } from './types.js';

export interface CheckInput {
  system: { file: string; config: SystemConfig };
  cells: { file: string; config: CellConfig }[];
  images?: { cell: string; file: string; size: number; address: bigint }[];
}

export function checkConfigs(_input: CheckInput): Problem[] {
  return [];
}
