/**
 * The rule for key material a client brings ("bring your own secret"):
 * the server checks it on create and rotation, the provider at plan, so
 * both refuse the same material with the same words. Only its hash is
 * ever stored.
 */

export const MIN_KEY_MATERIAL_LENGTH = 32;
export const MAX_KEY_MATERIAL_LENGTH = 256;
/** Estimated entropy a secret must reach: length × the Shannon entropy of its own character frequencies. */
export const MIN_KEY_MATERIAL_BITS = 110;
export const MIN_KEY_MATERIAL_DISTINCT = 10;

/** Printable ASCII except space, quotes, backtick and backslash: safe in a header, a shell and HCL. */
const ALPHABET = /^[A-Za-z0-9!#$%&()*+,\-./:;<=>?@[\]^_{|}~]*$/;
export const KEY_MATERIAL_ALPHABET = "letters, digits and !#$%&()*+,-./:;<=>?@[]^_{|}~ (printable ASCII without space, quotes, backtick or backslash)";
/** Session tokens start with this; key material must not look like one. */
const SESSION_TOKEN_START = "pss_";

/** Why `material` is not acceptable key material, or undefined when it is. Never repeats the material. */
export function keyMaterialProblem(material: unknown): string | undefined {
  if (typeof material !== "string") return "must be a string";
  if (material.length < MIN_KEY_MATERIAL_LENGTH || material.length > MAX_KEY_MATERIAL_LENGTH) {
    return `must be ${MIN_KEY_MATERIAL_LENGTH} to ${MAX_KEY_MATERIAL_LENGTH} characters long, got ${material.length}`;
  }
  if (!ALPHABET.test(material)) return `may contain only ${KEY_MATERIAL_ALPHABET}`;
  if (material.startsWith(SESSION_TOKEN_START)) return `must not start with "${SESSION_TOKEN_START}" (the start of session tokens)`;
  const counts = new Map<string, number>();
  for (const ch of material) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let perChar = 0;
  for (const n of counts.values()) perChar -= (n / material.length) * Math.log2(n / material.length);
  const bits = Math.floor(perChar * material.length);
  if (counts.size < MIN_KEY_MATERIAL_DISTINCT || bits < MIN_KEY_MATERIAL_BITS) {
    return `has too little entropy: it needs at least ${MIN_KEY_MATERIAL_DISTINCT} different characters and an estimated ${MIN_KEY_MATERIAL_BITS} bits (length × Shannon entropy of its characters), got ${counts.size} different characters and ${bits} bits; use 32 or more random characters (random_password with length = 32 or more, or 40+ hex digits)`;
  }
  if (isRepetitive(material)) {
    return "is repetitive: more than a quarter of it repeats earlier 4-character runs or continues a sequence (like abcd, 9876 or aaaa); use random material";
  }
  return undefined;
}

/** A pattern repeated (few distinct 4-character windows) or runs of equal steps (aaaa, abcd, 8642). */
function isRepetitive(s: string): boolean {
  const windows = new Set<string>();
  for (let i = 0; i + 4 <= s.length; i++) windows.add(s.slice(i, i + 4));
  const repeatedWindows = s.length - 3 - windows.size;
  let steps = 0;
  for (let i = 2; i < s.length; i++) {
    const a = s.charCodeAt(i - 2);
    const b = s.charCodeAt(i - 1);
    const c = s.charCodeAt(i);
    if (c - b === b - a && Math.abs(c - b) <= 2) steps++;
  }
  return repeatedWindows * 4 > s.length || steps * 4 > s.length;
}
