"""POST Object (browser form uploads) with boto3's generate_presigned_post in both signature
versions, sent as a browser sends it (multipart/form-data, the file last): success_action
status and redirect, ${filename}, metadata and checksum fields, content-length-range,
policy conditions, expiry on podiam's clock, anonymous forms, bad signatures, S3's errors,
and CORS headers on the answer."""
import base64
import json
import os
import unittest
import urllib.error
import urllib.parse
import urllib.request
import uuid
import xml.etree.ElementTree as ET
import zlib

import botocore.config

from podiam_harness import Podiam


def multipart(fields, file_bytes, filename="upload.bin", file_ctype="application/octet-stream",
              after=None):
    """A browser's form body: fields in order, then the file, then (ignored) fields."""
    boundary = "----podiam" + uuid.uuid4().hex
    out = []
    for k, v in fields:
        out.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n"
                    % (boundary, k, v)).encode())
    out.append(("--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"%s\"\r\n"
                "Content-Type: %s\r\n\r\n" % (boundary, filename, file_ctype)).encode())
    out.append(file_bytes)
    out.append(b"\r\n")
    for k, v in after or []:
        out.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n"
                    % (boundary, k, v)).encode())
    out.append(("--%s--\r\n" % boundary).encode())
    return b"".join(out), "multipart/form-data; boundary=" + boundary


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None


def send(url, body, ctype, headers=None):
    h = {"Content-Type": ctype}
    h.update(headers or {})
    req = urllib.request.Request(url, data=body, method="POST", headers=h)
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(req, timeout=30) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def err(body):
    return {c.tag: c.text for c in ET.fromstring(body)}


class PostObject(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pd = Podiam.shared()
        cls.s3 = cls.pd.boto3("s3")
        cls.s3.create_bucket(Bucket="post-bucket")
        import boto3
        session = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test",
                                        region_name="us-east-1")
        cls.signers = {v: session.client("s3", endpoint_url=cls.pd.endpoint,
                                         config=botocore.config.Config(signature_version=v))
                       for v in ("s3v4", "s3")}

    def presigned(self, version, key, fields=None, conditions=None, expires=600):
        return self.signers[version].generate_presigned_post(
            "post-bucket", key, Fields=fields, Conditions=conditions, ExpiresIn=expires)

    def post(self, p, data, extra=(), filename="upload.bin", headers=None, after=None):
        body, ctype = multipart(list(p["fields"].items()) + list(extra), data, filename,
                                after=after)
        return send(p["url"], body, ctype, headers)

    def test_both_signature_versions(self):
        for v in ("s3v4", "s3"):
            data = os.urandom(70000)
            p = self.presigned(v, "forms/%s/${filename}" % v)
            status, h, body = self.post(p, data, filename="C:\\Users\\me\\photo.jpg")
            self.assertEqual((status, body), (204, b""), body)
            key = "forms/%s/photo.jpg" % v
            self.assertEqual(h["ETag"].strip('"'), __import__("hashlib").md5(data).hexdigest())
            self.assertTrue(h["Location"].endswith("/post-bucket/" + key), h["Location"])
            self.assertEqual(self.s3.get_object(Bucket="post-bucket", Key=key)["Body"].read(),
                             data)
            # the decision names the form's signer and the POST auth type
            d = self.pd.admin("GET", "decisions?action=s3:PutObject&limit=1")["decisions"][0]
            self.assertEqual(d["principal"], "arn:aws:iam::000000000000:root")
            self.assertEqual(d["context"]["s3:authtype"], "POST")
            self.assertEqual(d["context"]["s3:signatureversion"],
                             "AWS4-HMAC-SHA256" if v == "s3v4" else "AWS")

    def test_success_action_status_and_redirect(self):
        p = self.presigned("s3v4", "status/201", {"success_action_status": "201"},
                           [{"success_action_status": "201"}])
        status, h, body = self.post(p, b"created")
        self.assertEqual(status, 201)
        doc = {c.tag: c.text for c in ET.fromstring(body)}
        self.assertEqual((doc["Bucket"], doc["Key"]), ("post-bucket", "status/201"))
        self.assertTrue(doc["ETag"].startswith('"'))
        p = self.presigned("s3v4", "status/200", {"success_action_status": "200"},
                           [{"success_action_status": "200"}])
        self.assertEqual(self.post(p, b"ok")[:3:2], (200, b""))
        target = "https://app.example/done?x=1"
        p = self.presigned("s3v4", "status/redirect", {"success_action_redirect": target},
                           [{"success_action_redirect": target}])
        status, h, _ = self.post(p, b"moved")
        self.assertEqual(status, 303)
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(h["Location"]).query)
        self.assertEqual(q["bucket"], ["post-bucket"])
        self.assertEqual(q["key"], ["status/redirect"])
        self.assertTrue(q["etag"][0].startswith('"'))
        self.assertEqual(q["x"], ["1"])

    def test_metadata_content_type_and_checksum(self):
        data = b"checked form body"
        crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
        fields = {"Content-Type": "text/plain", "x-amz-meta-colour": "blue",
                  "x-amz-checksum-crc32": crc}
        p = self.presigned("s3v4", "meta/obj", fields, [{k: v} for k, v in fields.items()])
        self.assertEqual(self.post(p, data)[0], 204)
        h = self.s3.head_object(Bucket="post-bucket", Key="meta/obj", ChecksumMode="ENABLED")
        self.assertEqual(h["ContentType"], "text/plain")
        self.assertEqual(h["Metadata"], {"colour": "blue"})
        self.assertEqual(h["ChecksumCRC32"], crc)
        # a wrong checksum is BadDigest, and nothing is stored
        fields["x-amz-checksum-crc32"] = base64.b64encode(b"\0\0\0\1").decode()
        p = self.presigned("s3v4", "meta/bad", fields, [{k: v} for k, v in fields.items()])
        status, _, body = self.post(p, data)
        self.assertEqual((status, err(body)["Code"]), (400, "BadDigest"))
        with self.assertRaises(Exception):
            self.s3.head_object(Bucket="post-bucket", Key="meta/bad")

    def test_policy_conditions(self):
        p = self.presigned("s3v4", "cond/x", conditions=[["content-length-range", 10, 20]])
        status, _, body = self.post(p, b"x" * 21)
        e = err(body)
        self.assertEqual((status, e["Code"]), (400, "EntityTooLarge"))
        self.assertEqual((e["ProposedSize"], e["MaxSizeAllowed"]), ("21", "20"))
        status, _, body = self.post(p, b"x" * 9)
        e = err(body)
        self.assertEqual((status, e["Code"], e["MinSizeAllowed"]), (400, "EntityTooSmall", "10"))
        self.assertEqual(self.post(p, b"x" * 15)[0], 204)
        # a field the policy does not name
        p = self.presigned("s3v4", "cond/y")
        status, _, body = self.post(p, b"y", extra=[("x-amz-meta-sneaky", "1")])
        self.assertEqual(status, 403)
        self.assertEqual(err(body)["Message"],
                         "Invalid according to Policy: Extra input fields: x-amz-meta-sneaky")
        # a key outside the starts-with prefix
        p = self.presigned("s3v4", "cond/z", conditions=[["starts-with", "$key", "cond/"]])
        fields = dict(p["fields"], key="elsewhere/z")
        body, ctype = multipart(list(fields.items()), b"z")
        status, _, body = send(p["url"], body, ctype)
        self.assertEqual(status, 403)
        self.assertIn("Policy Condition failed", err(body)["Message"])
        # fields after the file are not read
        p = self.presigned("s3v4", "cond/after")
        self.assertEqual(self.post(p, b"a", after=[("x-amz-meta-late", "1")])[0], 204)

    def test_expiry_on_podiams_clock(self):
        p = self.presigned("s3v4", "exp/x", expires=60)
        self.pd.admin("POST", "clock", {"advance_ms": 120000})
        try:
            status, _, body = self.post(p, b"late")
        finally:
            self.pd.admin("POST", "clock", {"offset_ms": 0})
        self.assertEqual(status, 403)
        self.assertEqual(err(body)["Message"], "Invalid according to Policy: Policy expired.")

    def test_bad_signature_and_key(self):
        p = self.presigned("s3v4", "sig/x")
        p["fields"]["x-amz-signature"] = "0" * 64
        status, _, body = self.post(p, b"x")
        e = err(body)
        self.assertEqual((status, e["Code"]), (403, "SignatureDoesNotMatch"))
        self.assertEqual(e["StringToSign"], p["fields"]["policy"])
        p = self.presigned("s3", "sig/y")
        p["fields"]["AWSAccessKeyId"] = "AKIANOSUCHKEY0000000"
        status, _, body = self.post(p, b"y")
        self.assertEqual((status, err(body)["Code"]), (403, "InvalidAccessKeyId"))

    def test_form_errors(self):
        url = self.pd.endpoint + "/post-bucket"
        status, _, body = send(url, b"a=b", "application/x-www-form-urlencoded")
        e = err(body)
        self.assertEqual((status, e["Code"]), (412, "PreconditionFailed"))
        body, ctype = multipart([("acl", "private")], b"x")
        status, _, body = send(url, body, ctype)
        e = err(body)
        self.assertEqual((status, e["Code"], e["ArgumentName"]), (400, "InvalidArgument", "key"))
        boundary = "bnd"
        nofile = ("--bnd\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nk\r\n--bnd--\r\n"
                  ).encode()
        status, _, body = send(url, nofile, "multipart/form-data; boundary=" + boundary)
        self.assertEqual((status, err(body)["Code"]), (400, "IncorrectNumberOfFilesInPostRequest"))
        big = [("x-ignore-pad", "p" * 21000), ("key", "k")]
        body, ctype = multipart(big, b"x")
        status, _, body = send(url, body, ctype)
        self.assertEqual((status, err(body)["Code"]), (400, "MaxPostPreDataLengthExceededError"))
        status, _, body = send(self.pd.endpoint + "/no-such-post-bucket", *multipart(
            [("key", "k")], b"x"))
        self.assertEqual((status, err(body)["Code"]), (404, "NoSuchBucket"))

    def test_anonymous_form_needs_a_public_bucket(self):
        self.s3.create_bucket(Bucket="post-public")
        url = self.pd.endpoint + "/post-public"
        body, ctype = multipart([("key", "anon/x")], b"anon")
        status, _, resp = send(url, body, ctype)
        self.assertEqual((status, err(resp)["Code"]), (403, "AccessDenied"))
        self.s3.delete_public_access_block(Bucket="post-public")
        self.s3.put_bucket_policy(Bucket="post-public", Policy=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": "*", "Action": "s3:PutObject",
                "Resource": "arn:aws:s3:::post-public/anon/*"}]}))
        status, _, _ = send(url, body, ctype)
        self.assertEqual(status, 204)

    def test_cors_headers_for_browser_forms(self):
        self.s3.put_bucket_cors(Bucket="post-bucket", CORSConfiguration={"CORSRules": [{
            "AllowedOrigins": ["https://app.example"], "AllowedMethods": ["POST"],
            "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag", "Location"]}]})
        try:
            p = self.presigned("s3v4", "cors/x")
            status, h, _ = self.post(p, b"c", headers={"Origin": "https://app.example"})
            self.assertEqual(status, 204)
            self.assertEqual(h["Access-Control-Allow-Origin"], "https://app.example")
            self.assertEqual(h["Access-Control-Expose-Headers"], "ETag, Location")
        finally:
            self.s3.delete_bucket_cors(Bucket="post-bucket")


if __name__ == "__main__":
    unittest.main()
