import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createTokenCipher, keyFromFile, KEY_FILE_NAME } from '../../src/store/token-cipher.js';

const token = 'aW50ZXJhY3Rpb246MTMwMDAwMDAwMDAwMDAwMDAwMTpzZWNyZXQ';

describe('the token cipher', () => {
  it('seals a token so that the stored text does not contain it, and opens it again', () => {
    const cipher = createTokenCipher(randomBytes(32));
    const sealed = cipher.seal(token);
    expect(sealed.startsWith('v1:')).toBe(true);
    expect(sealed).not.toContain(token);
    expect(cipher.seal(token)).not.toBe(sealed);
    expect(cipher.open(sealed)).toBe(token);
  });

  it('gives every sealed token its own nonce, past the first pool of them', () => {
    const cipher = createTokenCipher(randomBytes(32));
    const sealed = Array.from({ length: 600 }, (_, i) => cipher.seal(`${token}-${i}`));
    const nonces = sealed.map((s) => Buffer.from(s.slice(3), 'base64').subarray(0, 12).toString('hex'));
    expect(new Set(nonces).size).toBe(600);
    sealed.forEach((s, i) => expect(cipher.open(s)).toBe(`${token}-${i}`));
  });

  it('reads a row stored before encryption as it is', () => {
    expect(createTokenCipher(randomBytes(32)).open(token)).toBe(token);
  });

  it('refuses a token sealed with another key, or changed in the store', () => {
    const sealed = createTokenCipher(randomBytes(32)).seal(token);
    expect(() => createTokenCipher(randomBytes(32)).open(sealed)).toThrow();
    const cipher = createTokenCipher(randomBytes(32));
    const good = cipher.seal(token);
    const flipped = `${good.slice(0, -4)}${good.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
    expect(() => cipher.open(flipped)).toThrow();
    expect(() => cipher.open('v1:AAAA')).toThrow('a sealed token is cut short');
  });

  it('makes a key file readable by its owner only, and reads the same key afterwards', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tracksmith-key-'));
    try {
      const first = await keyFromFile(join(dir, 'data'));
      expect(first.created).toBe(true);
      expect(first.path).toBe(join(dir, 'data', KEY_FILE_NAME));
      expect((await stat(first.path)).mode & 0o777).toBe(0o600);
      const again = await keyFromFile(join(dir, 'data'));
      expect(again.created).toBe(false);
      expect(again.key.equals(first.key)).toBe(true);
      expect(Buffer.from((await readFile(first.path, 'utf8')).trim(), 'base64')).toHaveLength(32);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
