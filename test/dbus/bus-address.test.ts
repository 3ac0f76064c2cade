import { describe, expect, it } from 'vitest';
import { resolveBusAddress } from '../../src/dbus/bus-address.js';
import { socketPathOf } from '../../src/dbus/wire/connection.js';

describe('resolveBusAddress', () => {
  it('takes --bus first, then CRTOS_BUS_ADDRESS, then the system bus', () => {
    expect(resolveBusAddress('unix:path=/x', { CRTOS_BUS_ADDRESS: 'unix:path=/y' })).toBe('unix:path=/x');
    expect(resolveBusAddress(undefined, { CRTOS_BUS_ADDRESS: 'unix:path=/y' })).toBe('unix:path=/y');
    expect(resolveBusAddress(undefined, {})).toBe('unix:path=/run/dbus/system_bus_socket');
    expect(resolveBusAddress('system', { DBUS_SYSTEM_BUS_ADDRESS: 'unix:path=/z' })).toBe('unix:path=/z');
    expect(resolveBusAddress('/run/x/bus', {})).toBe('unix:path=/run/x/bus');
  });
});

describe('socketPathOf', () => {
  it('reads unix path and abstract addresses and refuses others', () => {
    expect(socketPathOf('unix:path=/run/a%20b/bus,guid=1')).toBe('/run/a b/bus');
    expect(socketPathOf('tcp:host=x;unix:abstract=crtos')).toBe('\0crtos');
    expect(() => socketPathOf('tcp:host=127.0.0.1,port=1')).toThrow(/unsupported bus address/);
  });
});
