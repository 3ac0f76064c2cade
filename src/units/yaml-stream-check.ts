/**
 * Limits checked on the yaml package's token tree (CST), before its documents are composed. The
 * tokenizer is iterative, but composing recurses once per nesting level: 20,000 `[` would overflow
 * the stack there (the yaml package then reports "Maximum call stack size exceeded" at a column
 * that depends on the stack). So nesting and the number of documents are measured here, without
 * recursion, and a file beyond them is never composed.
 */
import { CST } from 'yaml';
import type { ProblemCode } from '../errors/codes.js';
import { MAX_DEPTH, MAX_DOCUMENTS } from './limits.js';

/** A problem found in YAML, at a character offset of the file's text. */
export interface YamlFinding {
  code: ProblemCode;
  offset: number;
  message: string;
  hint: string;
}

export const tooDeep = (offset: number): YamlFinding => ({
  code: 'UNIT_YAML_LIMIT',
  offset,
  message: `values are nested more than ${MAX_DEPTH} levels deep here`,
  hint: `unit files nest a few levels; look for brackets that are never closed, or flatten the value (the limit is ${MAX_DEPTH})`,
});

/**
 * Reads the parser's tokens into `into` and returns the first limit they go beyond, in text order,
 * or undefined. Stops reading there: the rest of a file of 200,000 documents is never tokenized.
 */
export function checkTokens(tokens: Iterable<CST.Token>, into: CST.Token[]): YamlFinding | undefined {
  let documents = 0;
  for (const token of tokens) {
    into.push(token);
    if (token.type !== 'document') continue;
    documents++;
    if (documents > MAX_DOCUMENTS) {
      return {
        code: 'UNIT_YAML_LIMIT',
        offset: token.offset,
        message: `more than ${MAX_DOCUMENTS} documents in one file`,
        hint: 'split the units over several files',
      };
    }
    const found = deepestCrossing(token.value);
    if (found) return found;
  }
  return undefined;
}

/** Depth-first in text order with an explicit stack: the first collection below MAX_DEPTH others. */
function deepestCrossing(root: CST.Token | undefined): YamlFinding | undefined {
  const stack: [CST.Token, number][] = root ? [[root, 1]] : [];
  while (stack.length > 0) {
    const [token, depth] = stack.pop()!;
    if (!CST.isCollection(token)) continue;
    if (depth > MAX_DEPTH) return tooDeep(token.offset);
    for (let i = token.items.length - 1; i >= 0; i--) {
      const item = token.items[i]!;
      if (item.value) stack.push([item.value, depth + 1]);
      if (item.key) stack.push([item.key, depth + 1]);
    }
  }
  return undefined;
}
