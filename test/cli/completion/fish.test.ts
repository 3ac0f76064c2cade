/** fish's completion: the generated script parses, and `complete -C` completes with it. */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { rmSync } from 'node:fs';
import { startHarness, type Harness } from '../helpers/harness.js';
import { run } from '../../dbus/helpers/run.js';
import { completionFiles, type CompletionFiles } from './shells.js';

let files: CompletionFiles;
let h: Harness;
beforeAll(async () => {
  files = completionFiles();
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
  rmSync(files.dir, { recursive: true, force: true });
});

/** The candidates fish offers for a command line (without their descriptions). */
async function complete(line: string): Promise<string[]> {
  const r = await run('fish', ['--no-config', '-c', `source $argv[1]; complete -C$argv[2]`, files.fish, line], {
    env: { ...process.env, PATH: `${files.bin}:${process.env.PATH}`, CRTOS_BUS_ADDRESS: h.bus.address },
  });
  expect(r.stderr).toBe('');
  return r.stdout.split('\n').filter(Boolean).map((l) => l.split('\t')[0]!);
}

describe('fish completion', () => {
  test('the script parses (fish -n)', async () => {
    expect(await run('fish', ['--no-config', '-n', files.fish])).toMatchObject({ code: 0, stderr: '' });
  });

  test('verbs from a prefix, a verb\'s options and their values, unit ids from the daemon', async () => {
    expect((await complete('crtosctl st')).sort()).toEqual(['start', 'status', 'stop']);
    expect(await complete('crtosctl kill --kill-whom ')).toEqual(['all', 'main']);
    expect(await complete('crtosctl list-units --type=ce')).toEqual(['--type=cell']);
    expect(await complete('crtosctl stop nuttx.')).toEqual(['nuttx.cell', 'nuttx.image']);
  });
});
