/**
 * Drop-ins, systemd style: partial documents merged over a unit in order. Mappings merge key by
 * key, recursively; lists and scalars replace what was there; `null` removes the field (so a
 * drop-in can take out a readiness check, say). Each merged value remembers which layer (the unit's
 * own document or a drop-in) it came from, so a problem points into the file that set the value.
 */
import type { SourceDocument, ValuePath } from './yaml-source.js';

export type Mapping = Record<string, unknown>;

export const isMapping = (value: unknown): value is Mapping => value !== null && typeof value === 'object' && !Array.isArray(value);

/** `over` merged onto `base`; neither is modified. */
export function mergeValues(base: unknown, over: unknown): unknown {
  if (!isMapping(base) || !isMapping(over)) return over;
  const out: Mapping = { ...base };
  for (const key of Object.keys(over)) {
    const value = over[key];
    if (value === null) delete out[key];
    else out[key] = key in out ? mergeValues(out[key], value) : value;
  }
  return out;
}

function has(value: unknown, step: string | number): boolean {
  if (Array.isArray(value)) return typeof step === 'number' && step < value.length;
  return isMapping(value) && Object.prototype.hasOwnProperty.call(value, step);
}

/**
 * The layer that supplied the value at `path`: the last layer that has each step, except that once
 * a layer supplied a list or a scalar, that layer owns everything below it (it replaced the rest).
 * A path no layer has (a missing field) belongs to the layer that has its longest prefix, the unit's
 * own document when nothing else.
 */
export function originOf(layers: readonly SourceDocument[], path: ValuePath): SourceDocument {
  let candidates: readonly SourceDocument[] = layers;
  let owner = layers[0]!;
  const values = layers.map((layer) => layer.value);
  for (const step of path) {
    let found = -1;
    for (let i = candidates.length - 1; i >= 0; i--) {
      const layerIndex = layers.indexOf(candidates[i]!);
      if (has(values[layerIndex], step)) {
        found = layerIndex;
        break;
      }
    }
    if (found < 0) return owner;
    for (let i = 0; i < values.length; i++) values[i] = has(values[i], step) ? (values[i] as Record<string | number, unknown>)[step] : undefined;
    owner = layers[found]!;
    if (!isMapping(values[found])) candidates = [owner];
  }
  return owner;
}
