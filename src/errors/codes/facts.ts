/** Problem codes of machine facts and facts files; every code starts with FACTS_. Joined in ../codes.ts. */
import type { CodeInfo } from '../codes.js';

export const factsCodes = {
  FACTS_UNREADABLE: { summary: 'A facts file given to `validate --facts` (or a directory of them) cannot be read' },
  FACTS_NOT_YAML: { summary: 'A facts file is not well-formed YAML, or not one mapping of facts (`crtosctl facts` on the machine prints one)' },
  FACTS_INVALID: { summary: 'A facts file lacks a field, has one of the wrong type, or one it does not define; print it again with `crtosctl facts` on the machine' },
} satisfies Record<string, CodeInfo>;
