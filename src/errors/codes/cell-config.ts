/** Problem codes of this area; every code starts with CELLCFG_. Joined in ../codes.ts. */
export const cellConfigCodes = {
  CELLCFG_INTERNAL: { summary: 'An unexpected internal error; please report it with the log' },
} as const;
