import { describe, expect, it } from 'vitest';
import { build, errorsOf } from './helpers.js';

/** The single error of a one-file set, rendered as `line:col CODE message | hint`. */
function oneError(text: string): string {
  const errors = errorsOf(build({ 'u.yaml': text }));
  expect(errors).toHaveLength(1);
  const p = errors[0]!;
  return `${p.line}:${p.column} ${p.code} ${p.message}${p.hint ? ` | ${p.hint}` : ''}`;
}

describe('zod issues in words', () => {
  it('a missing discriminator lists the choices', () => {
    expect(oneError('kind: Hypervisor\nname: h\nsystem: /x\n')).toBe("1:1 UNIT_MISSING_FIELD missing field 'type' | one of 'jailhouse', 'rtmux', 'remoteproc'");
  });

  it('a wrong discriminator suggests the near one', () => {
    expect(oneError('kind: Hypervisor\nname: h\ntype: jailhous\nsystem: /x\n')).toBe(
      "3:7 UNIT_INVALID_VALUE 'type' must be one of 'jailhouse', 'rtmux', 'remoteproc', not the string 'jailhous' | did you mean 'jailhouse'?",
    );
  });

  it('a field of another variant is not called a typo', () => {
    expect(oneError('kind: Hypervisor\nname: h\ntype: jailhouse\nsystem: /x\nimagePath: /y\n')).toBe(
      "5:1 UNIT_UNKNOWN_FIELD unknown field 'imagePath' | 'imagePath' belongs to another variant of this unit (check its 'type')",
    );
  });

  it('a rule across fields reads as written', () => {
    expect(oneError('kind: Driver\nname: d\nmodule: a\npath: /b.ko\n')).toBe(
      '3:9 UNIT_INVALID_VALUE give exactly one of `module` (modprobe by name) or `path` (insmod a .ko file)',
    );
    expect(oneError('kind: Driver\nname: d\n')).toMatch(/^1:1 UNIT_MISSING_FIELD give exactly one of/);
  });

  it('an empty command names the list and documents it', () => {
    expect(oneError('kind: Loader\nname: l\nexec: []\n')).toBe(
      "3:7 UNIT_MISSING_FIELD 'exec' needs at least 1 entry | The command: an absolute program path, then its arguments (no shell).",
    );
  });

  it('our own format messages attach to the field', () => {
    expect(oneError('kind: Loader\nname: l\nexec: [bin/x]\n')).toBe("3:8 UNIT_INVALID_VALUE 'exec[0]' must be an absolute path (starting with /)");
    expect(oneError('kind: Image\nname: i\npath: /x\nsha256: abc\n')).toBe("4:9 UNIT_INVALID_VALUE 'sha256' must be 64 hex digits (`sha256sum FILE`)");
  });

  it('friendly scalars explain the forms they take', () => {
    expect(oneError('kind: Loader\nname: l\nexec: [/x]\ncpus: 3-1\n')).toBe(`4:7 UNIT_INVALID_VALUE 'cpus': '3-1' is not a CPU list; write e.g. "1-3,5"`);
    expect(oneError('kind: Network\nname: n\ninterface: eth0\ntimeout: [1]\n')).toBe(
      "4:10 UNIT_INVALID_TYPE 'timeout' must be a number or a string, not a list | timeout: How long to wait for the interface to appear (default 10s).",
    );
  });

  it('a bad name inside a mapping points at the key', () => {
    expect(oneError('kind: Loader\nname: l\nexec: [/x]\nenvironment: { A-B: 1 }\n')).toBe(
      "4:16 UNIT_INVALID_VALUE 'environment' has an invalid name 'A-B': use letters, digits and '_', not starting with a digit",
    );
  });

  it('a nameless unit is reported without a unit id', () => {
    const [p] = errorsOf(build({ 'u.yaml': 'kind: Image\npath: /x\n' }));
    expect(p).toMatchObject({ code: 'UNIT_MISSING_FIELD', message: "missing field 'name'" });
    expect(p!.unit).toBeUndefined();
  });
});
