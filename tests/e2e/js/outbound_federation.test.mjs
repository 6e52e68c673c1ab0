// Outbound identity federation with the JS SDK v3: IAM's account switch, STS
// GetWebIdentityToken, and the token verified as an external service verifies it (the
// issuer's discovery document and JWKS, node:crypto). tests/e2e/test_sts_more.py covers more
// with boto3; Debian 12's boto3 1.26 predates these operations, so there this module runs them.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createPublicKey, verify } from "node:crypto";
import { IAMClient, EnableOutboundWebIdentityFederationCommand,
         GetOutboundWebIdentityFederationInfoCommand,
         DisableOutboundWebIdentityFederationCommand } from "@aws-sdk/client-iam";
import { STSClient, GetWebIdentityTokenCommand } from "@aws-sdk/client-sts";
import { startPodiam, config } from "./harness.mjs";

let p, iam, sts;
before(async () => {
  p = await startPodiam();
  iam = new IAMClient(config(p));
  sts = new STSClient(config(p));
});
after(async () => { await p.stop(); });

const b64json = (s) => JSON.parse(Buffer.from(s, "base64url").toString());

async function fetchJson(url) {
  const r = await fetch(url);
  assert.equal(r.status, 200, url);
  return r.json();
}

test("disabled, enabled, tokens verify with the issuer's keys, disabled again", async () => {
  await assert.rejects(sts.send(new GetWebIdentityTokenCommand({ Audience: ["x"], SigningAlgorithm: "RS256" })),
                       (e) => e.name === "OutboundWebIdentityFederationDisabledException");
  const { IssuerIdentifier: issuer } = await iam.send(new EnableOutboundWebIdentityFederationCommand({}));
  assert.match(issuer, /^https:\/\/[0-9a-f-]{36}\.tokens\.sts\.global\.api\.aws$/);
  const info = await iam.send(new GetOutboundWebIdentityFederationInfoCommand({}));
  assert.deepEqual([info.IssuerIdentifier, info.JwtVendingEnabled], [issuer, true]);

  // the issuer's documents, served by podiam under its own address
  const disc = await fetchJson(`${p.endpoint}/_podiam/oidc/${issuer.slice(8)}/.well-known/openid-configuration`);
  assert.equal(disc.issuer, issuer);
  const keys = (await fetchJson(disc.jwks_uri)).keys;
  for (const alg of ["RS256", "ES384"]) {
    const out = await sts.send(new GetWebIdentityTokenCommand({ Audience: ["https://api.example.com"],
      SigningAlgorithm: alg, DurationSeconds: 120 }));
    const [h, c, s] = out.WebIdentityToken.split(".");
    const header = b64json(h), claims = b64json(c);
    assert.equal(header.alg, alg);
    const jwk = keys.find((k) => k.kid === header.kid);
    assert.ok(jwk, "the token's kid is in the JWKS");
    const key = createPublicKey({ key: jwk, format: "jwk" });
    const opts = alg === "ES384" ? { key, dsaEncoding: "ieee-p1363" } : key;
    const good = verify(alg === "ES384" ? "sha384" : "sha256", Buffer.from(`${h}.${c}`), opts,
                        Buffer.from(s, "base64url"));
    assert.ok(good, `${alg} signature verifies`);
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: "arn:aws:iam::000000000000:role/x" })).toString("base64url");
    assert.ok(!verify(alg === "ES384" ? "sha384" : "sha256", Buffer.from(`${h}.${forged}`), opts,
                      Buffer.from(s, "base64url")), "a forged token does not verify");
    assert.equal(claims.iss, issuer);
    assert.equal(claims.aud, "https://api.example.com");
    assert.equal(claims.sub, "arn:aws:iam::000000000000:root");
    assert.equal(claims.exp - claims.iat, 120);
    assert.ok(out.Expiration instanceof Date);
  }
  await iam.send(new DisableOutboundWebIdentityFederationCommand({}));
  await assert.rejects(sts.send(new GetWebIdentityTokenCommand({ Audience: ["x"], SigningAlgorithm: "RS256" })),
                       (e) => e.name === "OutboundWebIdentityFederationDisabledException");
});
