import { describe, expect, it } from 'vitest';
import { decodeConfig, describeConfig, encodeConfig, parseConfigDescription } from '../../src/jailhouse/index.js';
import { FIXTURE_NAMES, REVISIONS, asRevision, loadFixture } from './fixtures.js';

describe('fixtures round-trip in every revision', () => {
  for (const name of FIXTURE_NAMES) {
    for (const revision of REVISIONS) {
      it(`${name} as revision ${revision}: encode(decode(bytes)) is byte-identical`, () => {
        const config = asRevision(loadFixture(name), revision);
        const bytes = encodeConfig(config);
        const decoded = decodeConfig(bytes, { arch: config.arch });
        expect(decoded.ok).toBe(true);
        if (!decoded.ok) return;
        expect(decoded.config).toEqual(config);
        expect(Buffer.from(encodeConfig(decoded.config)).equals(Buffer.from(bytes))).toBe(true);
      });

      it(`${name} as revision ${revision}: describe -> build -> show gives back the description`, () => {
        const config = asRevision(loadFixture(name), revision);
        const description = describeConfig(config);
        const reparsed = parseConfigDescription(JSON.parse(JSON.stringify(description)));
        expect(reparsed.ok).toBe(true);
        if (!reparsed.ok) return;
        expect(reparsed.config).toEqual(config);
        const shown = decodeConfig(encodeConfig(reparsed.config), { arch: config.arch });
        expect(shown.ok && describeConfig(shown.config)).toEqual(description);
      });

      it(`${name} as revision ${revision}: the full description (defaults included) parses back too`, () => {
        const config = asRevision(loadFixture(name), revision);
        const reparsed = parseConfigDescription(JSON.parse(JSON.stringify(describeConfig(config, { full: true }))));
        expect(reparsed.ok && reparsed.config).toEqual(config);
      });
    }
  }
});
