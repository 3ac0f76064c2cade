/** Problem codes of this area; every code starts with ENGINE_. Joined in ../codes.ts. */
import { ERRORS } from '../../dbus/names.js';
import type { CodeInfo } from '../codes.js';

export const engineCodes = {
  ENGINE_INTERNAL: { summary: 'An unexpected internal error; please report it with the log' },
  ENGINE_NO_SUCH_UNIT: { summary: 'No unit with that id is loaded; `crtosctl list-units` shows the loaded ones', dbus: { replyError: ERRORS.noSuchUnit } },
  ENGINE_BAD_JOB: { summary: 'The job type does not apply to this unit (e.g. reload of a unit that is not a Cell)' },
  ENGINE_START_FAILED: { summary: 'A host operation of a start failed; the message names the operation and the tool error' },
  ENGINE_STOP_FAILED: { summary: 'A host operation of a stop failed; the unit may still be (partly) up' },
  ENGINE_TIMEOUT: { summary: 'An operation, or a wait for what it makes (a device node, an interface), did not finish within the unit\'s timeout' },
  ENGINE_READY_TIMEOUT: { summary: 'A started unit did not answer its readiness check (`ready:`) within ready.timeout; its health table\'s readyTimeout decides what follows' },
  ENGINE_LIVENESS_FAILED: { summary: 'A running unit failed its liveness check failureThreshold times in a row; its health table\'s liveness entry decides what follows' },
  ENGINE_DEPENDENCY: { summary: 'A unit this one requires failed, so this unit was not started' },
  ENGINE_START_LIMIT: { summary: 'The unit was started more often than its startLimit allows and is no longer restarted automatically' },
  ENGINE_IMAGE_MISSING: { summary: 'An image file a cell loads does not exist on the machine' },
  ENGINE_IMAGE_MISMATCH: { summary: 'An image file does not have the sha256 its Image unit pins; the load was refused' },
  ENGINE_CELL_CONFIG: { summary: 'A cell configuration (.cell) could not be read or decoded, so the cell name and CPUs are unknown' },
  ENGINE_CELL_FAILED: { summary: 'A running cell entered the `failed` state (a fatal guest error or a shutdown-reply timeout)' },
  ENGINE_PROCESS_EXITED: { summary: 'A loader process exited with a non-zero code or was killed by a signal' },
  ENGINE_PREVIOUS_NOT_STOPPED: { summary: 'The unit was to be restarted, but stopping its previous instance failed' },
  ENGINE_UNSUPPORTED: { summary: 'The engine cannot perform this on the current host (an operation the Host interface does not offer)' },
  ENGINE_METRICS_FILE: { summary: 'The metrics file (--metrics-file) could not be written; crtosd runs on and tries again at the next change' },
  ENGINE_STATE_FILE: { summary: 'The state file under --state-dir could not be read or written; adoption after a restart is affected' },
  ENGINE_LOAD_FAILED: { summary: 'The unit files have errors; the last good unit set keeps running until they are fixed' },
  ENGINE_UNIT_MASKED: { summary: 'The unit is masked, so it is not started (by crtosd or by `start`); `crtosctl unmask` lifts the mask' },
  ENGINE_BAD_UNIT_NAME: { summary: 'The name given is not a unit id NAME.KIND of a known kind' },
  ENGINE_CANNOT_KILL: { summary: 'kill applies to units that run a process (loaders), and only while one runs' },
  ENGINE_MASK_STORE: { summary: 'A mask file (/etc/crtos/mask or the state directory\'s mask/) could not be written or removed' },
  ENGINE_BAD_ARGUMENT: { summary: 'A crtosd command-line option is missing, unknown or malformed' },
} as const satisfies Record<string, CodeInfo>;
