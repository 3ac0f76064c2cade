import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { parseAllDocuments } from 'yaml';
import { generateSchemas } from '../../src/units/json-schema.js';
import { allExampleFiles, repoRoot } from './helpers.js';

// ajv 6 comes with eslint; it reads draft 7, which is what the schemas are written in.
const Ajv = createRequire(import.meta.url)('ajv') as new (opts: object) => { compile(schema: object): ((data: unknown) => boolean) & { errors?: unknown } };

describe('schemas/', () => {
  it('is what `npm run schemas` generates from the kind schemas (regenerate when this fails)', () => {
    for (const [name, text] of Object.entries(generateSchemas())) {
      expect(readFileSync(join(repoRoot, 'schemas', name), 'utf8'), `schemas/${name} is stale: run npm run schemas`).toBe(text);
    }
  });

  it('accepts every example unit, and catches a typo and a missing field', () => {
    const validate = new Ajv({ allErrors: true }).compile(JSON.parse(generateSchemas()['unit.schema.json']!));
    for (const [file, text] of Object.entries(allExampleFiles())) {
      for (const doc of parseAllDocuments(text) as unknown as { toJS(): unknown }[]) {
        expect(validate(doc.toJS()), `${file}: ${JSON.stringify(validate.errors)}`).toBe(true);
      }
    }
    expect(validate({ kind: 'Cell', name: 'x', hypervisor: 'j', config: '/c', onFailur: 'restart' })).toBe(false);
    expect(validate({ kind: 'Cell', name: 'x', hypervisor: 'j' })).toBe(false);
    expect(validate({ kind: 'Nope', name: 'x' })).toBe(false);
  });

  it('lets drop-ins give only the fields they change', () => {
    const validate = new Ajv({ allErrors: true }).compile(JSON.parse(generateSchemas()['dropin.schema.json']!));
    expect(validate({ ready: { tcp: '127.0.0.1:1' } })).toBe(true);
    expect(validate({ kind: 'Cell', onFailure: 'restart' })).toBe(true);
    expect(validate({ kind: 'Cell', onFailure: 'sometimes' })).toBe(false);
  });

  it('is named at the top of every example file', () => {
    for (const [file, text] of Object.entries(allExampleFiles())) {
      expect(text.split('\n')[0], file).toBe('# yaml-language-server: $schema=../../schemas/unit.schema.json');
    }
  });
});
