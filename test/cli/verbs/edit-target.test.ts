/** Where crtosctl edit writes and what a new drop-in starts as. */
import { describe, expect, test } from 'vitest';
import { dropInTemplate, editTarget, isBlank, runtimeDirectory } from '../../../src/cli/verbs/edit-target.js';
import { editorCommands } from '../../../src/cli/verbs/edit.js';

const DIRS = ['/etc/crtos/units', '/run/crtos/units', '/usr/lib/crtos/units'];

describe('edit targets', () => {
  test('a drop-in ID.d/override.yaml in the first unit directory, or the runtime one', () => {
    expect(editTarget({ id: 'nuttx.cell', directories: DIRS, full: false, runtime: false, unitFile: '/usr/lib/crtos/units/nuttx.yaml' })).toEqual({
      directory: '/etc/crtos/units',
      path: '/etc/crtos/units/nuttx.cell.d/override.yaml',
    });
    expect(editTarget({ id: 'nuttx.cell', directories: DIRS, full: false, runtime: true, unitFile: '/usr/lib/crtos/units/nuttx.yaml' })).toEqual({
      directory: '/run/crtos/units',
      path: '/run/crtos/units/nuttx.cell.d/override.yaml',
    });
  });

  test('--full: the unit file\'s name in that directory (hiding the lower one)', () => {
    expect(editTarget({ id: 'nuttx.cell', directories: DIRS, full: true, runtime: false, unitFile: '/usr/lib/crtos/units/nuttx.yaml' })).toEqual({
      directory: '/etc/crtos/units',
      path: '/etc/crtos/units/nuttx.yaml',
    });
  });

  test('no runtime directory among them: an error that says what one is', () => {
    expect(runtimeDirectory(['/srv/units', '/opt/running/units'])).toBeUndefined();
    expect(runtimeDirectory(['/tmp/x/run/crtos/units'])).toBe('/tmp/x/run/crtos/units');
    expect(editTarget({ id: 'a.cell', directories: ['/srv/units'], full: false, runtime: true, unitFile: '/srv/units/a.yaml' })).toEqual({
      error: 'none of the unit directories (/srv/units) is a runtime one (under run/, like /run/crtos/units)',
    });
  });

  test('the template comments the unit out, so left as it is it is blank and installs nothing', () => {
    const t = dropInTemplate('a.cell', '/srv/units/a.yaml', 'kind: Cell\nname: a\n\ncpus: [1]\n');
    expect(t).toContain('# The unit as it is now (/srv/units/a.yaml):\n# kind: Cell\n# name: a\n#\n# cpus: [1]\n');
    expect(isBlank(t)).toBe(true);
    expect(isBlank(`${t}description: x\n`)).toBe(false);
  });

  test('the editor: $EDITOR, else $VISUAL, else editor then vi', () => {
    expect(editorCommands({ EDITOR: 'nano', VISUAL: 'code --wait' })).toEqual(['nano']);
    expect(editorCommands({ EDITOR: ' ', VISUAL: 'code --wait' })).toEqual(['code --wait']);
    expect(editorCommands({})).toEqual(['editor', 'vi']);
  });
});
