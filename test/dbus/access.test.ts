import { describe, expect, it } from 'vitest';
import { groupIdFrom, mayChangeState } from '../../src/dbus/access.js';

describe('mayChangeState', () => {
  it('allows root and members of the admin group only', () => {
    expect(mayChangeState({ uid: 0, gids: [] }, undefined)).toBe(true);
    expect(mayChangeState({ uid: 1000, gids: [1000, 27] }, 27)).toBe(true);
    expect(mayChangeState({ uid: 1000, gids: [1000] }, 27)).toBe(false);
    expect(mayChangeState({ uid: 1000, gids: [27] }, undefined)).toBe(false);
  });
});

describe('groupIdFrom', () => {
  const etcGroup = 'root:x:0:\ncrtos:x:998:alice,bob\nbroken-line\n';
  it('resolves names from /etc/group text and accepts numbers', () => {
    expect(groupIdFrom('crtos', etcGroup)).toBe(998);
    expect(groupIdFrom('4242', etcGroup)).toBe(4242);
    expect(groupIdFrom('wheel', etcGroup)).toBeUndefined();
  });
});
