import { describe, expect, it } from 'vitest';
import { groupIdFrom, mayCall } from '../../src/dbus/access.js';

describe('mayCall', () => {
  it('allows root and members of one of the groups only', () => {
    expect(mayCall({ uid: 0, gids: [] }, [])).toBe(true);
    expect(mayCall({ uid: 1000, gids: [1000, 27] }, [27])).toBe(true);
    expect(mayCall({ uid: 1000, gids: [1000] }, [27, 4])).toBe(false);
    expect(mayCall({ uid: 1000, gids: [27] }, [])).toBe(false);
    expect(mayCall({ uid: 1000, gids: [4] }, [27, 4])).toBe(true);
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
