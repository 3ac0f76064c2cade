/**
 * zod issues → unit problems with a value path, in words a person editing YAML understands: field
 * paths as written (`load[0].image`), "a list" rather than "array", the valid choices and a "did you
 * mean" for near misses, the field's own documentation for a missing field. Positions are filled
 * in by the caller, which knows which file each path came from.
 */
import type { z } from 'zod';
import type { ProblemCode } from '../errors/codes.js';
import { didYouMean } from './did-you-mean.js';
import { excerpt } from './excerpt.js';
import { describeAt, fieldsAt } from './schema-walk.js';
import type { ValuePath } from './yaml-source.js';

export interface PathProblem {
  code: ProblemCode;
  message: string;
  hint?: string;
  /** Where in the document: the value at this path, or with `atKey` the key of its last step. */
  path: ValuePath;
  atKey?: boolean;
}

type Issue = z.core.$ZodIssue;

/** `load[0].image` */
export function formatPath(path: ValuePath): string {
  let out = '';
  for (const step of path) out += typeof step === 'number' ? `[${step}]` : out === '' ? step : `.${step}`;
  return out;
}

export function valueAt(data: unknown, path: ValuePath): unknown {
  let current = data;
  for (const step of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[step];
  }
  return current;
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  tuple: 'a list',
  object: 'a mapping',
  record: 'a mapping',
  bigint: 'a number',
  literal: 'a fixed value',
};

export function describeValue(value: unknown): string {
  if (value === null) return 'nothing (null)';
  if (Array.isArray(value)) return 'a list';
  switch (typeof value) {
    case 'string':
      return `the string '${excerpt(value)}'`;
    case 'number':
      return `the number ${value}`;
    case 'boolean':
      return `${value}`;
    case 'object':
      return 'a mapping';
    default:
      return typeof value;
  }
}

const quoteList = (values: readonly unknown[]): string => values.map((v) => `'${String(v)}'`).join(', ');

/** A field's name for messages: `'timeout'`, or `the unit` for the document itself. */
const fieldName = (path: ValuePath): string => (path.length === 0 ? 'the unit' : `'${excerpt(formatPath(path))}'`);

/** zod's message starts lower-case with "must ..." for our own checks: attach it to the field. */
function withField(path: ValuePath, message: string): string {
  return /^must\b/.test(message) ? `${fieldName(path)} ${message}` : `${fieldName(path)}: ${message}`;
}

/**
 * How bad a union branch's issues are: fewer unknown keys first, then fewer issues. A branch that
 * refuses the value's type outright (a mapping given where it takes a path) is the one the user
 * did not mean, however many issues the branch of the right type has.
 */
function branchCost(issues: readonly Issue[]): number {
  if (issues.length === 1 && issues[0]!.code === 'invalid_type' && issues[0]!.path.length === 0) return Number.MAX_SAFE_INTEGER;
  const unknown = issues.filter((i) => i.code === 'unrecognized_keys').length;
  return unknown * 100 + issues.length;
}

export function issuesToProblems(issues: readonly Issue[], schema: z.ZodType, data: unknown, base: ValuePath = []): PathProblem[] {
  const out: PathProblem[] = [];
  for (const issue of issues) {
    for (const p of issueToProblems(issue, schema, data, base)) {
      // A value of the wrong type: the field's own documentation says what belongs there.
      if (p.hint === undefined && p.code === 'UNIT_INVALID_TYPE') {
        const description = describeAt(schema, p.path);
        if (description) p.hint = `${formatPath(p.path) || 'the unit'}: ${description}`;
      }
      out.push(p);
    }
  }
  return out;
}

function issueToProblems(issue: Issue, schema: z.ZodType, data: unknown, base: ValuePath): PathProblem[] {
  const path: ValuePath = [...base, ...(issue.path as (string | number)[])];
  const value = valueAt(data, path);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = fieldsAt(schema, path);
      return issue.keys.map((key) => ({
        code: 'UNIT_UNKNOWN_FIELD' as const,
        message: `unknown field '${excerpt(key)}'${path.length ? ` in ${fieldName(path)}` : ''}`,
        // `known` spans every variant of a union: a key of another variant is no typo.
        hint: known.includes(key)
          ? `'${excerpt(key)}' belongs to another variant of this unit (check its 'type')`
          : (didYouMean(key, known) ?? `known fields: ${known.join(', ')}`),
        path: [...path, key],
        atKey: true,
      }));
    }
    case 'invalid_type': {
      const last = path[path.length - 1];
      if (value === undefined && typeof last === 'number') {
        // A list too short for a tuple (`exec: []`): name the list, not a position in it.
        const list = path.slice(0, -1);
        const description = describeAt(schema, list);
        return [{ code: 'UNIT_MISSING_FIELD', message: `${fieldName(list)} needs at least ${last + 1} ${last === 0 ? 'entry' : 'entries'}`, hint: description, path: list }];
      }
      if (value === undefined) {
        const description = describeAt(schema, path);
        return [{
          code: 'UNIT_MISSING_FIELD',
          message: `missing field ${fieldName(path)}`,
          hint: description ? `add ${formatPath(path)}: ${description}` : `add ${formatPath(path)}`,
          path,
        }];
      }
      const expected = TYPE_WORDS[issue.expected] ?? issue.expected;
      return [{ code: 'UNIT_INVALID_TYPE', message: `${fieldName(path)} must be ${expected}, not ${describeValue(value)}`, path }];
    }
    case 'invalid_union': {
      const discriminator = (issue as { discriminator?: string }).discriminator;
      const options = (issue as { options?: unknown[] }).options;
      if (discriminator !== undefined || issue.errors.length === 0) {
        if (value === undefined) return [{ code: 'UNIT_MISSING_FIELD', message: `missing field ${fieldName(path)}`, hint: options ? `one of ${quoteList(options)}` : undefined, path }];
        const hint = typeof value === 'string' && options ? didYouMean(value, options.map(String)) : undefined;
        return [{ code: 'UNIT_INVALID_VALUE', message: `${fieldName(path)} must be one of ${quoteList(options ?? [])}, not ${describeValue(value)}`, hint, path }];
      }
      // A scalar no branch takes (a duration given as a list, say): name every accepted type.
      const allTypeMismatches = issue.errors.every((b) => b.length === 1 && b[0]!.code === 'invalid_type' && b[0]!.path.length === 0);
      if (allTypeMismatches && value !== undefined) {
        const expected = [...new Set(issue.errors.map((b) => TYPE_WORDS[(b[0] as { expected: string }).expected] ?? 'something else'))];
        return [{ code: 'UNIT_INVALID_TYPE', message: `${fieldName(path)} must be ${expected.join(' or ')}, not ${describeValue(value)}`, path }];
      }
      const best = [...issue.errors].sort((a, b) => branchCost(a) - branchCost(b))[0] ?? [];
      return issuesToProblems(best, schema, data, path);
    }
    case 'invalid_value': {
      const choices = issue.values;
      if (value === undefined) return [{ code: 'UNIT_MISSING_FIELD', message: `missing field ${fieldName(path)}`, hint: `one of ${quoteList(choices)}`, path }];
      const hint = typeof value === 'string' ? didYouMean(value, choices.map(String)) : undefined;
      const message = choices.length === 1 ? `${fieldName(path)} must be '${String(choices[0])}', not ${describeValue(value)}` : `${fieldName(path)} must be one of ${quoteList(choices)}, not ${describeValue(value)}`;
      return [{ code: 'UNIT_INVALID_VALUE', message, hint, path }];
    }
    case 'too_small':
    case 'too_big': {
      const bound = String(issue.code === 'too_small' ? issue.minimum : issue.maximum);
      const word = issue.code === 'too_small' ? 'at least' : 'at most';
      const inclusive = issue.inclusive !== false;
      const what =
        issue.origin === 'array' || issue.origin === 'set'
          ? `have ${word} ${bound} entries`
          : issue.origin === 'string'
            ? `be ${word} ${bound} characters long`
            : inclusive
              ? `be ${word} ${bound}`
              : `be ${issue.code === 'too_small' ? 'more' : 'less'} than ${bound}`;
      return [{ code: 'UNIT_INVALID_VALUE', message: `${fieldName(path)} must ${what}, not ${describeValue(value)}`, path }];
    }
    case 'invalid_key': {
      const key = path[path.length - 1];
      return [{ code: 'UNIT_INVALID_VALUE', message: `${fieldName(path.slice(0, -1))} has an invalid name '${excerpt(String(key))}': use letters, digits and '_', not starting with a digit`, path, atKey: true }];
    }
    case 'invalid_format':
    case 'custom':
    case 'not_multiple_of':
    case 'invalid_element':
    default: {
      // A refinement across fields ("give exactly one of module or path") reads best unprefixed.
      // The cell-configuration schema's value checks ("expected a CPU list ...") name no field.
      if (issue.code === 'custom' && !/^(must\b|'|expected\b|unknown flag\b)/.test(issue.message)) {
        return [{ code: value === undefined ? 'UNIT_MISSING_FIELD' : 'UNIT_INVALID_VALUE', message: issue.message, path }];
      }
      const message = issue.message.startsWith('Invalid') && value !== undefined ? `${fieldName(path)} is invalid: ${describeValue(value)}` : withField(path, issue.message);
      return [{ code: 'UNIT_INVALID_VALUE', message, path }];
    }
  }
}
