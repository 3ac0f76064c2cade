/**
 * `npm run schemas`: writes schemas/*.json from the kind schemas. test/units/json-schema.test.ts
 * fails when the committed files differ from what this would write.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateSchemas } from './json-schema.js';

const dir = join(process.cwd(), 'schemas');
mkdirSync(dir, { recursive: true });
for (const [name, text] of Object.entries(generateSchemas())) {
  writeFileSync(join(dir, name), text);
  console.log(`wrote schemas/${name}`);
}
