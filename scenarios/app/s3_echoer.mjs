// s3-echoer with the AWS SDK for JavaScript v3: the same as s3_echoer.py. Run it "as the pod"
// (podiamctl run ... -- node s3_echoer.mjs) with NODE_PATH naming a node_modules that has
// @aws-sdk/client-s3 and @aws-sdk/client-sts (tests/e2e/js/node_modules after .ci/setup).
// The default credential chain finds AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE; the
// endpoint comes from AWS_ENDPOINT_URL.
import { createRequire } from "node:module";
import path from "node:path";

// ES modules ignore NODE_PATH: resolve through it by hand.
const roots = (process.env.NODE_PATH || "").split(path.delimiter).filter(Boolean);
const require = createRequire(path.join(roots[0] || process.cwd(), "noop.js"));
const { S3Client, PutObjectCommand, GetObjectCommand, ListObjectsV2Command } =
  require("@aws-sdk/client-s3");
const { STSClient, GetCallerIdentityCommand } = require("@aws-sdk/client-sts");

const bucket = process.env.S3_ECHOER_BUCKET || "s3-echoer-demo";
const other = process.env.S3_ECHOER_OTHER_BUCKET || "other-team";
const opts = { forcePathStyle: true };

const out = { sdk: "aws-sdk-js-v3" };
let ok = true;
const sts = new STSClient({});
const s3 = new S3Client(opts);
out.identity = (await sts.send(new GetCallerIdentityCommand({}))).Arn;
const key = `echo/js-${Date.now()}.txt`;
const text = `hello from s3-echoer (${out.sdk})`;
try {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: text }));
  out.put = "ok";
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  out.get = await got.Body.transformToString();
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: "echo/" }));
  out.list = (listed.Contents || []).map((o) => o.Key);
  ok = out.get === text && out.list.includes(key);
} catch (e) {
  out.put = e.name;
  ok = false;
}
try {
  await s3.send(new PutObjectCommand({ Bucket: other, Key: key, Body: "should not be written" }));
  out.other_team = "written";
  ok = false;
} catch (e) {
  out.other_team = e.name;
  out.other_team_message = e.message;
  ok = ok && e.name === "AccessDenied";
}
console.log(JSON.stringify(out, null, 2));
process.exit(ok ? 0 : 1);
