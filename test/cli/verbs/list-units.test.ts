import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/harness.js';
import { filterUnits } from '../../../src/cli/verbs/list-units.js';
import { globToRegExp } from '../../../src/lib/glob.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.stop());

describe('crtosctl list-units', () => {
  it('prints a sorted table with header and legend', async () => {
    const r = await h.ctl(['list-units']);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^UNIT +LOAD +ACTIVE +SUB +DESCRIPTION$/);
    expect(lines[1]).toMatch(/^crtos-link\.network +loaded +inactive +dead +The crtos-link\.network unit$/);
    expect(lines.filter((l) => /^[a-z-]+\.[a-z]+ +loaded/.test(l))).toHaveLength(7);
    expect(r.stdout).toMatch(/\n7 units listed\.\n$/);
    expect(r.stdout).not.toContain('\x1b[');
  });

  it('filters by state, kind and pattern', async () => {
    const failed = await h.ctl(['list-units', '--state=failed', '--no-legend']);
    expect(failed.stdout).toMatch(/^hello\.loader +loaded +failed +failed +The hello\.loader unit\n$/);
    const drivers = await h.ctl(['list-units', '--kind', 'driver', '--no-legend']);
    expect(drivers.stdout.trim().split('\n').map((l) => l.split(' ')[0])).toEqual(['jailhouse.driver', 'shadow.driver']);
    const cells = await h.ctl(['list-units', 'nuttx.*', '--no-legend']);
    expect(cells.stdout.trim().split('\n').map((l) => l.split(' ')[0])).toEqual(['nuttx.cell', 'nuttx.image']);
  });

  it('takes --failed for --state=failed, and a filter option repeated as one list', async () => {
    const ids = async (args: string[]) => (await h.ctl(['list-units', '--no-legend', ...args])).stdout.trim().split('\n').map((l) => l.split(' ')[0]);
    expect(await ids(['--failed'])).toEqual(['hello.loader']);
    expect(await ids(['--state', 'failed', '--state=verified'])).toEqual(['hello.loader', 'nuttx.image']);
    expect(await ids(['-t', 'cell', '--type=image,loader'])).toEqual(['hello.loader', 'nuttx.cell', 'nuttx.image']);
  });

  it('adds a glyph column and colour on a terminal', async () => {
    const r = await h.ctl(['list-units', '--state=failed', '--no-legend'], { color: true });
    expect(r.stdout).toContain('\x1b[1;31m×\x1b[0m hello.loader');
  });

  it('prints JSON rows with --json', async () => {
    const r = await h.ctl(['list-units', '--json', '--state', 'active']);
    expect(JSON.parse(r.stdout)).toEqual([
      { unit: 'jailhouse.driver', kind: 'driver', load: 'loaded', active: 'active', sub: 'loaded', job: null, description: 'The jailhouse.driver unit' },
      { unit: 'jailhouse.hypervisor', kind: 'hypervisor', load: 'loaded', active: 'active', sub: 'enabled', job: null, description: 'The jailhouse.hypervisor unit' },
      { unit: 'nuttx.image', kind: 'image', load: 'loaded', active: 'active', sub: 'verified', job: null, description: 'The nuttx.image unit' },
    ]);
  });

  it('rejects an unknown option as usage error', async () => {
    const r = await h.ctl(['list-units', '--frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown option '--frobnicate'");
  });
});

describe('globToRegExp and filterUnits', () => {
  it('matches shell globs on whole ids only', () => {
    expect(globToRegExp('*.cell').test('nuttx.cell')).toBe(true);
    expect(globToRegExp('*.cell').test('nuttx.cellx')).toBe(false);
    expect(globToRegExp('n?ttx.[cd]ell').test('nuttx.dell')).toBe(true);
    expect(globToRegExp('a+b').test('aab')).toBe(false);
  });

  it('matches --state against load, active and sub state', () => {
    const row = { id: 'a.cell', description: '', loadState: 'loaded', activeState: 'active', subState: 'running', path: '/', jobId: 0, jobType: '', jobPath: '/' };
    expect(filterUnits([row], [], ['running'])).toHaveLength(1);
    expect(filterUnits([row], [], ['loaded'])).toHaveLength(1);
    expect(filterUnits([row], [], ['failed'])).toHaveLength(0);
    expect(filterUnits([row], [], undefined, ['loader'])).toHaveLength(0);
  });
});

describe('systemctl habits', () => {
  it('accepts --no-pager, -l and --all without changing the output', async () => {
    const plain = await h.ctl(['list-units', '--no-legend']);
    const habits = await h.ctl(['list-units', '--no-legend', '--no-pager', '-l', '--all']);
    expect(habits).toEqual(plain);
  });
});
