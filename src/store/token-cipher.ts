import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, randomFillSync } from 'node:crypto';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Interaction tokens at rest. A token lets anyone edit the member's reply for 15 minutes, and the
 * ledger keeps it until the request ends, so a copy of the database must not be a copy of the
 * tokens: each is sealed with AES-256-GCM (a fresh 96-bit nonce each time; the tag makes a changed
 * row fail to open rather than open to something else). Rows written before this are plaintext
 * and still read as they are; they end (and their token is cleared) like any other.
 */
export interface TokenCipher {
  seal(token: string): string;
  /** The token; a row written before encryption comes back as stored. Throws when it cannot open. */
  open(stored: string): string;
}

const PREFIX = 'v1:';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export function createTokenCipher(key: Buffer): TokenCipher {
  if (key.length !== 32) throw new RangeError('the token key must be 32 bytes');
  // Imported once: given the raw bytes, every cipher imports the key afresh (one per /music).
  const secret = createSecretKey(key);
  const nonces = noncePool();
  return {
    seal(token) {
      const nonce = nonces();
      const cipher = createCipheriv('aes-256-gcm', secret, nonce);
      const sealed = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()]);
      return PREFIX + Buffer.concat([nonce, cipher.getAuthTag(), sealed]).toString('base64');
    },
    open(stored) {
      if (!stored.startsWith(PREFIX)) return stored;
      const raw = Buffer.from(stored.slice(PREFIX.length), 'base64');
      if (raw.length < NONCE_BYTES + TAG_BYTES) throw new Error('a sealed token is cut short');
      const decipher = createDecipheriv('aes-256-gcm', secret, raw.subarray(0, NONCE_BYTES));
      decipher.setAuthTag(raw.subarray(NONCE_BYTES, NONCE_BYTES + TAG_BYTES));
      return Buffer.concat([
        decipher.update(raw.subarray(NONCE_BYTES + TAG_BYTES)),
        decipher.final(),
      ]).toString('utf8');
    },
  };
}

/**
 * Fresh random nonces, drawn from the CSPRNG 256 at a time. One `randomBytes` call per token was
 * the largest part of sealing under a burst of `/music` (a synchronous trip into OpenSSL each time);
 * the nonces are as random either way, and each is handed out once. Each is a view into the pool:
 * use it before the next call (`seal` is synchronous).
 */
function noncePool(): () => Buffer {
  const pool = Buffer.alloc(NONCE_BYTES * 256);
  let offset = pool.length;
  return () => {
    if (offset === pool.length) {
      randomFillSync(pool);
      offset = 0;
    }
    const nonce = pool.subarray(offset, offset + NONCE_BYTES);
    offset += NONCE_BYTES;
    return nonce;
  };
}

/** Where a single-host bot keeps the key it made for itself. */
export const KEY_FILE_NAME = 'token-encryption.key';

/**
 * The key from `DATA_DIR/token-encryption.key`, made (32 random bytes, base64, readable by the
 * bot's user only) the first time. Used when `TOKEN_ENCRYPTION_KEY` is not set, which config
 * allows only for a bot whose processes share one host.
 */
export async function keyFromFile(dataDir: string): Promise<{ key: Buffer; path: string; created: boolean }> {
  const path = join(dataDir, KEY_FILE_NAME);
  await mkdir(dataDir, { recursive: true });
  let created = false;
  try {
    // `wx`: two processes starting together never overwrite each other's key.
    await writeFile(path, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    created = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const key = Buffer.from((await readFile(path, 'utf8')).trim(), 'base64');
  if (key.length !== 32) throw new Error(`${path} does not hold a 32-byte base64 key`);
  return { key, path, created };
}
