/**
 * The provider's AutoMTLS certificate, written from fixed DER pieces
 * (src/provider/protocol/certificate.ts), read back by parsers that share
 * nothing with it: Node's X509Certificate and the openssl CLI. What the
 * engine needs: a certificate it can parse and pin, for `localhost`, for
 * serverAuth, valid now, signed by its own key.
 */
import { execFileSync } from "node:child_process";
import { X509Certificate, createPrivateKey, createPublicKey, generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateServerCertificate, p256SubjectPublicKeyInfo, selfSignedCertificateDer } from "../../../src/provider/protocol/certificate";

function openssl(args: string[], input?: Buffer): string {
  return execFileSync("openssl", args, { input, encoding: "utf8" });
}

describe("the provider's self-signed certificate", () => {
  const certificate = generateServerCertificate();
  const x509 = new X509Certificate(certificate.der);

  it("is for localhost, in subject and SAN, and names the provider", () => {
    expect(x509.subject.split("\n")).toEqual(["O=Terraform provider", "CN=localhost"]);
    expect(x509.issuer).toBe(x509.subject);
    expect(x509.subjectAltName).toBe("DNS:localhost");
    expect(x509.checkHost("localhost")).toBe("localhost");
    expect(x509.checkHost("example.com")).toBeUndefined();
  });

  it("is signed by its own key, which is the key the TLS server gets", () => {
    expect(x509.verify(x509.publicKey)).toBe(true);
    expect(x509.checkPrivateKey(createPrivateKey(certificate.keyPem))).toBe(true);
    expect(new X509Certificate(certificate.certPem).raw.equals(certificate.der)).toBe(true);
    expect(createPublicKey(certificate.keyPem).asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
  });

  it("is valid from just before now for years", () => {
    const now = Date.now();
    const from = Date.parse(x509.validFrom);
    const to = Date.parse(x509.validTo);
    expect(from).toBeLessThanOrEqual(now);
    expect(now - from).toBeLessThan(5 * 60 * 1000);
    expect(to - now).toBeGreaterThan(365 * 24 * 3600 * 1000);
  });

  it("reads in openssl as a v3 ECDSA P-256 CA for server and client auth, with critical key usage", () => {
    const text = openssl(["x509", "-inform", "DER", "-noout", "-text"], certificate.der);
    expect(text).toMatch(/Version: 3 \(0x2\)/);
    expect(text).toMatch(/Signature Algorithm: ecdsa-with-SHA256/);
    expect(text).toMatch(/Public Key Algorithm: id-ecPublicKey/);
    expect(text).toMatch(/NIST CURVE: P-256/);
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Digital Signature, Certificate Sign/);
    expect(text).toMatch(/X509v3 Extended Key Usage:\s*\n\s+TLS Web Server Authentication, TLS Web Client Authentication/);
    expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE/);
    expect(text).toMatch(/X509v3 Subject Alternative Name:\s*\n\s+DNS:localhost/);
  });

  it("verifies in openssl against itself as the only trust anchor, for TLS server use", () => {
    const dir = mkdtempSync(join(tmpdir(), "provider-cert-"));
    try {
      const pem = join(dir, "cert.pem");
      writeFileSync(pem, certificate.certPem);
      expect(openssl(["verify", "-purpose", "sslserver", "-CAfile", pem, pem]).trim()).toBe(`${pem}: OK`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("is DER that openssl re-encodes to the same bytes (no non-canonical encodings)", () => {
    const reencoded = execFileSync("openssl", ["x509", "-inform", "DER", "-outform", "DER"], { input: certificate.der });
    expect(Buffer.compare(reencoded, certificate.der)).toBe(0);
  });

  it("has a fresh key and a 16-byte positive serial every time", () => {
    const other = new X509Certificate(generateServerCertificate().der);
    expect(other.publicKey.equals(x509.publicKey)).toBe(false);
    expect(other.serialNumber).not.toBe(x509.serialNumber);
    for (const serial of [x509.serialNumber, other.serialNumber]) {
      expect(serial).toMatch(/^[0-7][0-9A-F]{31}$/);
      expect(serial.startsWith("00")).toBe(false);
    }
  });
});

describe("certificate fields at the edges", () => {
  const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });

  it("writes the public key as the SubjectPublicKeyInfo Node itself would", () => {
    for (let i = 0; i < 20; i++) {
      const key = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey;
      expect(p256SubjectPublicKeyInfo(key).equals(key.export({ type: "spki", format: "der" }))).toBe(true);
    }
  });

  it("refuses a key that is not P-256 rather than writing a wrong certificate", () => {
    const p384 = generateKeyPairSync("ec", { namedCurve: "P-384" }).publicKey;
    expect(() => p256SubjectPublicKeyInfo(p384)).toThrow(/P-256/);
  });

  it("uses UTCTime through 2049 and GeneralizedTime from 2050 (RFC 5280)", () => {
    const cases: Array<[string, RegExp, RegExp]> = [
      ["2026-12-02T04:05:06Z", /UTCTIME\s+:261202040436Z/, /UTCTIME\s+:361129040506Z/],
      ["2045-01-01T00:00:00Z", /UTCTIME\s+:441231235930Z/, /GENERALIZEDTIME\s+:20541230000000Z/],
    ];
    for (const [now, notBefore, notAfter] of cases) {
      const parsed = openssl(["asn1parse", "-inform", "DER"], selfSignedCertificateDer(publicKey, privateKey, new Date(now)));
      expect(parsed).toMatch(notBefore);
      expect(parsed).toMatch(notAfter);
      const x509 = new X509Certificate(selfSignedCertificateDer(publicKey, privateKey, new Date(now)));
      expect(Date.parse(x509.validFrom)).toBe(Date.parse(now) - 30_000);
    }
  });
});

