/** What the completion tests share: the generated scripts, and a PATH whose crtosctl is the built one. */
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { completionModel } from '../../../src/cli/completion/model.js';
import { bashScript } from '../../../src/cli/completion/bash.js';
import { zshScript } from '../../../src/cli/completion/zsh.js';
import { fishScript } from '../../../src/cli/completion/fish.js';
import { VERBS } from '../../../src/cli/crtosctl.entry.js';

export const CRTOSCTL = join(import.meta.dirname, '../../../dist/crtosctl.mjs');

export interface CompletionFiles {
  dir: string;
  /** Put first on PATH: its crtosctl is dist/crtosctl.mjs, which the scripts run for unit ids. */
  bin: string;
  bash: string;
  /** For zsh's fpath: holds _crtosctl. */
  zshDir: string;
  fish: string;
}

export function completionFiles(): CompletionFiles {
  const dir = mkdtempSync(join(tmpdir(), 'crtos-completion-'));
  const model = completionModel(VERBS);
  const files = { dir, bin: join(dir, 'bin'), bash: join(dir, 'crtosctl.bash'), zshDir: join(dir, 'zsh'), fish: join(dir, 'crtosctl.fish') };
  mkdirSync(files.bin);
  mkdirSync(files.zshDir);
  symlinkSync(CRTOSCTL, join(files.bin, 'crtosctl'));
  writeFileSync(files.bash, bashScript(model));
  writeFileSync(join(files.zshDir, '_crtosctl'), zshScript(model));
  writeFileSync(files.fish, fishScript(model));
  return files;
}
