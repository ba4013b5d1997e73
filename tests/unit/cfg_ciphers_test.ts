/**
 * Cipher lists against the suites sluice's TLS negotiates: the OpenSSL
 * string evaluator (expected sets taken from `openssl ciphers -s -tls1_2` of
 * OpenSSL 3.0, restricted to the six suites), TLS 1.3 suite lists, and the
 * check that a list allows every suite in play.
 */
import assert from "node:assert/strict";
import { CfgAt } from "../../lib/cfg/cfg_at.ts";
import {
  cipherCheck,
  cipherListSet,
  cipherNeedOfKeys,
  cipherSuitesSet,
  TLS12,
} from "../../lib/cfg/cfg_ciphers.ts";

const at = new CfgAt({
  where: "t.cfg:3",
  section: "global",
  kw: "ssl-default-bind-ciphers",
  dir: "/",
});

/** The suite names a list allows, sorted. */
function allowed(list: string): string[] {
  const set = cipherListSet(at, list);
  return TLS12.filter((_, i) => set & (1 << i)).sort();
}

const E = [
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-CHACHA20-POLY1305",
];
const R = [
  "ECDHE-RSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-RSA-CHACHA20-POLY1305",
];
const ALL6 = [...E, ...R].sort();

Deno.test("cipherListSet(): OpenSSL aliases and operators, as openssl ciphers evaluates them", () => {
  for (const l of ["ALL", "HIGH", "DEFAULT", "ECDHE", "EECDH", "ECDH", "kECDHE", "TLSv1.2"]) {
    assert.deepEqual(allowed(l), ALL6, l);
  }
  assert.deepEqual(allowed("aRSA"), R);
  assert.deepEqual(allowed("ECDSA"), E);
  assert.deepEqual(allowed("aECDSA"), E);
  assert.deepEqual(allowed("AES128"), [E[0], R[0]].sort());
  assert.deepEqual(allowed("AES256"), [E[1], R[1]].sort());
  assert.deepEqual(allowed("CHACHA20"), [E[2], R[2]].sort());
  assert.deepEqual(allowed("AESGCM"), [E[0], E[1], R[0], R[1]].sort());
  assert.deepEqual(allowed("ECDH+AESGCM"), [E[0], E[1], R[0], R[1]].sort());
  assert.deepEqual(allowed("kEECDH+aRSA"), R);
  assert.deepEqual(allowed("ECDHE+CHACHA20"), [E[2], R[2]].sort());
  // Aliases that match none of the six (other key exchanges, MACs, weaker suites).
  for (
    const l of ["RSA", "kRSA", "AEAD", "SHA256", "SHA384", "MEDIUM", "aNULL", "AESCCM", "nonsense"]
  ) {
    assert.deepEqual(allowed(l), [], l);
  }
  // Operators: ! removes for good, - removes until added again, + only moves.
  assert.deepEqual(allowed("HIGH:!aNULL:!MD5"), ALL6);
  assert.deepEqual(allowed("ALL:!aRSA"), E);
  assert.deepEqual(allowed("ALL:!aRSA:aRSA"), E, "! is for good");
  assert.deepEqual(allowed("ALL:-aRSA:aRSA"), ALL6, "- is not");
  assert.deepEqual(allowed("ALL:+CHACHA20:@STRENGTH:@SECLEVEL=2"), ALL6);
  // Mozilla's intermediate list, and an explicit partial one.
  const mozilla = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" +
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:" +
    "ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:" +
    "DHE-RSA-CHACHA20-POLY1305";
  assert.deepEqual(allowed(mozilla), ALL6);
  assert.deepEqual(allowed("ECDHE-RSA-AES128-GCM-SHA256,ECDHE-RSA-AES256-GCM-SHA384"), [
    R[0],
    R[1],
  ]);
  assert.throws(() => cipherListSet(at, "SUITEB128"), /Suite B modes are not supported/);
});

Deno.test("cipherSuitesSet(): TLS 1.3 names only", () => {
  assert.equal(
    cipherSuitesSet(
      at,
      "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256",
    ),
    0b111,
  );
  assert.equal(cipherSuitesSet(at, "TLS_AES_256_GCM_SHA384:TLS_AES_128_CCM_SHA256"), 0b010);
  assert.throws(
    () => cipherSuitesSet(at, "TLS_AES_256_GCM_SHA384:ECDHE-RSA-AES128-GCM-SHA256"),
    /"ECDHE-RSA-AES128-GCM-SHA256" is not a TLS 1.3 cipher suite/,
  );
});

Deno.test("cipherCheck(): a list must allow every suite in play (by key type and version)", () => {
  const ecOnly = cipherListSet(at, E.join(":"));
  const need = (types: string[]) => cipherNeedOfKeys(types);
  // ECDSA certificates negotiate only ECDSA suites: an ECDSA-only list is honoured.
  cipherCheck(at, { ciphers: { set: ecOnly, where: "t.cfg:3" } }, {
    need12: need(["ec"]),
    tls12: true,
    tls13: true,
  });
  assert.throws(
    () =>
      cipherCheck(at, { ciphers: { set: ecOnly, where: "t.cfg:3" } }, {
        need12: need(["ec", "rsa"]),
        tls12: true,
        tls13: true,
      }),
    /t\.cfg:3: the cipher list \(t\.cfg:3\) leaves out ECDHE-RSA-AES128-GCM-SHA256, ECDHE-RSA-AES256-GCM-SHA384, ECDHE-RSA-CHACHA20-POLY1305, which sluice's TLS would still negotiate/,
  );
  // With TLS 1.2 off the TLS 1.2 list does not matter.
  cipherCheck(at, { ciphers: { set: 0, where: "t.cfg:3" } }, {
    need12: need(["rsa"]),
    tls12: false,
    tls13: true,
  });
  assert.throws(
    () =>
      cipherCheck(at, { suites: { set: 0b011, where: "t.cfg:4" } }, {
        need12: 0,
        tls12: true,
        tls13: true,
      }),
    /the cipher suites \(t\.cfg:4\) leave out TLS_CHACHA20_POLY1305_SHA256/,
  );
  cipherCheck(at, { suites: { set: 0b011, where: "t.cfg:4" } }, {
    need12: 0,
    tls12: true,
    tls13: false,
  });
});
