/**
 * Loads our cell codec for the two stand-in commands that read a configuration (enable, create).
 * In dist/ it is a bundle of its own (crtos-sim-codec.mjs), so every other stand-in invocation
 * starts without parsing it: the stand-ins run many times per test and start-up time adds up.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as Codec from '../jailhouse/index.js';

export type CodecModule = Pick<typeof Codec, 'decodeConfig'>;

export async function loadCodec(): Promise<CodecModule> {
  const here = fileURLToPath(import.meta.url);
  const bundled = join(dirname(here), 'crtos-sim-codec.mjs');
  if (here.endsWith('.mjs') && existsSync(bundled)) return (await import(pathToFileURL(bundled).href)) as CodecModule;
  // From source (tests): a specifier in a variable, so a bundler leaves it alone.
  const source = '../jailhouse/index.js';
  return (await import(source)) as CodecModule;
}
