// The Node helpers' own tests (node:test), with the real JS SDK v3: two podiams started in
// parallel, a checkpoint (snapshot) per test, fresh accounts, decision assertions, the
// least-privilege round trip. The SDK comes from the project using the helpers; here from
// tests/e2e/js/node_modules (installed by .ci/setup) or PODIAM_JS_SDK_DIR.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import path from "node:path";
import { after, afterEach, before, beforeEach, describe, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";

import { Podiam, PodiamError, startMany } from "../index.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const sdkDir = process.env.PODIAM_JS_SDK_DIR ||
  path.join(here, "..", "..", "..", "tests", "e2e", "js");
const req = createRequire(path.join(sdkDir, "package.json"));
async function sdk(name) {
  return import(pathToFileURL(req.resolve(name)).href);
}
let S3, IAM, STS, missing;
try {
  S3 = await sdk("@aws-sdk/client-s3");
  IAM = await sdk("@aws-sdk/client-iam");
  STS = await sdk("@aws-sdk/client-sts");
} catch (e) {
  missing = `the JS SDK v3 is not installed in ${sdkDir} (.ci/setup installs it): ${e.message}`;
}

const ACCOUNT = "000000000000";
const TRUST = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow",
  Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: "sts:AssumeRole" }] });
const POLICY = JSON.stringify({ Version: "2012-10-17", Statement: [
  { Sid: "Data", Effect: "Allow", Action: "s3:*", Resource: "*" },
  { Sid: "NoDelete", Effect: "Deny", Action: "s3:DeleteObject", Resource: "arn:aws:s3:::data/keep/*" }] });

describe("podiam helpers for Node", { skip: missing }, () => {
  let a, b, ci, undo;

  async function roleCreds(p, role) {
    const out = await p.client(STS.STSClient, ci).send(new STS.AssumeRoleCommand({
      RoleArn: `arn:aws:iam::${ACCOUNT}:role/${role}`, RoleSessionName: "node-test" }));
    const c = out.Credentials;
    return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };
  }

  async function keys(p, creds) {
    const out = await p.client(S3.S3Client, creds).send(new S3.ListObjectsV2Command({ Bucket: "data" }));
    return (out.Contents || []).map((o) => o.Key).sort();
  }

  before(async () => {
    const t0 = Date.now();
    [a, b] = await startMany(2);
    console.log(`two podiams ready in ${Date.now() - t0} ms: ${a.endpoint} ${b.endpoint}`);
    // the setup every test starts from (kept by the checkpoints)
    const iam = a.client(IAM.IAMClient);
    await iam.send(new IAM.CreateUserCommand({ UserName: "ci" }));
    await iam.send(new IAM.AttachUserPolicyCommand({ UserName: "ci",
      PolicyArn: "arn:aws:iam::aws:policy/AdministratorAccess" }));
    const k = (await iam.send(new IAM.CreateAccessKeyCommand({ UserName: "ci" }))).AccessKey;
    ci = { accessKeyId: k.AccessKeyId, secretAccessKey: k.SecretAccessKey };
    await iam.send(new IAM.CreateRoleCommand({ RoleName: "app", AssumeRolePolicyDocument: TRUST }));
    await iam.send(new IAM.PutRolePolicyCommand({ RoleName: "app", PolicyName: "app", PolicyDocument: POLICY }));
    await a.client(S3.S3Client).send(new S3.CreateBucketCommand({ Bucket: "data" }));
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });
  beforeEach(async () => {
    undo = await a.checkpoint();
  });
  afterEach(async () => {
    await undo();
  });

  test("the instances are independent", async () => {
    assert.notEqual(a.endpoint, b.endpoint);
    assert.notEqual(a.ready.pid, b.ready.pid);
    const out = await b.client(S3.S3Client).send(new S3.ListBucketsCommand({}));
    assert.deepEqual(out.Buckets || [], []);
  });

  test("a test writes", async () => {
    await a.client(S3.S3Client).send(new S3.PutObjectCommand({ Bucket: "data", Key: "w", Body: "x" }));
    assert.deepEqual(await keys(a), ["w"]);
  });

  test("the next test does not see it", async () => {
    assert.deepEqual(await keys(a), []);
  });

  test("expectDenied names the statement; assertNoDenials", async () => {
    const creds = await roleCreds(a, "app");
    const s3 = a.client(S3.S3Client, creds);
    const mark = await a.mark();
    await s3.send(new S3.PutObjectCommand({ Bucket: "data", Key: "keep/1", Body: "x" }));
    await a.assertNoDenials(mark);
    const { error, decision } = await a.expectDenied(
      () => s3.send(new S3.DeleteObjectCommand({ Bucket: "data", Key: "keep/1" })),
      { action: "s3:DeleteObject", decision: "explicitDeny", policy: "role/app/app", statement: "NoDelete" });
    assert.equal(error.name, "AccessDenied");
    assert.equal(decision.decision, "explicitDeny");
    await assert.rejects(a.assertNoDenials(mark), /1 unexpected denial\(s\)[\s\S]*s3:DeleteObject/);
    await a.assertNoDenials(mark, [{ action: "s3:DeleteObject" }]);
    await assert.rejects(a.expectDenied(() => s3.send(new S3.GetObjectCommand({ Bucket: "data", Key: "keep/1" }))),
      /not denied/);
    await assert.rejects(a.expectDenied(
      () => s3.send(new S3.DeleteObjectCommand({ Bucket: "data", Key: "keep/1" })), { statement: "Data" }),
      /NoDelete/);
  });

  test("fresh accounts do not see each other", async () => {
    const acc = await a.createAccount();
    try {
      const iam = a.client(IAM.IAMClient, acc.credentials);
      await iam.send(new IAM.CreateRoleCommand({ RoleName: "only-here", AssumeRolePolicyDocument: TRUST }));
      const mine = (await iam.send(new IAM.ListRolesCommand({}))).Roles.map((r) => r.RoleName);
      const theirs = (await a.client(IAM.IAMClient).send(new IAM.ListRolesCommand({}))).Roles.map((r) => r.RoleName);
      assert.deepEqual(mine, ["only-here"]);
      assert.ok(!theirs.includes("only-here"));
      const who = await a.client(STS.STSClient, acc.credentials).send(new STS.GetCallerIdentityCommand({}));
      assert.equal(who.Account, acc.id);
    } finally {
      await acc.delete();
    }
  });

  test("the least-privilege policy lets the run pass and denies the rest", async () => {
    const run = async (s3) => {
      await s3.send(new S3.PutObjectCommand({ Bucket: "data", Key: "in/1", Body: "1" }));
      await s3.send(new S3.GetObjectCommand({ Bucket: "data", Key: "in/1" }));
    };
    const mark = await a.mark();
    await run(a.client(S3.S3Client, await roleCreds(a, "app")));
    const policy = await a.leastPrivilegePolicy(`arn:aws:iam::${ACCOUNT}:role/app`, mark);
    assert.equal(policy.Version, "2012-10-17");
    const iam = a.client(IAM.IAMClient);
    await iam.send(new IAM.CreateRoleCommand({ RoleName: "narrow", AssumeRolePolicyDocument: TRUST }));
    await iam.send(new IAM.PutRolePolicyCommand({ RoleName: "narrow", PolicyName: "generated",
      PolicyDocument: JSON.stringify(policy) }));
    const narrow = a.client(S3.S3Client, await roleCreds(a, "narrow"));
    const mark2 = await a.mark();
    await run(narrow);
    await a.assertNoDenials(mark2);
    await a.expectDenied(() => narrow.send(new S3.PutObjectCommand({ Bucket: "data", Key: "other", Body: "x" })),
      { action: "s3:PutObject", decision: "implicitDeny" });
  });

  test("bad snapshot names and missing snapshots are errors", async () => {
    await assert.rejects(a.snapshot("../x"), (e) => e instanceof PodiamError && e.status === 400);
    await assert.rejects(a.restore("never"), (e) => e.status === 404 && e.code === "NoSuchSnapshot");
  });
});

test("connect() to a running podiam; a mark the log dropped is an error", { skip: missing }, async () => {
  const p = await Podiam.start({ decisionLogSize: 100 });
  try {
    const c = await Podiam.connect(p.endpoint);
    const mark = await c.mark();
    const s3 = c.client(S3.S3Client);
    for (let i = 0; i < 110; i++) await s3.send(new S3.ListBucketsCommand({}));
    await assert.rejects(c.decisions(mark), (e) => e.status === 410);
    await assert.rejects(c.report({ since: mark }), (e) => e.status === 410);
    assert.equal((await c.report({ since: mark, allowPartial: true })).complete, false);
    await c.stop(); // connected: leaves the process running
    await c.health().catch(() => assert.fail("connect().stop() stopped podiam"));
  } finally {
    await p.stop();
  }
});
