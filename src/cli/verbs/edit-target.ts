/**
 * Where `crtosctl edit` writes and what the editor starts with, as systemctl edit does: a drop-in
 * `ID.d/override.yaml` in the first unit directory (or the runtime one), or with --full a copy of
 * the unit's whole file there (hiding the file of the same name in the lower directories). Pure.
 */
import { basename, join } from 'node:path';

export interface EditTarget {
  /** The file the edit is installed as. */
  path: string;
  /** The directory it is in: one of the unit directories. */
  directory: string;
}

/**
 * The runtime unit directory is the one under a run/ directory (/run/crtos/units), as systemd's
 * /run/systemd/system; undefined when none of them is.
 */
export function runtimeDirectory(directories: readonly string[]): string | undefined {
  return directories.find((d) => /(^|\/)run\//.test(d));
}

export function editTarget(o: { id: string; directories: readonly string[]; full: boolean; runtime: boolean; unitFile: string }): EditTarget | { error: string } {
  const directory = o.runtime ? runtimeDirectory(o.directories) : o.directories[0];
  if (directory === undefined) {
    return { error: o.runtime ? `none of the unit directories (${o.directories.join(', ')}) is a runtime one (under run/, like /run/crtos/units)` : 'there is no unit directory' };
  }
  return { directory, path: o.full ? join(directory, basename(o.unitFile)) : join(directory, `${o.id}.d`, 'override.yaml') };
}

/** What a new drop-in starts as: how drop-ins merge, and the unit as it is now, all commented out. */
export function dropInTemplate(id: string, unitFile: string, unitText: string): string {
  return [
    `# A drop-in for ${id}: what you write here is merged over the unit`,
    '# (mappings key by key, lists and scalars replace, null removes a field).',
    '# Lines starting with # are ignored; an empty file installs nothing.',
    '',
    '',
    '',
    `# The unit as it is now (${unitFile}):`,
    ...unitText.trimEnd().split('\n').map((l) => (l ? `# ${l}` : '#')),
    '',
  ].join('\n');
}

/** Only comments and blank lines: installs nothing. */
export function isBlank(text: string): boolean {
  return text.split('\n').every((l) => /^\s*(#.*)?$/.test(l));
}
