/** The layout of one hypervisor's links as a transaction check sees it: once per check, shared by the link and cell checks. */
import type { CheckContext } from '../../transaction/context.js';
import type { JailhouseHypervisor } from './definition.js';
import { layOut, type JailhouseLayout } from './layout.js';

const perCheck = new WeakMap<CheckContext, Map<string, Promise<JailhouseLayout>>>();

export function checkedLayout(ctx: CheckContext, hv: JailhouseHypervisor): Promise<JailhouseLayout> {
  let mine = perCheck.get(ctx);
  if (!mine) perCheck.set(ctx, (mine = new Map()));
  let layout = mine.get(hv.id);
  if (!layout) {
    const machine = ctx.machine;
    mine.set(hv.id, (layout = layOut({ hv, set: ctx.set, ...(machine ? { read: (path: string) => machine.read(path) } : {}) })));
  }
  return layout;
}
