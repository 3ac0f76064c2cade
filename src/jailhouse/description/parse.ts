/**
 * Reading a description: a parsed document, or YAML text whose problems then carry line and
 * column. Each problem keeps the path of the field it is about, so the text reader finds the
 * field's YAML node without validating the document a second time.
 */
import type { z } from 'zod';
import { LineCounter, isNode, parseDocument, type Document } from 'yaml';
import { problem, type Problem } from '../../errors/problem.js';
import type { Arch, ConfigFile } from '../types.js';
import { ARCH_HINT_DESCRIPTION, DESCRIPTION_LOOKED_AT, archVerdict, describedClues } from '../arch-inference.js';
import { cellDescriptionSchema, systemDescriptionSchema } from './schemas.js';

export type ParseResult = { ok: true; config: ConfigFile } | { ok: false; problems: Problem[] };

export interface ParseOptions {
  /**
   * The architecture of a description that does not write `arch`: an architecture fills it in;
   * 'infer' tells it from what the description says (the platformInfo section it writes, IOMMU
   * units, consoles, irqchips, …) and refuses the description (CELLCFG_ARCH_UNKNOWN) when that
   * does not tell. Left out, the schema's default (x86) applies.
   */
  arch?: Arch | 'infer';
}

/** A problem and the path (keys and indices, as zod's issues carry it) of the field it is about. */
interface FieldProblem {
  path: readonly PropertyKey[];
  problem: Problem;
}

type Checked = { ok: true; config: ConfigFile } | { ok: false; problems: FieldProblem[] };

const HINT = '`crtosctl cell-config show --full FILE.cell` prints every field of a configuration as a description';

function fromIssue(issue: z.core.$ZodIssue): FieldProblem {
  const at = issue.path.map(String).join('.');
  return { path: issue.path, problem: problem('CELLCFG_DESCRIPTION', at ? `${at}: ${issue.message}` : issue.message, { hint: HINT }) };
}

function check(doc: unknown): Checked {
  const kind = typeof doc === 'object' && doc !== null ? (doc as { kind?: unknown }).kind : undefined;
  // Pick the branch by `kind` so errors talk about the right schema, not about a union.
  const schema = kind === 'system' ? systemDescriptionSchema : kind === 'cell' ? cellDescriptionSchema : undefined;
  if (!schema) {
    const p = problem('CELLCFG_DESCRIPTION', `kind must be 'system' or 'cell', got ${JSON.stringify(kind)}`, { hint: "start the description with 'kind: cell' or 'kind: system'" });
    return { ok: false, problems: [{ path: ['kind'], problem: p }] };
  }
  const r = schema.safeParse(doc);
  return r.success ? { ok: true, config: r.data } : { ok: false, problems: r.error.issues.map(fromIssue) };
}

/** Validates a parsed YAML/JSON document and builds the configuration it describes. */
export function parseConfigDescription(doc: unknown): ParseResult {
  const r = check(doc);
  return r.ok ? r : { ok: false, problems: r.problems.map((p) => p.problem) };
}

/** Integers that fit a double exactly become numbers again; only wider ones stay bigint. */
function smallIntsAsNumbers(v: unknown): unknown {
  if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  if (Array.isArray(v)) return v.map(smallIntsAsNumbers);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, smallIntsAsNumbers(x)]));
  return v;
}

/** Where in the text the field at `path` is written: its node, or that of the nearest parent written (a missing key). */
function positionOf(doc: Document, lineCounter: LineCounter, path: readonly PropertyKey[]): { line: number; column: number } | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) {
      const pos = lineCounter.linePos(node.range[0]);
      return { line: pos.line, column: pos.col };
    }
  }
  return undefined;
}

/** Parses YAML text, so problems carry the file's line and column. */
export function parseConfigDescriptionText(text: string, file: string, opts: ParseOptions = {}): ParseResult {
  const lineCounter = new LineCounter();
  // Integers as bigint, so 64-bit addresses written without quotes keep every bit.
  const doc = parseDocument(text, { lineCounter, intAsBigInt: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        return problem('CELLCFG_DESCRIPTION', e.message.split('\n')[0] ?? e.message, pos ? { file, line: pos.line, column: pos.col } : { file });
      }),
    };
  }
  const located = (problems: readonly FieldProblem[]): ParseResult => ({ ok: false, problems: problems.map(({ path, problem: p }) => ({ ...p, file, ...positionOf(doc, lineCounter, path) })) });
  const js = smallIntsAsNumbers(doc.toJS());
  const fields = typeof js === 'object' && js !== null && !Array.isArray(js) ? (js as Record<string, unknown>) : undefined;
  if (!fields || 'arch' in fields || opts.arch === undefined) {
    const r = check(js);
    return r.ok ? r : located(r.problems);
  }
  if (opts.arch !== 'infer') {
    const r = check({ ...fields, arch: opts.arch });
    return r.ok ? r : located(r.problems);
  }
  // Read it once as the architecture its platform info section implies (the schema takes only
  // that section for it), then look at what it says.
  const info = fields.platformInfo as Record<string, unknown> | undefined;
  const platform = info?.arm !== undefined ? 'arm' : info?.x86 !== undefined ? 'x86' : undefined;
  const first = check({ ...fields, arch: platform === 'arm' ? 'arm64' : 'x86' });
  if (!first.ok) return located(first.problems);
  const subject = `this ${first.config.kind} description does not write arch`;
  const verdict = archVerdict(describedClues(first.config, platform), subject, DESCRIPTION_LOOKED_AT, ARCH_HINT_DESCRIPTION);
  if (!verdict.ok) return located([{ path: ['kind'], problem: verdict.problem }]);
  const again = check({ ...fields, arch: verdict.arch });
  return again.ok ? again : located(again.problems);
}
