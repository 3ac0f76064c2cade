/** fish's completion: the generated script parses, and `complete -C` completes with it. */
import { describe, expect, test } from 'vitest';
import { run } from '../../dbus/helpers/run.js';
import { shellFixture } from './shells.js';

const shell = shellFixture();

/** The candidates fish offers for a command line (without their descriptions), with crtosd at `bus`. */
async function complete(line: string, bus?: string): Promise<string[]> {
  const r = await run('fish', ['--no-config', '-c', `source $argv[1]; complete -C$argv[2]`, shell.files().fish, line], { env: shell.env(bus) });
  expect(r.stderr).toBe('');
  return r.stdout.split('\n').filter(Boolean).map((l) => l.split('\t')[0]!);
}

describe('fish completion', () => {
  test('the script parses (fish -n)', async () => {
    expect(await run('fish', ['--no-config', '-n', shell.files().fish])).toMatchObject({ code: 0, stderr: '' });
  });

  test('verbs from a prefix, a verb\'s options and their values, unit ids from the daemon', async () => {
    expect((await complete('crtosctl st')).sort()).toEqual(['start', 'status', 'stop']);
    expect(await complete('crtosctl kill --kill-whom ')).toEqual(['all', 'main']);
    expect(await complete('crtosctl list-units --type=ce')).toEqual(['--type=cell']);
    expect(await complete('crtosctl stop nuttx.')).toEqual(['nuttx.cell', 'nuttx.image']);
  });

  test('unit ids from the crtosd at the --bus on the line, before or after the verb', async () => {
    const address = shell.env().CRTOS_BUS_ADDRESS!;
    const nowhere = 'unix:path=/nonexistent/bus';
    expect(await complete('crtosctl stop nuttx.', nowhere)).toEqual([]);
    expect(await complete(`crtosctl --bus ${address} stop nuttx.`, nowhere)).toEqual(['nuttx.cell', 'nuttx.image']);
    expect(await complete(`crtosctl stop --bus=${address} nuttx.`, nowhere)).toEqual(['nuttx.cell', 'nuttx.image']);
  });
});
