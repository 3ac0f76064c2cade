/** Problem codes of machine facts and facts files; every code starts with FACTS_. Joined in ../codes.ts. */
import type { CodeInfo } from '../codes.js';

export const factsCodes = {
  FACTS_UNREADABLE: { summary: 'A facts file given to `validate --facts` (or a directory of them) cannot be read' },
  FACTS_NOT_YAML: { summary: 'A facts file is not well-formed YAML, or not one mapping of facts (`crtosctl facts` on the machine prints one)' },
  FACTS_INVALID: { summary: 'A facts file lacks a field, has one of the wrong type, or one it does not define; print it again with `crtosctl facts` on the machine' },
  FACTS_PATH_UNKNOWN: {
    summary: 'A `pathExists` condition cannot be decided for a machine known by its facts file alone (`validate --facts` without --root): it is taken as met and the unit checked; give --root, or the path under the facts file\'s `paths`',
  },
} satisfies Record<string, CodeInfo>;
