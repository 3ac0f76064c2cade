import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { busLabelEscape, busLabelUnescape, jobIdFromPath, jobObjectPath, unitIdFromPath, unitObjectPath } from '../../src/dbus/object-path.js';

describe('bus label escaping (systemd bus-label.c)', () => {
  it('matches systemd on its examples', () => {
    expect(busLabelEscape('avahi-daemon.service')).toBe('avahi_2ddaemon_2eservice');
    expect(unitObjectPath('nuttx.cell')).toBe('/org/crtos/unit/nuttx_2ecell');
    expect(busLabelEscape('a_b@c')).toBe('a_5fb_40c');
    expect(busLabelEscape('1x')).toBe('_31x');
    expect(busLabelEscape('x1')).toBe('x1');
    expect(busLabelEscape('')).toBe('_');
  });

  it('unescapes what it escapes, and takes invalid escapes literally', () => {
    fc.assert(fc.property(fc.string(), (s) => busLabelUnescape(busLabelEscape(s)) === s), { numRuns: 200 });
    expect(busLabelUnescape('a_zz')).toBe('a_zz');
    expect(busLabelUnescape('_')).toBe('');
  });

  it('turns paths back into unit and job ids', () => {
    expect(unitIdFromPath('/org/crtos/unit/crtos_2dlink_2enetwork')).toBe('crtos-link.network');
    expect(unitIdFromPath('/org/crtos/unit/')).toBeUndefined();
    expect(unitIdFromPath('/org/crtos/Manager1')).toBeUndefined();
    expect(jobIdFromPath(jobObjectPath(42))).toBe(42);
    expect(jobIdFromPath('/org/crtos/job/0')).toBeUndefined();
  });
});
