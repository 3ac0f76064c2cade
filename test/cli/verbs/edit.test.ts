/**
 * crtosctl edit with scripted editors, against the engine on the simulated cRTOS machine served on
 * a private bus (one machine for the file): a valid edit is installed and applied by a reload; an
 * invalid one is refused with its errors and the unit directory stays as it was, byte for byte;
 * "Edit again?" answered at a terminal edits again; without a terminal there is no second try; an
 * unchanged or emptied file installs nothing; offline with --units, --full copies the unit file.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { PassThrough } from 'node:stream';
import { makeFixture, type Fixture } from '../../engine/harness.js';
import { serveFixture, type Harness } from '../helpers/harness.js';
import type { Manager } from '../../../src/engine/manager.js';

let f: Fixture;
let h: Harness<Manager>;
let editors: string;

/** An editor script: `body` runs with the file as $1; every call appends a line to calls.log. */
function editor(name: string, body: string): string {
  const file = join(editors, name);
  writeFileSync(file, `#!/bin/sh\necho "$1" >> ${join(editors, `${name}.calls`)}\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}
const calls = (name: string): number => (existsSync(join(editors, `${name}.calls`)) ? readFileSync(join(editors, `${name}.calls`), 'utf8').split('\n').filter(Boolean).length : 0);

/** Every file under a directory with its bytes. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out[relative(dir, p)] = readFileSync(p).toString('base64');
    }
  };
  walk(dir);
  return out;
}

/** A stdin for the "Edit again?" question: a terminal or not, holding `answer`. */
function stdin(answer: string, tty: boolean): () => PassThrough & { isTTY?: boolean } {
  const s = Object.assign(new PassThrough(), { isTTY: tty });
  s.end(answer);
  return () => s;
}

const BAD = `printf 'restart: sometimes\\n' > "$1"`;
const dropIn = (id: string) => join(f.unitsDir, `${id}.d`, 'override.yaml');

beforeAll(async () => {
  f = await makeFixture();
  editors = mkdtempSync(join(tmpdir(), 'crtos-editors-'));
  h = await serveFixture(f);
});
afterAll(async () => {
  await h?.stop();
  await f?.cleanup();
  rmSync(editors, { recursive: true, force: true });
});

describe('crtosctl edit', () => {
  test('a valid drop-in is installed in the daemon\'s unit directory and applied by a reload', async () => {
    const good = editor('good', `printf 'description: edited by the test\\n' > "$1"`);
    const r = await h.ctl(['edit', 'hello.loader'], { env: { EDITOR: good } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Installed ${dropIn('hello.loader')}.\n`);
    expect(readFileSync(dropIn('hello.loader'), 'utf8')).toBe('description: edited by the test\n');
    expect(h.manager.getUnit('hello.loader')).toMatchObject({ description: 'edited by the test', dropInPaths: [dropIn('hello.loader')] });
  });

  test('the editor starts from the drop-in as it is; a new one from a template with the unit commented out', async () => {
    const keep = editor('keep', `cp "$1" ${join(editors, 'seen.yaml')}`);
    expect((await h.ctl(['edit', 'hello.loader'], { env: { EDITOR: keep } })).stdout).toBe('Unchanged: nothing was installed.\n');
    expect(readFileSync(join(editors, 'seen.yaml'), 'utf8')).toBe('description: edited by the test\n');
    expect((await h.ctl(['edit', 'nuttx.image'], { env: { EDITOR: keep } })).code).toBe(0);
    const template = readFileSync(join(editors, 'seen.yaml'), 'utf8');
    expect(template).toMatch(/^# A drop-in for nuttx\.image: /);
    expect(template).toContain(`# The unit as it is now (${join(f.unitsDir, 'nuttx.yaml')}):\n`);
    expect(template).toContain('# kind: Image\n');
    expect(existsSync(dropIn('nuttx.image'))).toBe(false);
  });

  test('an edit that would make the set invalid is refused with the errors, and nothing in the unit directory changes', async () => {
    const before = snapshot(f.unitsDir);
    const bad = editor('bad', BAD);
    const r = await h.ctl(['edit', 'hello.loader'], { env: { EDITOR: bad }, stdin: stdin('y\n', false) });
    expect(r.code).toBe(1);
    // Rendered as validate renders it: the real path, line and column, the line quoted.
    expect(r.stderr).toContain(`${dropIn('hello.loader')}:1:10: error[UNIT_INVALID_VALUE]: 'restart' must be one of 'no', 'on-failure', 'always'`);
    expect(r.stderr).toContain(' 1 | restart: sometimes\n');
    expect(r.stderr).toContain(`nothing was installed in ${f.unitsDir}`);
    // No terminal to answer "Edit again?": one try only.
    expect(r.stderr).not.toContain('Edit again?');
    expect(calls('bad')).toBe(1);
    expect(snapshot(f.unitsDir)).toEqual(before);
  });

  test('at a terminal, "Edit again? [Y/n]" answered yes edits again, and the second, valid edit is installed', async () => {
    const count = join(editors, 'tries');
    const retry = editor('retry', `if [ -e ${count} ]; then printf 'description: second try\\n' > "$1"; else touch ${count}; ${BAD}; fi`);
    const r = await h.ctl(['edit', 'hello.loader'], { env: { EDITOR: retry }, stdin: stdin('\n', true) });
    expect(r.stderr).toContain("'restart' must be one of");
    expect(r.stderr).toContain('Edit again? [Y/n] ');
    expect(r.code).toBe(0);
    expect(calls('retry')).toBe(2);
    expect(readFileSync(dropIn('hello.loader'), 'utf8')).toBe('description: second try\n');
    expect(h.manager.getUnit('hello.loader')?.description).toBe('second try');
  });

  test('answered no at the terminal, nothing is installed (exit 1)', async () => {
    const before = snapshot(f.unitsDir);
    const r = await h.ctl(['edit', 'nuttx.cell'], { env: { EDITOR: editor('bad2', BAD) }, stdin: stdin('n\n', true) });
    expect(r.code).toBe(1);
    expect(calls('bad2')).toBe(1);
    expect(snapshot(f.unitsDir)).toEqual(before);
  });

  test('an emptied file installs nothing; $VISUAL is used when $EDITOR is not set; an editor that fails installs nothing', async () => {
    const before = snapshot(f.unitsDir);
    const empty = editor('empty', `printf '# nothing here\\n\\n' > "$1"`);
    expect(await h.ctl(['edit', 'hello.loader'], { env: { EDITOR: '', VISUAL: empty } })).toMatchObject({ code: 0, stdout: 'Empty: nothing was installed.\n' });
    expect(calls('empty')).toBe(1);
    const failing = editor('failing', 'exit 3');
    expect(await h.ctl(['edit', 'hello.loader'], { env: { EDITOR: failing } })).toMatchObject({ code: 1, stderr: `Editor '${failing}' exited with status 3; nothing was installed.\n` });
    expect(snapshot(f.unitsDir)).toEqual(before);
  });

  test('an unknown unit exits 4; --runtime without a runtime unit directory is bad usage', async () => {
    expect((await h.ctl(['edit', 'nope.cell'], { env: { EDITOR: 'true' } })).code).toBe(4);
    const r = await h.ctl(['edit', '--runtime', 'hello.loader'], { env: { EDITOR: 'true' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('is a runtime one (under run/, like /run/crtos/units)');
  });

  test('offline with --units: --full --runtime copies the unit file into the runtime directory, where it hides the lower one', async () => {
    const dirs = mkdtempSync(join(tmpdir(), 'crtos-edit-offline-'));
    const [etc, run, lib] = ['etc/crtos/units', 'run/crtos/units', 'usr/lib/crtos/units'].map((d) => join(dirs, d));
    for (const d of [etc!, run!]) mkdirSync(d, { recursive: true });
    cpSync(f.unitsDir, lib!, { recursive: true, filter: (src) => !src.includes('.d') });
    const sed = editor('sed', `sed -i 's/^description: .*/description: edited in full/' "$1"`);
    const r = await h.ctl(['edit', '--full', '--runtime', '--bus', 'unix:path=/nonexistent/bus', '--units', etc!, '--units', run!, '--units', lib!, 'hello.loader'], { env: { EDITOR: sed } });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`Installed ${join(run!, 'hello.yaml')}.\ncrtosd is not reachable: it applies the edit when it next reads its unit files.\n`);
    expect(readFileSync(join(run!, 'hello.yaml'), 'utf8')).toBe(readFileSync(join(lib!, 'hello.yaml'), 'utf8').replace(/^description: .*$/m, 'description: edited in full'));
    expect(readdirSync(etc!)).toEqual([]);
    rmSync(dirs, { recursive: true, force: true });
  });
});
