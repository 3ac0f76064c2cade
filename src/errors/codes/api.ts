/** Problem codes of this area; every code starts with API_. Joined in ../codes.ts. */
export const apiCodes = {
  API_INTERNAL: { summary: 'An unexpected internal error; please report it with the log' },
} as const;
