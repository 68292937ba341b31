/**
 * The self-signed server certificate for go-plugin's AutoMTLS.
 *
 * The engine pins exactly the certificate printed in the handshake and dials
 * with server name `localhost`, so the certificate needs: a DNS SAN
 * `localhost`, serverAuth, and a validity that covers now. ECDSA P-256 keys
 * come from node:crypto in about a millisecond; the X.509 structure is
 * written with the small DER writer below, because the certificate
 * libraries cost hundreds of milliseconds to import and start-up speed is
 * what every engine command pays.
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

// --- DER writer (ITU-T X.690), only what a certificate needs ---

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.of(n);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.of(tag), length(body.length), body]);
}

const sequence = (...items: Buffer[]) => tlv(0x30, ...items);
const set = (...items: Buffer[]) => tlv(0x31, ...items);
const octetString = (content: Buffer) => tlv(0x04, content);
const utf8String = (text: string) => tlv(0x0c, Buffer.from(text, "utf8"));
const explicit = (tagNumber: number, content: Buffer) => tlv(0xa0 | tagNumber, content);
const TRUE = Buffer.of(0x01, 0x01, 0xff);

/** A non-negative INTEGER from big-endian bytes, minimally encoded. */
function unsignedInteger(bytes: Buffer): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const trimmed = bytes.subarray(start);
  return tlv(0x02, trimmed[0] & 0x80 ? Buffer.concat([Buffer.of(0), trimmed]) : trimmed);
}

function bitString(content: Buffer, unusedBits = 0): Buffer {
  return tlv(0x03, Buffer.of(unusedBits), content);
}

function oid(dotted: string): Buffer {
  const parts = dotted.split(".").map(Number);
  const bytes: number[] = [parts[0] * 40 + parts[1]];
  for (const part of parts.slice(2)) {
    const base128: number[] = [part & 0x7f];
    for (let v = Math.floor(part / 128); v > 0; v = Math.floor(v / 128)) base128.unshift(0x80 | (v & 0x7f));
    bytes.push(...base128);
  }
  return tlv(0x06, Buffer.from(bytes));
}

/** UTCTime through 2049, GeneralizedTime after, as RFC 5280 §4.1.2.5 requires. */
function time(date: Date): Buffer {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-T:]/g, "") + "Z";
  return date.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(digits.slice(2), "ascii")) : tlv(0x18, Buffer.from(digits, "ascii"));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? sequence(oid(id), TRUE, octetString(value)) : sequence(oid(id), octetString(value));
}

const OID = {
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
  commonName: "2.5.4.3",
  organization: "2.5.4.10",
  keyUsage: "2.5.29.15",
  extKeyUsage: "2.5.29.37",
  basicConstraints: "2.5.29.19",
  subjectAltName: "2.5.29.17",
  serverAuth: "1.3.6.1.5.5.7.3.1",
  clientAuth: "1.3.6.1.5.5.7.3.2",
};

/** How long the certificate is valid: it lives as long as one provider process. */
const VALIDITY_MS = 10 * 365 * 24 * 3600 * 1000;
/** Tolerates a client clock slightly behind ours. */
const BACKDATE_MS = 30 * 1000;

/**
 * Builds a self-signed X.509 v3 certificate for `publicKey`, signed with
 * `privateKey` (ECDSA P-256, SHA-256): CN and DNS SAN `localhost`,
 * serverAuth + clientAuth, CA (it is its own trust anchor), like go-plugin's.
 */
export function selfSignedCertificateDer(publicKey: KeyObject, privateKey: KeyObject, now = new Date()): Buffer {
  const algorithm = sequence(oid(OID.ecdsaWithSha256));
  const name = sequence(
    set(sequence(oid(OID.organization), utf8String("Terraform provider"))),
    set(sequence(oid(OID.commonName), utf8String("localhost"))),
  );
  // digitalSignature (bit 0) and keyCertSign (bit 5): 1000 0100, low 2 bits unused.
  const keyUsage = bitString(Buffer.of(0x84), 2);
  const serial = randomBytes(16);
  serial[0] = (serial[0] & 0x7f) | 0x01;
  const tbs = sequence(
    explicit(0, unsignedInteger(Buffer.of(2))),
    unsignedInteger(serial),
    algorithm,
    name,
    sequence(time(new Date(now.getTime() - BACKDATE_MS)), time(new Date(now.getTime() + VALIDITY_MS))),
    name,
    publicKey.export({ type: "spki", format: "der" }),
    explicit(
      3,
      sequence(
        extension(OID.keyUsage, true, keyUsage),
        extension(OID.extKeyUsage, false, sequence(oid(OID.serverAuth), oid(OID.clientAuth))),
        extension(OID.basicConstraints, true, sequence(TRUE)),
        extension(OID.subjectAltName, false, sequence(tlv(0x82, Buffer.from("localhost", "ascii")))),
      ),
    ),
  );
  const signature = sign("sha256", tbs, { key: privateKey, dsaEncoding: "der" });
  return sequence(tbs, algorithm, bitString(signature));
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
