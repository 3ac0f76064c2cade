/**
 * Kernel module parameters as unit files write them (`name: value`, passed as name=value). Apart
 * from the Driver's spec, which may also take a value from a link, so a backend (RTMux's rtvmm.ko)
 * can take plain parameters without loading the kinds.
 */
import { z } from 'zod';

export const parameterName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/);
export const parameterValue = z.union([z.string(), z.number(), z.boolean()]).transform(String);

export const moduleParameters = z.record(parameterName, parameterValue).default({}).meta({ description: 'Module parameters, name: value (passed as name=value).' });
