/** Problem codes of this area; every code starts with HOST_. Joined in ../codes.ts. */
export const hostCodes = {
  HOST_INTERNAL: { summary: 'An unexpected internal error; please report it with the log' },
} as const;
