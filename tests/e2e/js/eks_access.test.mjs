// EKS access entries, access policies and authentication modes with the JS SDK v3.
// tests/e2e/test_eks_access.py covers the same with boto3 and the aws CLI; Debian 12's boto3
// 1.26 and aws CLI 2.9 predate access entries, so there this module is what runs them.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { EKSClient, CreateClusterCommand, DescribeClusterCommand, UpdateClusterConfigCommand,
         CreateAccessEntryCommand, DescribeAccessEntryCommand, ListAccessEntriesCommand,
         UpdateAccessEntryCommand, DeleteAccessEntryCommand, AssociateAccessPolicyCommand,
         DisassociateAccessPolicyCommand, ListAssociatedAccessPoliciesCommand,
         paginateListAccessEntries, paginateListAccessPolicies } from "@aws-sdk/client-eks";
import { IAMClient, CreateRoleCommand, CreateUserCommand, PutUserPolicyCommand,
         CreateAccessKeyCommand } from "@aws-sdk/client-iam";
import { startPodiam, config } from "./harness.mjs";

const ACCT = "000000000000";
const POLICY = "arn:aws:eks::aws:cluster-access-policy/";
const MODE_MSG = "The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] " +
  "to perform this operation.";
const trust = (principal) => JSON.stringify({ Version: "2012-10-17", Statement: [{
  Effect: "Allow", Principal: principal, Action: "sts:AssumeRole" }] });

let p, eks, iam, clusterRole, devs, node;
before(async () => {
  p = await startPodiam();
  eks = new EKSClient(config(p));
  iam = new IAMClient(config(p));
  clusterRole = (await iam.send(new CreateRoleCommand({ RoleName: "eks-cluster",
    AssumeRolePolicyDocument: trust({ Service: "eks.amazonaws.com" }) }))).Role.Arn;
  devs = (await iam.send(new CreateRoleCommand({ RoleName: "devs", Path: "/team/",
    AssumeRolePolicyDocument: trust({ AWS: `arn:aws:iam::${ACCT}:root` }) }))).Role.Arn;
  node = (await iam.send(new CreateRoleCommand({ RoleName: "node",
    AssumeRolePolicyDocument: trust({ AWS: `arn:aws:iam::${ACCT}:root` }) }))).Role.Arn;
});
after(async () => { await p.stop(); });

async function cluster(name, accessConfig) {
  await eks.send(new CreateClusterCommand({ name, roleArn: clusterRole,
    resourcesVpcConfig: { subnetIds: ["subnet-a"] }, accessConfig }));
}

// The error as the SDK hands it over: [name, message, HTTP status].
async function failure(client, command) {
  try {
    await client.send(command);
  } catch (e) {
    return [e.name, e.message, e.$metadata.httpStatusCode];
  }
  assert.fail("expected an error");
}

test("authentication modes move one way; the creator's entry appears with the API", async () => {
  await cluster("legacy");
  const c = (await eks.send(new DescribeClusterCommand({ name: "legacy" }))).cluster;
  assert.deepEqual(c.accessConfig, { authenticationMode: "CONFIG_MAP",
                                     bootstrapClusterCreatorAdminPermissions: true });
  assert.deepEqual(await failure(eks, new ListAccessEntriesCommand({ clusterName: "legacy" })),
                   ["InvalidRequestException", MODE_MSG, 400]);
  assert.deepEqual((await failure(eks, new UpdateClusterConfigCommand({ name: "legacy",
    accessConfig: { authenticationMode: "API" } }))).slice(0, 2),
    ["InvalidParameterException", "Unsupported authentication mode update from CONFIG_MAP to API"]);
  const u = (await eks.send(new UpdateClusterConfigCommand({ name: "legacy",
    accessConfig: { authenticationMode: "API_AND_CONFIG_MAP" } }))).update;
  assert.equal(u.type, "AccessConfigUpdate");
  assert.deepEqual(u.params, [{ type: "AuthenticationMode", value: "\"API_AND_CONFIG_MAP\"" }]);
  const root = `arn:aws:iam::${ACCT}:root`;
  assert.deepEqual((await eks.send(new ListAccessEntriesCommand({ clusterName: "legacy" })))
    .accessEntries, [root]);
  const pols = (await eks.send(new ListAssociatedAccessPoliciesCommand({ clusterName: "legacy",
    principalArn: root }))).associatedAccessPolicies;
  assert.deepEqual(pols.map((x) => [x.policyArn, x.accessScope.type]),
                   [[POLICY + "AmazonEKSClusterAdminPolicy", "cluster"]]);
});

test("entries and access policies: create, errors, associate, list, page, update, delete", async () => {
  await cluster("js", { authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: false });
  const e = (await eks.send(new CreateAccessEntryCommand({ clusterName: "js", principalArn: devs,
    kubernetesGroups: ["pulumi:devs"], tags: { team: "apps" } }))).accessEntry;
  assert.equal(e.username, `arn:aws:sts::${ACCT}:assumed-role/devs/{{SessionName}}`);
  assert.equal(e.type, "STANDARD");
  assert.ok(e.createdAt instanceof Date);
  assert.ok(e.accessEntryArn.startsWith(`arn:aws:eks:us-east-1:${ACCT}:access-entry/js/role/${ACCT}/devs/`));
  assert.deepEqual(await failure(eks, new CreateAccessEntryCommand({ clusterName: "js",
    principalArn: devs })), ["ResourceInUseException",
    "The specified access entry resource is already in use on this cluster.", 409]);
  assert.deepEqual((await failure(eks, new CreateAccessEntryCommand({ clusterName: "js",
    principalArn: node, kubernetesGroups: ["system:masters"] }))).slice(0, 2),
    ["InvalidParameterException", "The kubernetes group name system:masters is invalid, it cannot start with system:"]);
  const n = (await eks.send(new CreateAccessEntryCommand({ clusterName: "js", principalArn: node,
    type: "EC2_LINUX" }))).accessEntry;
  assert.deepEqual([n.username, n.kubernetesGroups], ["system:node:{{EC2PrivateDNSName}}", ["system:nodes"]]);
  await eks.send(new AssociateAccessPolicyCommand({ clusterName: "js", principalArn: devs,
    policyArn: POLICY + "AmazonEKSEditPolicy", accessScope: { type: "namespace", namespaces: ["apps"] } }));
  const got = await eks.send(new ListAssociatedAccessPoliciesCommand({ clusterName: "js", principalArn: devs }));
  assert.deepEqual(got.associatedAccessPolicies.map((x) => [x.policyArn, x.accessScope]),
                   [[POLICY + "AmazonEKSEditPolicy", { type: "namespace", namespaces: ["apps"] }]]);
  assert.deepEqual((await failure(eks, new AssociateAccessPolicyCommand({ clusterName: "js",
    principalArn: devs, policyArn: POLICY + "AmazonEKSViewPolicy", accessScope: { type: "namespace" } })))[0],
    "InvalidParameterException");
  const all = [];
  for await (const page of paginateListAccessEntries({ client: eks, pageSize: 1 }, { clusterName: "js" })) {
    all.push(...page.accessEntries);
  }
  assert.deepEqual(all, [node, devs]);
  const upd = (await eks.send(new UpdateAccessEntryCommand({ clusterName: "js", principalArn: devs,
    username: "pulumi:{{SessionName}}", kubernetesGroups: [] }))).accessEntry;
  assert.deepEqual([upd.username, upd.kubernetesGroups], ["pulumi:{{SessionName}}", []]);
  await eks.send(new DisassociateAccessPolicyCommand({ clusterName: "js", principalArn: devs,
    policyArn: POLICY + "AmazonEKSEditPolicy" }));
  await eks.send(new DeleteAccessEntryCommand({ clusterName: "js", principalArn: devs }));
  assert.deepEqual((await failure(eks, new DescribeAccessEntryCommand({ clusterName: "js",
    principalArn: devs })))[0], "ResourceNotFoundException");
  const names = [];
  for await (const page of paginateListAccessPolicies({ client: eks, pageSize: 7 }, {})) {
    names.push(...page.accessPolicies.map((x) => x.name));
  }
  assert.deepEqual(names, [...names].sort());
  for (const want of ["AmazonEKSClusterAdminPolicy", "AmazonEKSEditPolicy", "AmazonEKSViewPolicy"]) {
    assert.ok(names.includes(want), want);
  }
});

test("IAM authorizes the calls by the entry's ARN and eks:policyArn", async () => {
  await cluster("authz", { authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: false });
  await eks.send(new CreateAccessEntryCommand({ clusterName: "authz", principalArn: devs }));
  await eks.send(new CreateAccessEntryCommand({ clusterName: "authz", principalArn: node }));
  await iam.send(new CreateUserCommand({ UserName: "platform" }));
  await iam.send(new PutUserPolicyCommand({ UserName: "platform", PolicyName: "p",
    PolicyDocument: JSON.stringify({ Version: "2012-10-17", Statement: [
      { Effect: "Allow", Action: "eks:DescribeAccessEntry",
        Resource: "arn:aws:eks:*:*:access-entry/authz/role/*/devs/*" },
      { Effect: "Allow", Action: "eks:AssociateAccessPolicy", Resource: "*",
        Condition: { ArnEquals: { "eks:policyArn": POLICY + "AmazonEKSViewPolicy" } } }] }) }));
  const k = (await iam.send(new CreateAccessKeyCommand({ UserName: "platform" }))).AccessKey;
  const narrow = new EKSClient(config(p, { accessKeyId: k.AccessKeyId, secretAccessKey: k.SecretAccessKey }));
  await narrow.send(new DescribeAccessEntryCommand({ clusterName: "authz", principalArn: devs }));
  const [name, msg, status] = await failure(narrow, new DescribeAccessEntryCommand({ clusterName: "authz",
    principalArn: node }));
  assert.deepEqual([name, status], ["AccessDeniedException", 403]);
  assert.match(msg, /is not authorized to perform: eks:DescribeAccessEntry on resource: arn:aws:eks:us-east-1:000000000000:access-entry\/authz\/role\/000000000000\/node\//);
  await narrow.send(new AssociateAccessPolicyCommand({ clusterName: "authz", principalArn: devs,
    policyArn: POLICY + "AmazonEKSViewPolicy", accessScope: { type: "cluster" } }));
  assert.equal((await failure(narrow, new AssociateAccessPolicyCommand({ clusterName: "authz",
    principalArn: devs, policyArn: POLICY + "AmazonEKSClusterAdminPolicy",
    accessScope: { type: "cluster" } })))[0], "AccessDeniedException");
});
