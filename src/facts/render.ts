/** Facts as `crtosctl facts` prints them: YAML (what a facts file holds) or JSON. */
import { stringify } from 'yaml';
import type { MachineFacts } from './types.js';

export function factsYaml(facts: MachineFacts): string {
  return `# Machine facts (crtosctl facts); crtosctl validate --facts reads this file.\n${stringify(facts, { lineWidth: 0 })}`;
}

export function factsJson(facts: MachineFacts): string {
  return `${JSON.stringify(facts, null, 2)}\n`;
}
