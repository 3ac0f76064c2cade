/** What the completion tests share: the generated scripts, and a PATH whose crtosctl is the built one. */
import { afterAll, beforeAll } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { completionModel } from '../../../src/cli/completion/model.js';
import { bashScript } from '../../../src/cli/completion/bash.js';
import { zshScript } from '../../../src/cli/completion/zsh.js';
import { fishScript } from '../../../src/cli/completion/fish.js';
import { VERBS } from '../../../src/cli/crtosctl.entry.js';
import { startHarness, type Harness } from '../helpers/harness.js';

export const CRTOSCTL = join(import.meta.dirname, '../../../dist/crtosctl.cjs');

export interface CompletionFiles {
  dir: string;
  /** Put first on PATH: its crtosctl is dist/crtosctl.cjs, which the scripts run for unit ids. */
  bin: string;
  bash: string;
  /** For zsh's fpath: holds _crtosctl. */
  zshDir: string;
  fish: string;
}

export function completionFiles(): CompletionFiles {
  const dir = mkdtempSync(join(tmpdir(), 'crtos-completion-'));
  const model = completionModel(VERBS, Object.keys(constants.signals));
  const files = { dir, bin: join(dir, 'bin'), bash: join(dir, 'crtosctl.bash'), zshDir: join(dir, 'zsh'), fish: join(dir, 'crtosctl.fish') };
  mkdirSync(files.bin);
  mkdirSync(files.zshDir);
  symlinkSync(CRTOSCTL, join(files.bin, 'crtosctl'));
  writeFileSync(files.bash, bashScript(model));
  writeFileSync(join(files.zshDir, '_crtosctl'), zshScript(model));
  writeFileSync(files.fish, fishScript(model));
  return files;
}

/**
 * For a test file: the scripts, and a crtosd (the D-Bus service over the in-memory manager) on a
 * private bus, made before its tests and removed after; `env` runs a shell with the built crtosctl
 * first on PATH, talking to that crtosd (or to `bus`).
 */
export function shellFixture(): { files: () => CompletionFiles; env: (bus?: string) => NodeJS.ProcessEnv } {
  let files: CompletionFiles | undefined;
  let h: Harness | undefined;
  beforeAll(async () => {
    files = completionFiles();
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.stop();
    if (files) rmSync(files.dir, { recursive: true, force: true });
  });
  return {
    files: () => files!,
    env: (bus = h!.bus.address) => ({ ...process.env, HOME: files!.dir, PATH: `${files!.bin}:${process.env.PATH}`, CRTOS_BUS_ADDRESS: bus }),
  };
}
