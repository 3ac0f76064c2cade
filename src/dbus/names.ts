/**
 * The names that make up crtosd's D-Bus API. Modelled on org.freedesktop.systemd1 so that people
 * who know `busctl` against systemd find their way: one Manager object, one object per unit under
 * a fixed prefix, one object per queued job.
 */
export const BUS_NAME = 'org.crtos.Manager1';
export const MANAGER_PATH = '/org/crtos/Manager1';
export const MANAGER_IFACE = 'org.crtos.Manager1';
export const UNIT_IFACE = 'org.crtos.Unit1';
export const JOB_IFACE = 'org.crtos.Job1';
export const UNIT_PATH_PREFIX = '/org/crtos/unit/';
export const JOB_PATH_PREFIX = '/org/crtos/job/';

export const PROPERTIES_IFACE = 'org.freedesktop.DBus.Properties';
export const INTROSPECTABLE_IFACE = 'org.freedesktop.DBus.Introspectable';
export const PEER_IFACE = 'org.freedesktop.DBus.Peer';

/** Error names in replies. The standard ones where D-Bus has one, ours otherwise. */
export const ERRORS = {
  accessDenied: 'org.freedesktop.DBus.Error.AccessDenied',
  invalidArgs: 'org.freedesktop.DBus.Error.InvalidArgs',
  unknownMethod: 'org.freedesktop.DBus.Error.UnknownMethod',
  unknownObject: 'org.freedesktop.DBus.Error.UnknownObject',
  unknownInterface: 'org.freedesktop.DBus.Error.UnknownInterface',
  unknownProperty: 'org.freedesktop.DBus.Error.UnknownProperty',
  propertyReadOnly: 'org.freedesktop.DBus.Error.PropertyReadOnly',
  noSuchUnit: 'org.crtos.Manager1.NoSuchUnit',
  failed: 'org.crtos.Manager1.Failed',
} as const;

/** Job modes StartUnit and friends accept; both mean "replace" today (the engine has one queue). */
export const JOB_MODES = ['replace', 'fail'] as const;
