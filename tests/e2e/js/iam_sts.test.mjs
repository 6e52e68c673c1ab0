// The JS SDK v3 against podiam: IAM users, keys and roles; STS identities; a bad signature.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { IAMClient, CreateUserCommand, GetUserCommand, ListUsersCommand, CreateAccessKeyCommand,
         CreateRoleCommand, GetRoleCommand, DeleteUserCommand, DeleteAccessKeyCommand,
         DeleteRoleCommand } from "@aws-sdk/client-iam";
import { STSClient, GetCallerIdentityCommand, GetSessionTokenCommand } from "@aws-sdk/client-sts";
import { startPodiam, config } from "./harness.mjs";

let p;
before(async () => { p = await startPodiam(); });
after(async () => { await p.stop(); });

test("root identity", async () => {
  const sts = new STSClient(config(p));
  const id = await sts.send(new GetCallerIdentityCommand({}));
  assert.equal(id.Account, "000000000000");
  assert.equal(id.Arn, "arn:aws:iam::000000000000:root");
});

test("user, key, session", async () => {
  const iam = new IAMClient(config(p));
  const u = await iam.send(new CreateUserCommand({ UserName: "js-user", Path: "/js/" }));
  assert.equal(u.User.Arn, "arn:aws:iam::000000000000:user/js/js-user");
  assert.match(u.User.UserId, /^AIDA[A-Z2-7]{17}$/);
  assert.ok(u.User.CreateDate instanceof Date);
  const got = await iam.send(new GetUserCommand({ UserName: "JS-USER" }));
  assert.equal(got.User.UserName, "js-user");
  const list = await iam.send(new ListUsersCommand({ PathPrefix: "/js/" }));
  assert.deepEqual(list.Users.map((x) => x.UserName), ["js-user"]);

  const k = await iam.send(new CreateAccessKeyCommand({ UserName: "js-user" }));
  const userCreds = { accessKeyId: k.AccessKey.AccessKeyId, secretAccessKey: k.AccessKey.SecretAccessKey };
  const sts = new STSClient(config(p, userCreds));
  const id = await sts.send(new GetCallerIdentityCommand({}));
  assert.equal(id.Arn, u.User.Arn);
  assert.equal(id.UserId, u.User.UserId);

  const st = await sts.send(new GetSessionTokenCommand({ DurationSeconds: 900 }));
  assert.match(st.Credentials.AccessKeyId, /^ASIA/);
  const sess = new STSClient(config(p, { accessKeyId: st.Credentials.AccessKeyId,
    secretAccessKey: st.Credentials.SecretAccessKey, sessionToken: st.Credentials.SessionToken }));
  const sid = await sess.send(new GetCallerIdentityCommand({}));
  assert.equal(sid.Arn, u.User.Arn);

  await iam.send(new DeleteAccessKeyCommand({ UserName: "js-user", AccessKeyId: k.AccessKey.AccessKeyId }));
  await iam.send(new DeleteUserCommand({ UserName: "js-user" }));
});

test("role with a trust policy", async () => {
  const iam = new IAMClient(config(p));
  const trust = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow",
    Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }] });
  await iam.send(new CreateRoleCommand({ RoleName: "js-role", AssumeRolePolicyDocument: trust,
                                         Tags: [{ Key: "team", Value: "js" }] }));
  const r = await iam.send(new GetRoleCommand({ RoleName: "js-role" }));
  assert.equal(r.Role.Arn, "arn:aws:iam::000000000000:role/js-role");
  assert.deepEqual(JSON.parse(decodeURIComponent(r.Role.AssumeRolePolicyDocument)), JSON.parse(trust));
  assert.deepEqual(r.Role.Tags, [{ Key: "team", Value: "js" }]);
  await iam.send(new DeleteRoleCommand({ RoleName: "js-role" }));
});

test("errors: NoSuchEntity and a wrong secret", async () => {
  const iam = new IAMClient(config(p));
  await assert.rejects(iam.send(new GetUserCommand({ UserName: "ghost" })),
    (e) => e.name === "NoSuchEntityException" || e.Code === "NoSuchEntity");
  const bad = new STSClient(config(p, { accessKeyId: "test", secretAccessKey: "wrong" }));
  await assert.rejects(bad.send(new GetCallerIdentityCommand({})),
    (e) => e.name === "SignatureDoesNotMatch" && e.$metadata.httpStatusCode === 403);
});
