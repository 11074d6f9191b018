import { apiKeyPrefixOf, digest, hashPassword, newApiKey, newSessionToken, sameDigest, verifyPassword } from './credentials';

describe('credentials', () => {
  it('hashes passwords with argon2id and verifies only the right one', async () => {
    const hash = await hashPassword('correct horse battery');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=2\$/);
    await expect(verifyPassword(hash, 'correct horse battery')).resolves.toBe(true);
    await expect(verifyPassword(hash, 'correct horse batterY')).resolves.toBe(false);
    await expect(verifyPassword('not a hash', 'x')).resolves.toBe(false);
  });

  it('makes API keys whose prefix finds them and whose digest proves them', () => {
    const { prefix, secret } = newApiKey();
    expect(apiKeyPrefixOf(secret)).toBe(prefix);
    expect(apiKeyPrefixOf(`${secret}x`)).toBeUndefined();
    expect(apiKeyPrefixOf('bfk_zzzzzzzzzzzz_abc')).toBeUndefined();
    expect(sameDigest(digest(secret), digest(secret))).toBe(true);
    expect(sameDigest(digest(secret), digest(newApiKey().secret))).toBe(false);
  });

  it('makes distinct session tokens', () => {
    const tokens = new Set(Array.from({ length: 100 }, newSessionToken));
    expect(tokens.size).toBe(100);
    for (const token of tokens) expect(token).toMatch(/^bfs_[A-Za-z0-9_-]{43}$/);
  });
});
