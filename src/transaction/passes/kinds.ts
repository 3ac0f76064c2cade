/**
 * The checks a kind declares over its units together (KindDefinition.checkSet: the cells of one
 * Jailhouse against its system configuration and each other), in registration order.
 */
import type { Problem } from '../../errors/problem.js';
import { definitionOf, kindNames } from '../../kinds/index.js';
import type { Pass } from '../context.js';

export const kindsPass: Pass = async (ctx) => {
  const units = [...ctx.set.units.values()];
  const found: Problem[][] = await Promise.all(
    kindNames().map((kind) => {
      const check = definitionOf(kind).checkSet;
      const mine = units.filter((u) => u.kind === kind);
      return check && mine.length > 0 ? check(ctx, mine) : Promise.resolve([]);
    }),
  );
  return found.flat();
};
