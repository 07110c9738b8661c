import { UserEntity } from './user.entity';
import { UserRole } from './user-role';
import { fromUserSnapshot, toUserSnapshot, userCacheKey } from './user.snapshot';

describe('UserSnapshot (what the users cache namespace holds)', () => {
  const user: UserEntity = {
    id: '6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f',
    email: 'alice@example.com',
    displayName: 'Alice',
    role: UserRole.USER,
    passwordHash: 'scrypt$ln=15,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g',
    createdAt: new Date('2026-01-01T00:00:00.000Z'),
    updatedAt: new Date('2026-01-02T03:04:05.678Z'),
  };

  it('survives JSON unchanged, as Redis hands it back', () => {
    const snapshot = toUserSnapshot(user);
    expect(JSON.parse(JSON.stringify(snapshot))).toEqual(snapshot);
  });

  it('never holds the password hash, even when given the whole row', () => {
    const snapshot = toUserSnapshot(user);
    expect(Object.keys(snapshot).sort()).toEqual(['createdAt', 'displayName', 'email', 'id', 'role', 'updatedAt']);
    expect(JSON.stringify(snapshot)).not.toContain(user.passwordHash);
  });

  it('gives back the user without the hash, dates as Dates', () => {
    const { passwordHash: _, ...profile } = user;
    const back = fromUserSnapshot(JSON.parse(JSON.stringify(toUserSnapshot(user))));
    expect(back).toEqual(profile);
    expect(back.createdAt).toBeInstanceOf(Date);
  });

  it('keeps a missing display name missing', () => {
    expect(fromUserSnapshot(toUserSnapshot({ ...user, displayName: null })).displayName).toBeNull();
  });

  it('gives each caller an object of its own', () => {
    const snapshot = toUserSnapshot(user);
    fromUserSnapshot(snapshot).role = UserRole.ADMIN;
    expect(fromUserSnapshot(snapshot).role).toBe(UserRole.USER);
  });

  it('keys users by id, the one thing every user.* event carries', () => {
    expect(userCacheKey(user.id)).toBe(`id:${user.id}`);
  });
});
