// PutObject through the JS SDK v3, for a Python test whose boto3 is too old for a parameter
// (Debian 12's botocore 1.29 knows no IfNoneMatch/IfMatch on PutObject).
//   node put_object.mjs ENDPOINT '{"Bucket": ..., "Key": ..., "Body": "text", ...}'
// Prints one JSON line: {"ok": true, "ETag": ...} or {"ok": false, "code": NAME, "status": N}.
// Path-style, region us-east-1, keys test/test unless AWS_ACCESS_KEY_ID/SECRET are set.
import { S3Client, PutObjectCommand } from "@aws-sdk/client-s3";

const [endpoint, json] = process.argv.slice(2);
const s3 = new S3Client({
  endpoint, region: "us-east-1", forcePathStyle: true, maxAttempts: 1,
  credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID || "test",
                 secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY || "test" } });
try {
  const out = await s3.send(new PutObjectCommand(JSON.parse(json)));
  console.log(JSON.stringify({ ok: true, ETag: out.ETag }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, code: e.name, status: e.$metadata?.httpStatusCode }));
}
