/**
 * Reading the kind schemas themselves: which fields a mapping at some path accepts (for "did you
 * mean" and "known fields" hints) and a field's documented description (for "missing field" hints).
 * Walks zod 4's public definition objects (`_zod.def`) through wrappers such as optional, default
 * and pipe; unions contribute the fields of every option.
 */
import type { z } from 'zod';
import type { ValuePath } from './yaml-source.js';

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  options?: z.ZodType[];
  innerType?: z.ZodType;
  in?: z.ZodType;
  element?: z.ZodType;
  items?: z.ZodType[];
  rest?: z.ZodType | null;
  valueType?: z.ZodType;
  getter?: () => z.ZodType;
}

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

const standIns = new WeakMap<z.ZodType, () => z.ZodType>();

/**
 * Marks `schema` as standing in for `real()` (a check that defers building `real` until a value
 * needs it): field hints and the JSON Schema describe `real`. Returns `schema`.
 */
export function standIn<S extends z.ZodType>(schema: S, real: () => z.ZodType): S {
  standIns.set(schema, real);
  return schema;
}

/** The schema `schema` stands in for, if it is a stand-in. */
export function realSchemaOf(schema: z.ZodType): z.ZodType | undefined {
  return standIns.get(schema)?.();
}

/** The schemas a value at `path` may be checked against (several under a union). */
export function schemasAt(root: z.ZodType, path: ValuePath): z.ZodType[] {
  let current = [root];
  for (const step of path) {
    const next: z.ZodType[] = [];
    for (const schema of current.flatMap(unwrap)) {
      const def = defOf(schema);
      if (def.type === 'object' && typeof step === 'string' && def.shape?.[step]) next.push(def.shape[step]);
      else if (def.type === 'array' && def.element) next.push(def.element);
      else if (def.type === 'tuple' && typeof step === 'number') {
        const item = def.items?.[step] ?? def.rest;
        if (item) next.push(item);
      } else if (def.type === 'record' && def.valueType) next.push(def.valueType);
    }
    current = next;
  }
  return current;
}

/** Wrappers removed, unions expanded: the concrete schemas a value meets. */
export function unwrap(schema: z.ZodType): z.ZodType[] {
  const real = realSchemaOf(schema);
  if (real) return unwrap(real);
  const def = defOf(schema);
  switch (def.type) {
    case 'lazy':
      return def.getter ? unwrap(def.getter()) : [schema];
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'catch':
      return def.innerType ? unwrap(def.innerType) : [schema];
    case 'pipe':
      return def.in ? unwrap(def.in) : [schema];
    case 'union':
      return (def.options ?? []).flatMap(unwrap);
    default:
      return [schema];
  }
}

/** Field names a mapping at `path` accepts. */
export function fieldsAt(root: z.ZodType, path: ValuePath): string[] {
  const fields = new Set<string>();
  for (const schema of schemasAt(root, path).flatMap(unwrap)) {
    const def = defOf(schema);
    if (def.type === 'object' && def.shape) for (const key of Object.keys(def.shape)) fields.add(key);
  }
  return [...fields];
}

/** The documented description of the field at `path`, if it has one. */
export function describeAt(root: z.ZodType, path: ValuePath): string | undefined {
  for (const schema of schemasAt(root, path)) {
    const description = (schema as { description?: string }).description;
    if (description) return description;
  }
  return undefined;
}
