/**
 * A value as quoted in a message. Messages quote what the user wrote, and a unit file may hold a
 * value of a megabyte on one line: the message (logged, sent over D-Bus, shown by crtosctl) keeps
 * its start and says how long the rest is, instead of carrying the whole value.
 */
export const EXCERPT_LENGTH = 80;

export function excerpt(text: string): string {
  return text.length <= EXCERPT_LENGTH ? text : `${text.slice(0, EXCERPT_LENGTH)}… (${text.length} characters)`;
}
