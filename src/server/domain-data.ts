/**
 * The realistic parts of a domain that a real Postscale derives from mail
 * traffic (stats, DMARC reports) are generated here, deterministically
 * from the domain name, so the same domain always shows the same numbers.
 */
import { createHash, generateKeyPairSync, randomBytes } from "node:crypto";

/** A small seeded PRNG (mulberry32) over a SHA-256 of the seed text. */
function rng(seed: string): () => number {
  let a = createHash("sha256").update(seed).digest().readUInt32BE(0);
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function dayString(offsetDays: number, now = Date.now()): string {
  return new Date(Math.floor(now / 86_400_000) * 86_400_000 - offsetDays * 86_400_000).toISOString().slice(0, 10);
}

/** A new DKIM key (Ed25519, RFC 8463): selector and the public key as published in DNS. */
export function newDkimKey(): { selector: string; publicKey: string } {
  const { publicKey } = generateKeyPairSync("ed25519");
  const der = publicKey.export({ type: "spki", format: "der" });
  const stamp = new Date().toISOString().slice(0, 10).replace(/-/g, "");
  return { selector: `ps${stamp}${randomBytes(2).toString("hex")}`, publicKey: der.subarray(der.length - 32).toString("base64") };
}

/** The DNS records a domain must publish; each is "verified" once the domain is. */
export function dnsRecords(domain: { name: string; status: string; dkim_selector: string; dkim_public_key: string }) {
  const status = domain.status === "verified" ? "verified" : "pending";
  return [
    { type: "MX", host: domain.name, value: "mx1.postscale.dev", priority: 10, purpose: "inbound", status },
    { type: "MX", host: domain.name, value: "mx2.postscale.dev", priority: 20, purpose: "inbound", status },
    { type: "TXT", host: domain.name, value: "v=spf1 include:spf.postscale.dev ~all", priority: null, purpose: "spf", status },
    { type: "TXT", host: `${domain.dkim_selector}._domainkey.${domain.name}`, value: `v=DKIM1; k=ed25519; p=${domain.dkim_public_key}`, priority: null, purpose: "dkim", status },
    { type: "TXT", host: `_dmarc.${domain.name}`, value: `v=DMARC1; p=none; rua=mailto:dmarc-reports@postscale.dev`, priority: null, purpose: "dmarc", status },
  ];
}

const statsMemo = new Map<string, unknown>();

/** Per-day delivery stats for the last `days` days (UTC), oldest first, plus totals. */
export function domainStats(name: string, days: number, now = Date.now()) {
  const key = `${name}|${days}|${dayString(0, now)}`;
  const hit = statsMemo.get(key);
  if (hit) return hit;
  const base = 200 + Math.floor(rng(`${name}:volume`)() * 5000);
  const daily = [];
  const totals = { sent: 0, delivered: 0, bounced: 0, complained: 0, opened: 0 };
  for (let i = days - 1; i >= 0; i--) {
    const date = dayString(i, now);
    const r = rng(`${name}:${date}`);
    const sent = Math.floor(base * (0.7 + r() * 0.6));
    const bounced = Math.floor(sent * (0.005 + r() * 0.025));
    const delivered = sent - bounced;
    const complained = Math.floor(delivered * r() * 0.002);
    const opened = Math.floor(delivered * (0.2 + r() * 0.3));
    daily.push({ date, sent, delivered, bounced, complained, opened });
    totals.sent += sent;
    totals.delivered += delivered;
    totals.bounced += bounced;
    totals.complained += complained;
    totals.opened += opened;
  }
  const stats = { domain: name, from: daily[0].date, to: daily[daily.length - 1].date, totals, daily };
  if (statsMemo.size > 10_000) statsMemo.clear();
  statsMemo.set(key, stats);
  return stats;
}

const REPORTERS = ["google.com", "outlook.com", "yahoo.com", "mail.ru", "comcast.net"];

/** Aggregate DMARC reports of the last few days: who sent as the domain, and whether SPF/DKIM aligned. */
export function dmarcReports(name: string, now = Date.now()) {
  const reports = [];
  let pass = 0;
  let fail = 0;
  for (let i = 3; i >= 1; i--) {
    const date = dayString(i, now);
    const r = rng(`${name}:dmarc:${date}`);
    const records = [];
    const sources = 2 + Math.floor(r() * 3);
    for (let s = 0; s < sources; s++) {
      const ours = s < 2;
      const count = 1 + Math.floor(r() * (ours ? 900 : 40));
      const spf = ours || r() > 0.7 ? "pass" : "fail";
      const dkim = ours ? "pass" : r() > 0.8 ? "pass" : "fail";
      const aligned = spf === "pass" || dkim === "pass";
      if (aligned) pass += count;
      else fail += count;
      records.push({
        source_ip: ours ? `198.51.100.${10 + s}` : `203.0.113.${Math.floor(r() * 250) + 1}`,
        count,
        spf,
        dkim,
        disposition: aligned ? "none" : "quarantine",
      });
    }
    reports.push({ id: `${date}-${REPORTERS[i % REPORTERS.length]}`, reporter: REPORTERS[(i + name.length) % REPORTERS.length], begin: `${date}T00:00:00.000Z`, end: `${date}T23:59:59.000Z`, records });
  }
  return { domain: name, policy: "none", totals: { pass, fail }, reports };
}

/** Warming: the daily sending limit doubles each day from 50, capped. */
export function warmingLimit(day: number): number {
  return day <= 0 ? 0 : Math.min(50 * 2 ** (day - 1), 100_000);
}
