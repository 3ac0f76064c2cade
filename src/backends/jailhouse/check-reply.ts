/**
 * Cells that could freeze the whole machine. A cell without PASSIVE_COMMREG takes part in the
 * hypervisor's message protocol: when it is shut down, restarted or destroyed the hypervisor asks
 * it first, and when another cell is created or destroyed it tells it (RECONFIG_COMPLETED), each
 * time polling for the reply with every root CPU suspended. msg_reply_timeout bounds that wait
 * (the cell is set `failed` when it runs out); 0 means no bound, and a cell that does not answer
 * (an RTOS that does not speak the protocol, or one that hung) then freezes the whole Linux side
 * for good, as upstream Jailhouse showed (src/sim/README.md). crtosd itself shuts down, creates and
 * destroys cells, so such a cell is refused, whether alone (its own stop asks it) or next to others.
 */
import type { Problem } from '../../errors/problem.js';
import type { UnitOf } from '../../units/types.js';
import type { CellConfig } from '../../jailhouse/index.js';
import { unitProblem, type CheckContext } from '../../transaction/context.js';

export const NO_REPLY_TIMEOUT_HINT =
  "give the cell PASSIVE_COMMREG (config.flags) if its inmate does not answer the hypervisor's messages, or a reply timeout (config.msgReplyTimeout: polling rounds after which the hypervisor marks it failed instead of waiting); for a .cell file, `crtosctl cell-config show` it, edit, and `crtosctl cell-config build` it again";

/** The cells whose configuration lets the hypervisor wait forever for them, each refused at its unit. */
export function checkReplyTimeouts(ctx: CheckContext, members: readonly { unit: UnitOf<'Cell'>; config: CellConfig; inline: boolean }[]): Problem[] {
  const out: Problem[] = [];
  for (const m of members) {
    if (m.config.flags.includes('PASSIVE_COMMREG') || m.config.msgReplyTimeout !== 0n) continue;
    const others = members.filter((o) => o !== m).map((o) => o.unit.id);
    const when = others.length > 0 ? `stopping it, or creating or destroying ${others.join(', ')} next to it,` : 'stopping it';
    // Written inline with its flags: at them; otherwise at `config`.
    const where = m.inline && typeof m.unit.spec.config === 'object' && 'flags' in m.unit.spec.config ? ['config', 'flags'] : ['config'];
    out.push(
      unitProblem(
        ctx,
        m.unit,
        where,
        'UNIT_CELL_NO_REPLY_TIMEOUT',
        `${m.unit.id} is a non-passive cell (no PASSIVE_COMMREG) with msg_reply_timeout 0: ${when} makes the hypervisor wait for its reply with every root CPU stopped, and if it never answers the whole Linux side freezes for good`,
        NO_REPLY_TIMEOUT_HINT,
      ),
    );
  }
  return out;
}
