/** Problem codes of this area; every code starts with ENGINE_. Joined in ../codes.ts. */
export const engineCodes = {
  ENGINE_INTERNAL: { summary: 'An unexpected internal error; please report it with the log' },
} as const;
