// The JS SDK v3 web-identity credential provider (fromTokenFile) against podiam: a token of a
// hosted issuer in AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN set, and STS reached through
// AWS_ENDPOINT_URL_STS, as a pod's SDK reaches it. Also: a forged token is refused.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { IAMClient, CreateOpenIDConnectProviderCommand, CreateRoleCommand,
         GetOpenIDConnectProviderCommand } from "@aws-sdk/client-iam";
import { STSClient, GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { fromTokenFile } from "@aws-sdk/credential-providers";
import { startPodiam, config } from "./harness.mjs";

const ISSUER = "https://oidc.eks.us-east-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF";
const HOSTPATH = ISSUER.slice("https://".length);
const SUB = "system:serviceaccount:default:js-app";
let p;
let dir;

async function admin(pathname, body) {
  const r = await fetch(p.endpoint + "/_podiam/" + pathname, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await r.text();
  assert.ok(r.ok, `${pathname}: ${r.status} ${text}`);
  return JSON.parse(text);
}

before(async () => {
  p = await startPodiam();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "podiam-js-"));
  await admin("oidc/issuers", { url: ISSUER });
  const iam = new IAMClient(config(p));
  // No ThumbprintList: optional since 2023 (AWS ignores it for the issuers it trusts), still
  // required by Debian 12's aws CLI 2.9 and botocore 1.29, so this SDK is the one that tests
  // a provider created without one.
  const prov = await iam.send(new CreateOpenIDConnectProviderCommand({ Url: ISSUER, ClientIDList: ["sts.amazonaws.com"] }));
  const got = await iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: prov.OpenIDConnectProviderArn }));
  assert.deepEqual(got.ClientIDList, ["sts.amazonaws.com"]);
  assert.deepEqual(got.ThumbprintList ?? [], []);
  const trust = { Version: "2012-10-17", Statement: [{ Effect: "Allow",
    Principal: { Federated: prov.OpenIDConnectProviderArn }, Action: "sts:AssumeRoleWithWebIdentity",
    Condition: { StringEquals: { [HOSTPATH + ":sub"]: SUB, [HOSTPATH + ":aud"]: "sts.amazonaws.com" } } }] };
  await iam.send(new CreateRoleCommand({ RoleName: "js-irsa", AssumeRolePolicyDocument: JSON.stringify(trust) }));
});

after(async () => {
  await p.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

function podEnv(token) {
  const file = path.join(dir, `token-${Date.now()}`);
  fs.writeFileSync(file, token);
  process.env.AWS_WEB_IDENTITY_TOKEN_FILE = file;
  process.env.AWS_ROLE_ARN = "arn:aws:iam::000000000000:role/js-irsa";
  process.env.AWS_ROLE_SESSION_NAME = "js-pod";
  process.env.AWS_ENDPOINT_URL_STS = p.endpoint;
  process.env.AWS_REGION = "us-east-1";
}

test("fromTokenFile obtains role credentials", async () => {
  const { token } = await admin("oidc/token", { issuer: ISSUER, claims: { sub: SUB, aud: ["sts.amazonaws.com"] } });
  podEnv(token);
  const creds = await fromTokenFile()();
  assert.match(creds.accessKeyId, /^ASIA/);
  assert.ok(creds.expiration instanceof Date);
  const sts = new STSClient({ region: "us-east-1", endpoint: p.endpoint, credentials: creds, maxAttempts: 1 });
  const id = await sts.send(new GetCallerIdentityCommand({}));
  assert.equal(id.Arn, "arn:aws:sts::000000000000:assumed-role/js-irsa/js-pod");
});

test("fromTokenFile with a token for another service account is denied", async () => {
  const { token } = await admin("oidc/token", { issuer: ISSUER, claims: { sub: "system:serviceaccount:default:other", aud: ["sts.amazonaws.com"] } });
  podEnv(token);
  await assert.rejects(fromTokenFile()(), (e) => e.name === "AccessDenied" || /Not authorized/.test(e.message));
});

test("fromTokenFile with an altered token is refused", async () => {
  const { token } = await admin("oidc/token", { issuer: ISSUER, claims: { sub: SUB, aud: ["sts.amazonaws.com"] } });
  const [h, , s] = token.split(".");
  const forged = Buffer.from(JSON.stringify({ iss: ISSUER, sub: SUB, aud: ["sts.amazonaws.com"], exp: 4102444800 })).toString("base64url");
  podEnv(`${h}.${forged}.${s}`);
  await assert.rejects(fromTokenFile()(), (e) => e.name === "InvalidIdentityToken" || /could not be validated/.test(e.message));
});
