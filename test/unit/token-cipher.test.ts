import { createHash, randomBytes } from 'node:crypto';
import type { EncryptionKey } from '../../src/config';
import { CipherError, TokenCipher } from '../../src/workspaces/token-cipher';

function key(): EncryptionKey {
  const k = randomBytes(32);
  return { id: createHash('sha256').update(k).digest('hex').slice(0, 8), key: k };
}

describe('TokenCipher (AES-256-GCM with key ids)', () => {
  const a = key();
  const b = key();
  const token = 'xoxb-1234-5678-abcdefghijklmnop';

  it('round-trips, never shows the plaintext, and draws a fresh IV each time', () => {
    const cipher = new TokenCipher(a);
    const one = cipher.encrypt(token, 'T-T1');
    const two = cipher.encrypt(token, 'T-T1');
    expect(one).not.toBe(two);
    expect(one).not.toContain(token);
    expect(one).not.toContain(Buffer.from(token).toString('base64'));
    expect(TokenCipher.keyIdOf(one)).toBe(a.id);
    expect(cipher.decrypt(one, 'T-T1')).toBe(token);
  });

  it('refuses a ciphertext moved to another record, or altered', () => {
    const cipher = new TokenCipher(a);
    const text = cipher.encrypt(token, 'T-T1');
    expect(() => cipher.decrypt(text, 'T-T2')).toThrow(CipherError);
    const parts = text.split('.');
    const data = Buffer.from(parts[4]!, 'base64url');
    data[0] = data[0]! ^ 1;
    parts[4] = data.toString('base64url');
    expect(() => cipher.decrypt(parts.join('.'), 'T-T1')).toThrow(/altered/);
    expect(() => cipher.decrypt('xoxb-plain', 'T-T1')).toThrow(/not a donedone ciphertext/);
  });

  it('rotates: the new key with the old as _OLD opens both, marks old ones stale; the new key alone names the missing one', () => {
    const old = new TokenCipher(a).encrypt(token, 'T-T1');
    const rotating = new TokenCipher(b, a);
    expect(rotating.isStale(old)).toBe(true);
    expect(rotating.decrypt(old, 'T-T1')).toBe(token);
    const fresh = rotating.encrypt(token, 'T-T1');
    expect(rotating.isStale(fresh)).toBe(false);
    expect(TokenCipher.keyIdOf(fresh)).toBe(b.id);
    expect(() => new TokenCipher(b).decrypt(old, 'T-T1')).toThrow(
      `encrypted with key ${a.id}, which is neither DONEDONE_ENCRYPTION_KEY (${b.id}) nor DONEDONE_ENCRYPTION_KEY_OLD`,
    );
    // A wrong key under the right id (a mistyped _OLD) is told apart from tampering only by its message; it never opens.
    expect(() => new TokenCipher(b, { id: a.id, key: randomBytes(32) }).decrypt(old, 'T-T1')).toThrow(
      CipherError,
    );
  });
});
