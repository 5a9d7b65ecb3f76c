import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { EncryptionKey } from '../config';

/** Thrown when a ciphertext cannot be opened: an unknown key id, a wrong key, or tampering. */
export class CipherError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CipherError';
  }
}

const VERSION = 'v1';

/**
 * AES-256-GCM for secrets at rest (bot tokens). A ciphertext is
 * `v1.<key id>.<iv>.<tag>.<data>` (base64url parts): the key id says which key opens it, so
 * DONEDONE_ENCRYPTION_KEY can be rotated while the previous key (`_OLD`) still decrypts.
 * `aad` binds a ciphertext to the record it belongs to (an installation's id), so a ciphertext
 * copied onto another workspace's record does not open.
 */
export class TokenCipher {
  private readonly keys: Map<string, Buffer>;

  constructor(
    private readonly current: EncryptionKey,
    old?: EncryptionKey,
  ) {
    this.keys = new Map([[current.id, current.key]]);
    if (old) this.keys.set(old.id, old.key);
  }

  get currentKeyId(): string {
    return this.current.id;
  }

  encrypt(plain: string, aad: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    cipher.setAAD(Buffer.from(aad));
    const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return [VERSION, this.current.id, iv, cipher.getAuthTag(), data]
      .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
      .join('.');
  }

  /** The key id a ciphertext was made with (without opening it). */
  static keyIdOf(text: string): string | undefined {
    const parts = text.split('.');
    return parts[0] === VERSION && parts.length === 5 ? parts[1] : undefined;
  }

  decrypt(text: string, aad: string): string {
    const parts = text.split('.');
    if (parts[0] !== VERSION || parts.length !== 5) throw new CipherError('not a donedone ciphertext');
    const [, keyId, iv, tag, data] = parts as [string, string, string, string, string];
    const key = this.keys.get(keyId);
    if (!key) {
      throw new CipherError(
        `encrypted with key ${keyId}, which is neither DONEDONE_ENCRYPTION_KEY (${this.current.id}) nor DONEDONE_ENCRYPTION_KEY_OLD`,
      );
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(aad));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString(
        'utf8',
      );
    } catch {
      throw new CipherError(`could not decrypt with key ${keyId}: the data or its record was altered`);
    }
  }

  /** Whether `text` was made with another key than the current one (to be re-encrypted). */
  isStale(text: string): boolean {
    return TokenCipher.keyIdOf(text) !== this.current.id;
  }
}
