/** Loader as observers see it: org.crtos.Loader1 and its `crtosctl status` lines, its health monitor's included. */
import type { Details, KindView } from '../view.js';
import { HEALTH_PROPERTIES, healthStatusLines } from '../../engine/health/view.js';

/** What observation gives; the health fields the view declares besides are the engine's (src/engine/health/view.ts). */
export interface LoaderDetails {
  /** 0 when not running. */
  pid: number;
  /** The last exit: code (or -1) and signal name ('' when none). */
  exitCode: number;
  exitSignal: string;
  restarts: number;
}

export const loaderView: KindView = {
  iface: 'org.crtos.Loader1',
  empty: { pid: 0, exitCode: 0, exitSignal: '', restarts: 0 } satisfies LoaderDetails,
  properties: [
    { name: 'MainPID', type: 'u', field: 'pid' },
    { name: 'ExitCode', type: 'i', field: 'exitCode' },
    { name: 'ExitSignal', type: 's', field: 'exitSignal' },
    { name: 'Restarts', type: 'u', field: 'restarts' },
    ...HEALTH_PROPERTIES,
  ],
  statusLines(details: Details) {
    const d = details as Details & LoaderDetails;
    const lines: [string, string][] = [['Main PID', d.pid > 0 ? String(d.pid) : '-']];
    // A running loader's earlier clean exit is noise; show the exit when it says something.
    if (d.exitSignal) lines.push(['Last exit', `signal=${d.exitSignal}`]);
    else if (d.exitCode > 0 || (d.pid === 0 && d.exitCode === 0)) lines.push(['Last exit', `code=${d.exitCode}`]);
    if (d.restarts > 0) lines.push(['Restarts', String(d.restarts)]);
    return [...lines, ...healthStatusLines(d)];
  },
};
