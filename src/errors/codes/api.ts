/**
 * Problem codes of this area; every code starts with API_. Joined in ../codes.ts. crtosctl's client
 * turns every D-Bus error reply into one of these (see `dbus.fromErrors`), reading this table alone
 * so that the codes of other areas stay out of crtosctl's bundle.
 */
import { BUS_NAME, ERRORS } from '../../dbus/names.js';
import type { CodeInfo } from '../codes.js';

export const apiCodes = {
  API_INTERNAL: { summary: 'An unexpected internal error; please report it with the log' },
  API_BUS_UNREACHABLE: { summary: 'The D-Bus bus could not be reached at the given address; check --bus or CRTOS_BUS_ADDRESS' },
  API_NAME_TAKEN: { summary: 'Another process already owns org.crtos.Manager1 on this bus (a second crtosd?)' },
  API_NO_DAEMON: {
    summary: 'Nobody owns org.crtos.Manager1 on the bus: crtosd is not running there',
    dbus: {
      // The bus answers for a name nobody owns.
      fromErrors: ['org.freedesktop.DBus.Error.ServiceUnknown', 'org.freedesktop.DBus.Error.NameHasNoOwner'],
      message: (e) => `crtosd is not running on ${e.address} (nobody owns ${BUS_NAME})`,
      hint: 'start crtosd, or pass the --bus it uses',
    },
  },
  API_ACCESS_DENIED: {
    summary: 'Starting, stopping, restarting and reloading need root or membership of the admin group',
    dbus: {
      replyError: ERRORS.accessDenied,
      fromErrors: [ERRORS.accessDenied],
      message: (e) => `${e.member} refused: ${e.text}`,
      hint: 'run as root or as a member of the crtosd admin group',
    },
  },
  API_NO_SUCH_UNIT: {
    summary: 'crtosd has no unit with that id; `crtosctl list-units` shows the loaded ones',
    dbus: {
      // A unit's object path that names no unit is an unknown object.
      fromErrors: [ERRORS.noSuchUnit, ERRORS.unknownObject],
      message: (e) => e.text,
      hint: '`crtosctl list-units` shows the loaded units',
    },
  },
  API_CALL_FAILED: {
    summary: 'crtosd answered a D-Bus call with an error; the message says why',
    dbus: { fromErrors: ['*'], message: (e) => `${e.member} failed: ${e.text}${e.error ? ` (${e.error})` : ''}` },
  },
  API_JOB_FAILED: { summary: 'A start, stop or restart job ended with a result other than done' },
  API_TIMEOUT: { summary: 'crtosd did not answer within the time limit' },
} as const satisfies Record<string, CodeInfo>;
