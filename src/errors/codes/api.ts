/** Problem codes of this area; every code starts with API_. Joined in ../codes.ts. */
export const apiCodes = {
  API_INTERNAL: { summary: 'An unexpected internal error; please report it with the log' },
  API_BUS_UNREACHABLE: { summary: 'The D-Bus bus could not be reached at the given address; check --bus or CRTOS_BUS_ADDRESS' },
  API_NAME_TAKEN: { summary: 'Another process already owns org.crtos.Manager1 on this bus (a second crtosd?)' },
  API_NO_DAEMON: { summary: 'Nobody owns org.crtos.Manager1 on the bus: crtosd is not running there' },
  API_ACCESS_DENIED: { summary: 'Starting, stopping, restarting and reloading need root or membership of the admin group' },
  API_NO_SUCH_UNIT: { summary: 'crtosd has no unit with that id; `crtosctl list-units` shows the loaded ones' },
  API_CALL_FAILED: { summary: 'crtosd answered a D-Bus call with an error; the message says why' },
  API_JOB_FAILED: { summary: 'A start, stop or restart job ended with a result other than done' },
  API_TIMEOUT: { summary: 'crtosd did not answer within the time limit' },
} as const;
