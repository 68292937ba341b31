/**
 * The self-signed server certificate for go-plugin's AutoMTLS.
 *
 * The engine pins exactly the certificate printed in the handshake and dials
 * with server name `localhost`, so the certificate needs: a DNS SAN
 * `localhost`, serverAuth, and a validity that covers now. ECDSA P-256 keys
 * come from node:crypto in about a millisecond; the X.509 structure is
 * written here from fixed DER pieces, because the certificate libraries
 * cost hundreds of milliseconds to import and start-up speed is what every
 * engine command pays.
 */
import { generateKeyPairSync, randomBytes, sign, type KeyObject } from "node:crypto";

export interface ServerCertificate {
  /** DER bytes of the certificate (what the handshake line carries). */
  der: Buffer;
  /** The certificate as PEM, for the TLS server. */
  readonly certPem: string;
  /** The private key as PKCS#8 PEM, for the TLS server. */
  readonly keyPem: string;
}

// The certificate is the same every time but for its serial number, its
// validity and its public key, so everything else is written out once as
// DER (ITU-T X.690) below; test/provider/protocol/certificate.test.ts
// checks the result field by field with Node's and OpenSSL's parsers.
// Building these from OIDs at run time cost about 2 ms of cold JavaScript
// per start.

const der = (hex: string) => Buffer.from(hex, "hex");

/** [0] EXPLICIT Version v3 (2). */
const VERSION_V3 = der("a003020102");
/** AlgorithmIdentifier ecdsa-with-SHA256 (1.2.840.10045.4.3.2), no parameters. */
const ECDSA_WITH_SHA256 = der("300a06082a8648ce3d040302");
/** Name: O=Terraform provider, CN=localhost (UTF8String values); issuer and subject alike. */
const NAME = der("3031311b3019060355040a0c125465727261666f726d2070726f76696465723112301006035504030c096c6f63616c686f7374");
/**
 * SubjectPublicKeyInfo up to the key: algorithm id-ecPublicKey
 * (1.2.840.10045.2.1) on prime256v1 (1.2.840.10045.3.1.7), then a BIT
 * STRING of 66 bytes (no unused bits), the uncompressed point 04||X||Y.
 */
const P256_SPKI_PREFIX = der("3059301306072a8648ce3d020106082a8648ce3d030107034200");
/**
 * [3] EXPLICIT Extensions: keyUsage (critical) digitalSignature and
 * keyCertSign; extKeyUsage serverAuth and clientAuth; basicConstraints
 * (critical) CA; subjectAltName DNS localhost.
 */
const EXTENSIONS = der(
  "a3583056" +
    "300e0603551d0f0101ff040403020284" +
    "301d0603551d250416301406082b0601050507030106082b06010505070302" +
    "300f0603551d130101ff040530030101ff" +
    "30140603551d11040d300b82096c6f63616c686f7374",
);

/** A DER length: short form below 128, else long form. */
function length(n: number): Buffer {
  if (n < 0x80) return Buffer.of(n);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.of(tag), length(content.length), content]);
}

const twoDigits = (n: number) => (n < 10 ? `0${n}` : String(n));

/**
 * UTCTime through 2049, GeneralizedTime after, as RFC 5280 §4.1.2.5
 * requires (formatted from the UTC fields: the first toISOString of a
 * process costs a quarter of a millisecond).
 */
function time(date: Date): Buffer {
  const year = date.getUTCFullYear();
  const rest = [date.getUTCMonth() + 1, date.getUTCDate(), date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds()].map(twoDigits).join("");
  return year < 2050 ? tlv(0x17, Buffer.from(`${twoDigits(year % 100)}${rest}Z`, "latin1")) : tlv(0x18, Buffer.from(`${year}${rest}Z`, "latin1"));
}

/**
 * SubjectPublicKeyInfo (RFC 5480) of a P-256 public key, from its JWK
 * coordinates: `export({ type: "spki" })` goes through OpenSSL's encoder
 * lookup, about a millisecond of every start, while the JWK export only
 * reads the point.
 */
export function p256SubjectPublicKeyInfo(publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: "jwk" });
  if (jwk.crv !== "P-256" || !jwk.x || !jwk.y) throw new Error(`expected a P-256 public key, got ${jwk.kty} ${jwk.crv ?? ""}`);
  return Buffer.concat([P256_SPKI_PREFIX, Buffer.of(0x04), Buffer.from(jwk.x, "base64url"), Buffer.from(jwk.y, "base64url")]);
}

/** How long the certificate is valid: it lives as long as one provider process. */
const VALIDITY_MS = 10 * 365 * 24 * 3600 * 1000;
/** Tolerates a client clock slightly behind ours. */
const BACKDATE_MS = 30 * 1000;

/**
 * Builds a self-signed X.509 v3 certificate for `publicKey`, signed with
 * `privateKey` (ECDSA P-256 only, SHA-256): CN and DNS SAN `localhost`,
 * serverAuth + clientAuth, CA (it is its own trust anchor), like go-plugin's.
 */
export function selfSignedCertificateDer(publicKey: KeyObject, privateKey: KeyObject, now = new Date()): Buffer {
  // 16 random bytes, positive and without a leading zero: always a 16-byte INTEGER.
  const serial = randomBytes(16);
  serial[0] = (serial[0] & 0x7f) | 0x01;
  const validity = Buffer.concat([time(new Date(now.getTime() - BACKDATE_MS)), time(new Date(now.getTime() + VALIDITY_MS))]);
  const tbs = tlv(
    0x30,
    Buffer.concat([VERSION_V3, tlv(0x02, serial), ECDSA_WITH_SHA256, NAME, tlv(0x30, validity), NAME, p256SubjectPublicKeyInfo(publicKey), EXTENSIONS]),
  );
  const signature = sign("sha256", tbs, { key: privateKey, dsaEncoding: "der" });
  // BIT STRING of the signature, no unused bits.
  return tlv(0x30, Buffer.concat([tbs, ECDSA_WITH_SHA256, tlv(0x03, Buffer.concat([Buffer.of(0), signature]))]));
}

/** PEM armour for DER bytes. */
export function toPem(label: string, der: Buffer): string {
  const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/**
 * A fresh ECDSA P-256 key pair and self-signed certificate for one provider
 * process. The PEM forms are made on first use: the handshake line needs
 * only the DER, and the TLS server is created after the line is out.
 */
export function generateServerCertificate(now = new Date()): ServerCertificate {
  const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const der = selfSignedCertificateDer(publicKey, privateKey, now);
  let certPem: string | undefined;
  let keyPem: string | undefined;
  return {
    der,
    get certPem() {
      return (certPem ??= toPem("CERTIFICATE", der));
    },
    get keyPem() {
      return (keyPem ??= privateKey.export({ type: "pkcs8", format: "pem" }) as string);
    },
  };
}
