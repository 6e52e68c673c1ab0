// The JS SDK v3 on what issue 14 added to S3: versioning (versions, delete markers,
// ListObjectVersions), ACLs under Object Ownership, bucket configurations (unset answers,
// CORS with a browser-like preflight through fetch), FULL_OBJECT and COMPOSITE multipart
// checksums (the SDK's ChecksumType), GetObject with PartNumber and InvalidPartNumber,
// x-amz-tagging-count, and a presigned POST built by hand (SigV4 form fields).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, createHmac, randomBytes } from "node:crypto";
import { S3Client, CreateBucketCommand, PutObjectCommand, GetObjectCommand, HeadObjectCommand,
         DeleteObjectCommand, PutBucketVersioningCommand, GetBucketVersioningCommand,
         ListObjectVersionsCommand, PutBucketOwnershipControlsCommand,
         DeletePublicAccessBlockCommand, PutObjectAclCommand, GetObjectAclCommand,
         GetBucketCorsCommand, PutBucketCorsCommand, GetBucketLifecycleConfigurationCommand,
         GetBucketEncryptionCommand, GetBucketRequestPaymentCommand,
         CreateMultipartUploadCommand, UploadPartCommand, CompleteMultipartUploadCommand,
         PutObjectTaggingCommand } from "@aws-sdk/client-s3";
import { startPodiam, config } from "./harness.mjs";

let p;
let s3;
before(async () => {
  p = await startPodiam();
  s3 = new S3Client({ ...config(p), forcePathStyle: true });
});
after(async () => { await p.stop(); });

test("versioning: versions, delete markers, ListObjectVersions", async () => {
  await s3.send(new CreateBucketCommand({ Bucket: "js-versions" }));
  await s3.send(new PutBucketVersioningCommand({
    Bucket: "js-versions", VersioningConfiguration: { Status: "Enabled" } }));
  const v = await s3.send(new GetBucketVersioningCommand({ Bucket: "js-versions" }));
  assert.equal(v.Status, "Enabled");
  const v1 = await s3.send(new PutObjectCommand({ Bucket: "js-versions", Key: "k", Body: "one" }));
  const v2 = await s3.send(new PutObjectCommand({ Bucket: "js-versions", Key: "k", Body: "two" }));
  assert.ok(v1.VersionId && v2.VersionId && v1.VersionId !== v2.VersionId);
  const old = await s3.send(new GetObjectCommand({ Bucket: "js-versions", Key: "k",
                                                   VersionId: v1.VersionId }));
  assert.equal(await old.Body.transformToString(), "one");
  const del = await s3.send(new DeleteObjectCommand({ Bucket: "js-versions", Key: "k" }));
  assert.equal(del.DeleteMarker, true);
  await assert.rejects(s3.send(new GetObjectCommand({ Bucket: "js-versions", Key: "k" })),
                       (e) => e.$metadata.httpStatusCode === 404);
  const list = await s3.send(new ListObjectVersionsCommand({ Bucket: "js-versions" }));
  assert.deepEqual(list.Versions.map((x) => x.VersionId), [v2.VersionId, v1.VersionId]);
  assert.equal(list.DeleteMarkers.length, 1);
  assert.equal(list.DeleteMarkers[0].IsLatest, true);
  // removing the marker brings the newest version back
  await s3.send(new DeleteObjectCommand({ Bucket: "js-versions", Key: "k",
                                          VersionId: del.VersionId }));
  const cur = await s3.send(new GetObjectCommand({ Bucket: "js-versions", Key: "k" }));
  assert.equal(await cur.Body.transformToString(), "two");
});

test("ACLs are refused until ownership allows them", async () => {
  await s3.send(new CreateBucketCommand({ Bucket: "js-acl" }));
  await s3.send(new PutObjectCommand({ Bucket: "js-acl", Key: "o", Body: "x" }));
  await assert.rejects(
    s3.send(new PutObjectAclCommand({ Bucket: "js-acl", Key: "o", ACL: "public-read" })),
    (e) => e.name === "AccessControlListNotSupported" && e.$metadata.httpStatusCode === 400);
  await s3.send(new PutBucketOwnershipControlsCommand({
    Bucket: "js-acl", OwnershipControls: { Rules: [{ ObjectOwnership: "BucketOwnerPreferred" }] } }));
  await s3.send(new DeletePublicAccessBlockCommand({ Bucket: "js-acl" }));
  await s3.send(new PutObjectAclCommand({ Bucket: "js-acl", Key: "o", ACL: "public-read" }));
  const acl = await s3.send(new GetObjectAclCommand({ Bucket: "js-acl", Key: "o" }));
  assert.ok(acl.Grants.some((g) => g.Grantee.URI === "http://acs.amazonaws.com/groups/global/AllUsers"
                                   && g.Permission === "READ"));
  const anon = await fetch(`${p.endpoint}/js-acl/o`);
  assert.equal(anon.status, 200);
  assert.equal(await anon.text(), "x");
});

test("bucket configurations: unset answers, CORS and its preflight", async () => {
  await s3.send(new CreateBucketCommand({ Bucket: "js-config" }));
  await assert.rejects(s3.send(new GetBucketCorsCommand({ Bucket: "js-config" })),
                       (e) => e.name === "NoSuchCORSConfiguration");
  await assert.rejects(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: "js-config" })),
                       (e) => e.name === "NoSuchLifecycleConfiguration");
  const enc = await s3.send(new GetBucketEncryptionCommand({ Bucket: "js-config" }));
  assert.equal(enc.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault
                 .SSEAlgorithm, "AES256");
  const pay = await s3.send(new GetBucketRequestPaymentCommand({ Bucket: "js-config" }));
  assert.equal(pay.Payer, "BucketOwner");
  await s3.send(new PutBucketCorsCommand({ Bucket: "js-config", CORSConfiguration: { CORSRules: [{
    AllowedOrigins: ["https://app.example"], AllowedMethods: ["GET", "PUT"],
    AllowedHeaders: ["*"], ExposeHeaders: ["ETag"], MaxAgeSeconds: 600 }] } }));
  const cors = await s3.send(new GetBucketCorsCommand({ Bucket: "js-config" }));
  assert.deepEqual(cors.CORSRules[0].AllowedMethods, ["GET", "PUT"]);
  const pre = await fetch(`${p.endpoint}/js-config/upload.txt`, { method: "OPTIONS", headers: {
    Origin: "https://app.example", "Access-Control-Request-Method": "PUT",
    "Access-Control-Request-Headers": "content-type" } });
  assert.equal(pre.status, 200);
  assert.equal(pre.headers.get("access-control-allow-origin"), "https://app.example");
  assert.match(pre.headers.get("access-control-allow-methods"), /PUT/);
  const denied = await fetch(`${p.endpoint}/js-config/upload.txt`, { method: "OPTIONS", headers: {
    Origin: "https://evil.example", "Access-Control-Request-Method": "PUT" } });
  assert.equal(denied.status, 403);
});

test("multipart checksum types, partNumber, tagging count", async () => {
  await s3.send(new CreateBucketCommand({ Bucket: "js-ck" }));
  const a = randomBytes(5 * 1024 * 1024);
  const b = randomBytes(777);
  for (const type of ["COMPOSITE", "FULL_OBJECT"]) {
    const key = "mp-" + type;
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: "js-ck", Key: key,
      ChecksumAlgorithm: "CRC32", ChecksumType: type }));
    assert.equal(up.ChecksumType, type);
    const parts = [];
    for (const [i, body] of [a, b].entries()) {
      const r = await s3.send(new UploadPartCommand({ Bucket: "js-ck", Key: key,
        UploadId: up.UploadId, PartNumber: i + 1, Body: body, ChecksumAlgorithm: "CRC32" }));
      parts.push({ PartNumber: i + 1, ETag: r.ETag, ChecksumCRC32: r.ChecksumCRC32 });
    }
    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: "js-ck", Key: key,
      UploadId: up.UploadId, MultipartUpload: { Parts: parts } }));
    assert.equal(done.ChecksumType, type);
    if (type === "COMPOSITE") assert.match(done.ChecksumCRC32, /-2$/);
    else assert.doesNotMatch(done.ChecksumCRC32, /-/);
  }
  const part = await s3.send(new GetObjectCommand({ Bucket: "js-ck", Key: "mp-COMPOSITE",
                                                    PartNumber: 2 }));
  assert.equal(part.PartsCount, 2);
  assert.ok(Buffer.from(await part.Body.transformToByteArray()).equals(b));
  await assert.rejects(s3.send(new GetObjectCommand({ Bucket: "js-ck", Key: "mp-COMPOSITE",
                                                      PartNumber: 3 })),
                       (e) => e.name === "InvalidPartNumber" && e.$metadata.httpStatusCode === 416);
  await s3.send(new PutObjectTaggingCommand({ Bucket: "js-ck", Key: "mp-COMPOSITE",
    Tagging: { TagSet: [{ Key: "a", Value: "1" }] } }));
  const got = await s3.send(new GetObjectCommand({ Bucket: "js-ck", Key: "mp-COMPOSITE" }));
  assert.equal(got.TagCount, 1);
  await got.Body.transformToByteArray();
  const head = await s3.send(new HeadObjectCommand({ Bucket: "js-ck", Key: "mp-COMPOSITE" }));
  assert.equal(head.ContentLength, a.length + b.length);
});

test("POST Object: a SigV4 form as a browser sends it", async () => {
  await s3.send(new CreateBucketCommand({ Bucket: "js-post" }));
  const now = new Date();
  const amz = now.toISOString().replace(/[-:]/g, "").replace(/\.\d+/, "");
  const cred = `test/${amz.slice(0, 8)}/us-east-1/s3/aws4_request`;
  const policy = Buffer.from(JSON.stringify({
    expiration: new Date(now.getTime() + 600000).toISOString(),
    conditions: [{ bucket: "js-post" }, ["starts-with", "$key", "uploads/"],
                 { "x-amz-algorithm": "AWS4-HMAC-SHA256" }, { "x-amz-credential": cred },
                 { "x-amz-date": amz }, ["content-length-range", 1, 1000],
                 { success_action_status: "201" }] })).toString("base64");
  const h = (k, m) => createHmac("sha256", k).update(m).digest();
  const key = h(h(h(h("AWS4test", amz.slice(0, 8)), "us-east-1"), "s3"), "aws4_request");
  const form = new FormData();
  for (const [k, v] of Object.entries({ key: "uploads/${filename}", "x-amz-algorithm":
    "AWS4-HMAC-SHA256", "x-amz-credential": cred, "x-amz-date": amz, policy,
    "x-amz-signature": createHmac("sha256", key).update(policy).digest("hex"),
    success_action_status: "201" })) form.append(k, v);
  form.append("file", new Blob(["hello form"]), "greeting.txt");
  const res = await fetch(`${p.endpoint}/js-post`, { method: "POST", body: form });
  const text = await res.text();
  assert.equal(res.status, 201, text);
  assert.match(text, /<Key>uploads\/greeting.txt<\/Key>/);
  const got = await s3.send(new GetObjectCommand({ Bucket: "js-post", Key: "uploads/greeting.txt" }));
  assert.equal(await got.Body.transformToString(), "hello form");
  assert.equal(got.ETag, `"${createHash("md5").update("hello form").digest("hex")}"`);
});
