// The JS SDK v3 S3 client against podiam with its default checksum behaviour: a stream upload
// (aws-chunked with a trailing checksum, even over http), a Buffer upload (header checksum),
// GetObject with ChecksumMode ENABLED (the SDK validates the returned checksum),
// DeleteObjects, listing, multipart and copies, over http and https.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import https from "node:https";
import { Readable } from "node:stream";
import { S3Client, CreateBucketCommand, PutObjectCommand, GetObjectCommand, HeadObjectCommand,
         DeleteObjectsCommand, ListObjectsV2Command, CreateMultipartUploadCommand,
         UploadPartCommand, CompleteMultipartUploadCommand, CopyObjectCommand,
         DeleteObjectCommand } from "@aws-sdk/client-s3";
import { startPodiam, config } from "./harness.mjs";

let p;
let s3;
before(async () => {
  p = await startPodiam();
  s3 = new S3Client({ ...config(p), forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: "js-bucket" }));
});
after(async () => { await p.stop(); });

const md5 = (b) => createHash("md5").update(b).digest("hex");

test("buffer upload with a header checksum, checked download", async () => {
  const body = randomBytes(100000);
  const put = await s3.send(new PutObjectCommand({ Bucket: "js-bucket", Key: "buf", Body: body }));
  assert.equal(put.ETag, `"${md5(body)}"`);
  assert.ok(put.ChecksumCRC32, "the SDK sent a CRC32 and podiam echoed it");
  const got = await s3.send(new GetObjectCommand({ Bucket: "js-bucket", Key: "buf",
                                                   ChecksumMode: "ENABLED" }));
  assert.equal(got.ChecksumCRC32, put.ChecksumCRC32);
  const bytes = Buffer.from(await got.Body.transformToByteArray());
  assert.ok(bytes.equals(body));
});

test("stream upload: aws-chunked with a trailing checksum", async () => {
  const chunks = [randomBytes(70000), randomBytes(5), randomBytes(130000)];
  const total = Buffer.concat(chunks);
  const cmd = new PutObjectCommand({
    Bucket: "js-bucket", Key: "stream", Body: Readable.from(chunks),
    ContentLength: total.length, ContentType: "application/x-js" });
  let sent;
  cmd.middlewareStack.add((next) => async (args) => { sent = { ...args.request.headers };
                                                     return next(args); },
                          { step: "finalizeRequest", priority: "low" });
  const put = await s3.send(cmd);
  assert.equal(sent["x-amz-content-sha256"], "STREAMING-UNSIGNED-PAYLOAD-TRAILER");
  assert.match(sent["content-encoding"], /aws-chunked/);
  assert.equal(put.ETag, `"${md5(total)}"`);
  const head = await s3.send(new HeadObjectCommand({ Bucket: "js-bucket", Key: "stream",
                                                     ChecksumMode: "ENABLED" }));
  assert.equal(head.ContentLength, total.length);
  assert.equal(head.ContentType, "application/x-js");
  assert.ok(head.ChecksumCRC32);
  const got = await s3.send(new GetObjectCommand({ Bucket: "js-bucket", Key: "stream",
                                                   ChecksumMode: "ENABLED" }));
  assert.ok(Buffer.from(await got.Body.transformToByteArray()).equals(total));
});

test("every checksum algorithm the SDK offers, streamed with a trailer and as a Buffer",
     async () => {
  for (const alg of ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"]) {
    const body = randomBytes(50000);
    for (const [key, payload] of [[`ck-buf-${alg}`, body], [`ck-stream-${alg}`, Readable.from([body])]]) {
      const put = await s3.send(new PutObjectCommand({ Bucket: "js-bucket", Key: key,
        Body: payload, ContentLength: body.length, ChecksumAlgorithm: alg }));
      assert.ok(put[`Checksum${alg}`], `${key}: no ${alg} in the answer`);
      const got = await s3.send(new GetObjectCommand({ Bucket: "js-bucket", Key: key,
                                                       ChecksumMode: "ENABLED" }));
      assert.equal(got[`Checksum${alg}`], put[`Checksum${alg}`], key);
      assert.ok(Buffer.from(await got.Body.transformToByteArray()).equals(body), key);
    }
  }
});

// Conditional writes (PutObject If-None-Match / If-Match, AWS 2024): newer than Debian 12's
// botocore 1.29 and aws CLI 2.9, so this SDK is the client that tests them.
test("conditional writes: If-None-Match: * and If-Match on PutObject", async () => {
  const first = Buffer.from("v1");
  const put = await s3.send(new PutObjectCommand({ Bucket: "js-bucket", Key: "cond", Body: first,
                                                   IfNoneMatch: "*" }));
  assert.equal(put.ETag, `"${md5(first)}"`);
  await assert.rejects(
    s3.send(new PutObjectCommand({ Bucket: "js-bucket", Key: "cond", Body: "v2", IfNoneMatch: "*" })),
    (e) => e.name === "PreconditionFailed" && e.$metadata.httpStatusCode === 412);
  await assert.rejects(
    s3.send(new PutObjectCommand({ Bucket: "js-bucket", Key: "cond", Body: "v2",
                                   IfMatch: '"00000000000000000000000000000000"' })),
    (e) => e.name === "PreconditionFailed" && e.$metadata.httpStatusCode === 412);
  await s3.send(new PutObjectCommand({ Bucket: "js-bucket", Key: "cond", Body: "v3",
                                       IfMatch: put.ETag }));
  const got = await s3.send(new GetObjectCommand({ Bucket: "js-bucket", Key: "cond" }));
  assert.equal(await got.Body.transformToString(), "v3");
});

test("delete objects, list", async () => {
  for (const k of ["d/1", "d/2", "d/3"]) {
    await s3.send(new PutObjectCommand({ Bucket: "js-bucket", Key: k, Body: "x" }));
  }
  const list = await s3.send(new ListObjectsV2Command({ Bucket: "js-bucket", Prefix: "d/" }));
  assert.deepEqual(list.Contents.map((o) => o.Key), ["d/1", "d/2", "d/3"]);
  const del = await s3.send(new DeleteObjectsCommand({
    Bucket: "js-bucket", Delete: { Objects: [{ Key: "d/1" }, { Key: "d/2" }] } }));
  assert.deepEqual(del.Deleted.map((d) => d.Key).sort(), ["d/1", "d/2"]);
  const after = await s3.send(new ListObjectsV2Command({ Bucket: "js-bucket", Prefix: "d/",
                                                         Delimiter: "/" }));
  assert.deepEqual(after.Contents.map((o) => o.Key), ["d/3"]);
  await s3.send(new DeleteObjectCommand({ Bucket: "js-bucket", Key: "d/3" }));
});

test("multipart and copy", async () => {
  const a = randomBytes(5 * 1024 * 1024);
  const b = randomBytes(1000);
  const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: "js-bucket", Key: "mp" }));
  const p1 = await s3.send(new UploadPartCommand({ Bucket: "js-bucket", Key: "mp",
    UploadId: up.UploadId, PartNumber: 1, Body: a }));
  const p2 = await s3.send(new UploadPartCommand({ Bucket: "js-bucket", Key: "mp",
    UploadId: up.UploadId, PartNumber: 2, Body: b }));
  const done = await s3.send(new CompleteMultipartUploadCommand({
    Bucket: "js-bucket", Key: "mp", UploadId: up.UploadId,
    MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.ETag }] } }));
  assert.match(done.ETag, /-2"$/);
  await s3.send(new CopyObjectCommand({ Bucket: "js-bucket", Key: "mp-copy",
                                        CopySource: "js-bucket/mp" }));
  const got = await s3.send(new GetObjectCommand({ Bucket: "js-bucket", Key: "mp-copy" }));
  assert.ok(Buffer.from(await got.Body.transformToByteArray()).equals(Buffer.concat([a, b])));
});

test("errors keep S3's shape", async () => {
  await assert.rejects(s3.send(new GetObjectCommand({ Bucket: "js-bucket", Key: "missing" })),
                       (e) => e.name === "NoSuchKey" && e.$metadata.httpStatusCode === 404);
  await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: "nope-bucket", Key: "k" })),
                       (e) => e.$metadata.httpStatusCode === 404);
});

test("https with podiam's CA", async () => {
  const res = await fetch(p.endpoint + "/_podiam/ca.pem");
  const ca = await res.text();
  const { NodeHttpHandler } = await import("@smithy/node-http-handler");
  const tls = new S3Client({ ...config(p), endpoint: p.tls, forcePathStyle: true,
    requestHandler: new NodeHttpHandler({ httpsAgent: new https.Agent({ ca }) }) });
  const body = Readable.from([randomBytes(10000), randomBytes(20000)]);
  await tls.send(new PutObjectCommand({ Bucket: "js-bucket", Key: "tls", Body: body,
                                        ContentLength: 30000 }));
  const got = await tls.send(new GetObjectCommand({ Bucket: "js-bucket", Key: "tls",
                                                    ChecksumMode: "ENABLED" }));
  assert.equal((await got.Body.transformToByteArray()).length, 30000);
});
