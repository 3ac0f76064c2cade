/**
 * The JSON Schema of unit files, generated from the kind schemas (zod is the single source), for
 * editors: `# yaml-language-server: $schema=.../unit.schema.json` at the top of a unit file gives
 * completion, the field documentation on hover and errors as you type. The input side of every
 * schema is used (what a person writes, "10s", not the milliseconds the loader makes of it).
 * Drop-ins are partial units, so they get a schema without required fields.
 */
import { z } from 'zod';
import { definitionOf, kindNames, unitIdPattern, unitIdRef } from '../kinds/index.js';
import { realSchemaOf } from './schema-walk.js';

type JsonObject = Record<string, unknown>;

// Draft 7: what yaml-language-server and most editors support best.
const DRAFT = 'http://json-schema.org/draft-07/schema#';

type Def = { type: string; options?: z.ZodType[] };
const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

function toJson(schema: z.ZodType): JsonObject {
  const json = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
    target: 'draft-7',
    override: (ctx) => {
      const def = defOf(ctx.zodSchema as unknown as z.ZodType);
      // The cell-configuration integers also take a bigint (a 64-bit value parsed exactly), which
      // a unit file writes as a plain integer: say so rather than "anything".
      if (def.type === 'bigint') ctx.jsonSchema.type = 'integer';
      // A unit id is checked against the kind registry when parsed; editors get the same as a pattern.
      if ((ctx.zodSchema as unknown) === unitIdRef) ctx.jsonSchema.pattern = unitIdPattern();
      // A deferred check (a Cell's inline config) is documented by the schema it stands in for.
      const real = realSchemaOf(ctx.zodSchema as unknown as z.ZodType);
      if (real) {
        for (const key of Object.keys(ctx.jsonSchema)) delete ctx.jsonSchema[key];
        Object.assign(ctx.jsonSchema, toJson(real));
      }
      // A path or an inline mapping: exactly one applies.
      if (def.type === 'union' && def.options?.some((o) => realSchemaOf(o)) && ctx.jsonSchema.anyOf) {
        ctx.jsonSchema.oneOf = ctx.jsonSchema.anyOf;
        delete ctx.jsonSchema.anyOf;
      }
    },
  }) as JsonObject;
  delete json.$schema;
  return json;
}

function kindSchema(kind: string): JsonObject {
  return toJson(definitionOf(kind).schema);
}

/** Removes `required` from the unit's own mapping (and each option of a union) but not deeper. */
function withoutRequired(schema: JsonObject): JsonObject {
  const copy: JsonObject = { ...schema };
  delete copy.required;
  for (const key of ['oneOf', 'anyOf'] as const) {
    const options = copy[key];
    if (Array.isArray(options)) copy[key] = options.map((o) => withoutRequired(o as JsonObject));
  }
  return copy;
}

function document(title: string, description: string, defs: Record<string, JsonObject>, requireKind: boolean): JsonObject {
  return {
    $schema: DRAFT,
    title,
    description,
    type: 'object',
    ...(requireKind ? { required: ['kind'] } : {}),
    properties: { kind: { enum: kindNames(), description: 'The unit kind.' } },
    allOf: kindNames().map((kind) => ({
      if: { properties: { kind: { const: kind } }, required: ['kind'] },
      then: { $ref: `#/definitions/${kind}` },
    })),
    definitions: defs,
  };
}

/** File name under schemas/ → its text. */
export function generateSchemas(): Record<string, string> {
  const defs = Object.fromEntries(kindNames().map((kind) => [kind, kindSchema(kind)]));
  const partial = Object.fromEntries(kindNames().map((kind) => [kind, withoutRequired(defs[kind]!)]));
  const text = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;
  return {
    'unit.schema.json': text(
      document('crtosd unit', `A crtosd unit file document: one of ${kindNames().join(', ')}, chosen by \`kind\`.`, defs, true),
    ),
    'dropin.schema.json': text(
      document(
        'crtosd drop-in',
        'A drop-in (ID.d/*.yaml): the fields to change in one unit; mappings merge, lists and scalars replace, null removes.',
        partial,
        false,
      ),
    ),
  };
}
