import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual } from "node:crypto";
import { promisify } from "node:util";

const scrypt = promisify(scryptCb) as (password: string, salt: Buffer, keylen: number, options: { N: number; r: number; p: number; maxmem: number }) => Promise<Buffer>;

let lastTime = 0;
let counter = 0;

/**
 * A new opaque id like `mem_0mb2k1x3a0001f3c9a2b4d5e6`: a prefix, a
 * time-and-counter part that sorts in creation order (list endpoints page
 * by id), and random bits.
 */
export function newId(prefix: string): string {
  const now = Date.now();
  counter = now === lastTime ? counter + 1 : 0;
  lastTime = now;
  const time = now.toString(36).padStart(9, "0");
  const seq = counter.toString(36).padStart(4, "0");
  return `${prefix}_${time}${seq}${randomBytes(6).toString("hex")}`;
}

/** SHA-256 hex: how secrets (API keys, sessions, one-time tokens) are stored and looked up. */
export function sha256(value: string): string {
  return createHash("sha256").update(value).digest("hex");
}

/** A bearer secret: `prefix` + 32 random bytes, base64url. */
export function newSecret(prefix: string): string {
  return prefix + randomBytes(32).toString("base64url");
}

export const API_KEY_PREFIX = "ps_";
export const SESSION_PREFIX = "pss_";
/** How many leading characters of a key secret are kept and shown to identify it. */
export const KEY_PREFIX_LENGTH = 12;

const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 };

/** Hashes a password with scrypt and a random salt, self-describing: `scrypt$N$r$p$salt$hash`. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(password, salt, SCRYPT.keylen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p, maxmem: 64 * 1024 * 1024 });
  return ["scrypt", SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString("base64url"), hash.toString("base64url")].join("$");
}

/** Constant-time check of a password against {@link hashPassword}'s output. */
export async function verifyPassword(password: string, stored: string | null): Promise<boolean> {
  const parts = (stored ?? "").split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") {
    // Spend the same time as a real check so timing does not reveal unknown emails.
    await scrypt(password, randomBytes(16), SCRYPT.keylen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p, maxmem: 64 * 1024 * 1024 });
    return false;
  }
  const [, n, r, p, salt, hash] = parts;
  const expected = Buffer.from(hash, "base64url");
  const actual = await scrypt(password, Buffer.from(salt, "base64url"), expected.length, { N: Number(n), r: Number(r), p: Number(p), maxmem: 64 * 1024 * 1024 });
  return timingSafeEqual(expected, actual);
}
