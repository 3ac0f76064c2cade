/** Problem codes of this area; every code starts with UNIT_. Joined in ../codes.ts. */
export const unitCodes = {
  UNIT_INTERNAL: { summary: 'An unexpected internal error; please report it with the log' },
} as const;
