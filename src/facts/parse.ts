/**
 * Facts files → machine facts, or problems naming the file, line and field: a file that is not
 * YAML, not one mapping, lacks a field or has one of the wrong type. A directory given holds one
 * facts file per machine (*.yaml, *.yml, *.json), read in name order.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { hasErrors, problem, type Problem } from '../errors/problem.js';
import { parseSource, SourcePositions } from '../units/yaml-source.js';
import { issuesToProblems } from '../units/issues.js';
import { isErrnoName, strerror } from '../host/errno.js';
import { factsSchema, type MachineFacts } from './types.js';

const HINT = 'print it again with `crtosctl facts` on that machine (or `crtosctl facts --root DIR` for its files)';

export interface FactsFile {
  file: string;
  facts: MachineFacts;
}

export function parseFactsFile(file: string, text: string): { facts?: MachineFacts; problems: Problem[] } {
  const parsed = parseSource(file, text);
  if (hasErrors(parsed.problems)) {
    return { problems: parsed.problems.map((p) => ({ ...p, code: 'FACTS_NOT_YAML' as const, message: `not a facts file: ${p.message}`, hint: HINT })) };
  }
  const docs = parsed.documents.filter((d) => d.value !== null);
  const doc = docs[0];
  if (docs.length !== 1 || doc === undefined || typeof doc.value !== 'object' || Array.isArray(doc.value)) {
    const what = docs.length > 1 ? `${docs.length} documents` : doc === undefined ? 'nothing' : 'no mapping of facts';
    return { problems: [problem('FACTS_NOT_YAML', `not a facts file: it holds ${what}, where one mapping of facts belongs`, { file, line: doc?.line ?? 1, column: doc?.column ?? 1, hint: HINT })] };
  }
  const result = factsSchema.safeParse(doc.value);
  if (result.success) return { facts: result.data, problems: [] };
  const positions = new SourcePositions(file, text);
  return {
    problems: issuesToProblems(result.error.issues, factsSchema, doc.value).map((p) => {
      const at = positions.locate(doc.index, p.path, p.atKey);
      return problem('FACTS_INVALID', p.message, { file, ...at, hint: p.hint ?? HINT });
    }),
  };
}

/** A facts file or directory that cannot be read, with the system's words for why (`No such file or directory`). */
function unreadable(file: string, e: unknown): Problem {
  const code = (e as NodeJS.ErrnoException).code;
  const why = code !== undefined && isErrnoName(code) ? strerror(code) : (code ?? String(e));
  return problem('FACTS_UNREADABLE', `${file} cannot be read: ${why}`, { file, hint: 'name a facts file or a directory of them' });
}

/** Each argument a facts file or a directory of them; every problem of every file, together. */
export async function readFactsFiles(args: readonly string[], cwd: string): Promise<{ files: FactsFile[]; problems: Problem[] }> {
  const files: FactsFile[] = [];
  const problems: Problem[] = [];
  for (const arg of args) {
    const path = resolve(cwd, arg);
    let names: string[];
    try {
      names = (await stat(path)).isDirectory() ? (await readdir(path)).filter((n) => /\.(ya?ml|json)$/.test(n)).sort().map((n) => join(arg, n)) : [arg];
    } catch (e) {
      problems.push(unreadable(arg, e));
      continue;
    }
    if (names.length === 0) problems.push(problem('FACTS_UNREADABLE', `${arg} holds no facts file (*.yaml, *.yml, *.json)`, { file: arg, hint: HINT }));
    for (const file of names) {
      let text: string;
      try {
        text = await readFile(resolve(cwd, file), 'utf8');
      } catch (e) {
        problems.push(unreadable(file, e));
        continue;
      }
      const parsed = parseFactsFile(file, text);
      problems.push(...parsed.problems);
      if (parsed.facts) files.push({ file, facts: parsed.facts });
    }
  }
  return { files, problems };
}
