"""S3 Signature Version 2: boto3's default presigned URLs (HmacV1 query authentication),
a boto3 client signing SigV2 headers, session tokens, S3's errors (SignatureDoesNotMatch
with StringToSign, expired URLs on podiam's clock, a malformed header), the
s3:signatureversion condition key, and s3cmd with signature_v2 = True (put, get, info,
ls, signurl fetched with curl)."""
import os
import shutil
import subprocess
import tempfile
import unittest
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

import botocore.config
import botocore.exceptions

from podiam_harness import Podiam

A = "000000000000"
FIXTURES = {
    "iam": {"accounts": [{"id": A, "users": [
        {"name": "v4only", "access_keys": [{"id": "AKIASIGV2V4ONLY00001", "secret": "s-v4only"}],
         "inline_policies": {"p": {"Version": "2012-10-17", "Statement": [{
             "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": "*",
             "Condition": {"StringEquals": {"s3:signatureversion": "AWS4-HMAC-SHA256"}}}]}}},
    ]}]},
}


def fetch(url, method="GET", headers=None):
    req = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def err(body):
    root = ET.fromstring(body)
    return {c.tag: c.text for c in root}


class SigV2(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.home = tempfile.mkdtemp(prefix="podiam-sigv2-")
        fx = os.path.join(cls.home, "fixtures.json")
        with open(fx, "w") as f:
            import json
            json.dump(FIXTURES, f)
        cls.pd = Podiam.start("--fixtures", fx)
        cls.s3 = cls.pd.boto3("s3")
        cls.s3.create_bucket(Bucket="sigv2-bucket")
        cls.s3.put_object(Bucket="sigv2-bucket", Key="dir/a b+c.txt", Body=b"hello v2")

    @classmethod
    def tearDownClass(cls):
        cls.pd.stop()
        shutil.rmtree(cls.home, ignore_errors=True)

    def v2(self, key="test", secret="test", token=None, **kw):
        import boto3
        s = boto3.session.Session(aws_access_key_id=key, aws_secret_access_key=secret,
                                  aws_session_token=token, region_name="us-east-1")
        return s.client("s3", endpoint_url=self.pd.endpoint,
                        config=botocore.config.Config(signature_version="s3",
                                                      retries={"max_attempts": 1}, **kw))

    def test_default_presigned_url_is_sigv2_and_works(self):
        url = self.s3.generate_presigned_url(
            "get_object", Params={"Bucket": "sigv2-bucket", "Key": "dir/a b+c.txt"})
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
        self.assertIn("AWSAccessKeyId", q)  # boto3's default against a custom endpoint
        status, _, body = fetch(url)
        self.assertEqual((status, body), (200, b"hello v2"))
        # a tampered URL fails with S3's explanation
        bad = url.replace("dir/a%20b", "dir/b%20b")
        status, _, body = fetch(bad)
        self.assertEqual(status, 403)
        e = err(body)
        self.assertEqual(e["Code"], "SignatureDoesNotMatch")
        self.assertEqual(e["AWSAccessKeyId"], "test")
        self.assertTrue(e["StringToSign"].startswith("GET\n\n\n"))
        self.assertTrue(e["StringToSign"].endswith("/sigv2-bucket/dir/b%20b%2Bc.txt"))
        self.assertEqual(e["StringToSignBytes"].split()[:4], ["47", "45", "54", "0a"])
        self.assertIn("SignatureProvided", e)

    def test_presigned_response_overrides(self):
        url = self.v2().generate_presigned_url(
            "get_object", Params={"Bucket": "sigv2-bucket", "Key": "dir/a b+c.txt",
                                  "ResponseContentDisposition": "attachment; filename=x y.txt",
                                  "ResponseContentType": "text/x-test"})
        status, h, body = fetch(url)
        self.assertEqual(status, 200)
        self.assertEqual(h["Content-Disposition"], "attachment; filename=x y.txt")
        self.assertEqual(h["Content-Type"], "text/x-test")

    def test_expiry_follows_podiams_clock(self):
        url = self.v2().generate_presigned_url(
            "get_object", Params={"Bucket": "sigv2-bucket", "Key": "dir/a b+c.txt"},
            ExpiresIn=600)
        self.assertEqual(fetch(url)[0], 200)
        self.pd.admin("POST", "clock", {"advance_ms": 601 * 1000})
        try:
            status, _, body = fetch(url)
        finally:
            self.pd.admin("POST", "clock", {"offset_ms": 0})
        self.assertEqual(status, 403)
        e = err(body)
        self.assertEqual((e["Code"], e["Message"]), ("AccessDenied", "Request has expired"))
        self.assertIn("Expires", e)
        self.assertIn("ServerTime", e)

    def test_header_signed_client(self):
        c = self.v2()
        c.put_object(Bucket="sigv2-bucket", Key="hdr/one", Body=b"1" * 100,
                     ContentType="text/plain", Metadata={"colour": "blue"})
        h = c.head_object(Bucket="sigv2-bucket", Key="hdr/one")
        self.assertEqual(h["Metadata"], {"colour": "blue"})
        self.assertEqual(c.get_object(Bucket="sigv2-bucket", Key="hdr/one")["Body"].read(),
                         b"1" * 100)
        keys = [o["Key"] for o in c.list_objects_v2(Bucket="sigv2-bucket",
                                                    Prefix="hdr/")["Contents"]]
        self.assertEqual(keys, ["hdr/one"])
        c.put_object_tagging(Bucket="sigv2-bucket", Key="hdr/one",
                             Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
        self.assertEqual(c.get_object_tagging(Bucket="sigv2-bucket", Key="hdr/one")["TagSet"],
                         [{"Key": "k", "Value": "v"}])
        c.delete_object(Bucket="sigv2-bucket", Key="hdr/one")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.v2(secret="wrong").list_objects(Bucket="sigv2-bucket")
        self.assertEqual(cm.exception.response["Error"]["Code"], "SignatureDoesNotMatch")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.v2(key="AKIANOSUCHKEY0000001").list_objects(Bucket="sigv2-bucket")
        self.assertEqual(cm.exception.response["Error"]["Code"], "InvalidAccessKeyId")

    def test_session_token(self):
        sts = self.pd.boto3("sts")
        cr = sts.get_session_token()["Credentials"]
        c = self.v2(cr["AccessKeyId"], cr["SecretAccessKey"], cr["SessionToken"])
        self.assertEqual(c.get_object(Bucket="sigv2-bucket", Key="dir/a b+c.txt")["Body"].read(),
                         b"hello v2")
        url = c.generate_presigned_url(
            "get_object", Params={"Bucket": "sigv2-bucket", "Key": "dir/a b+c.txt"})
        self.assertIn("x-amz-security-token=", url)
        self.assertEqual(fetch(url)[0], 200)
        # without the token the temporary key means nothing
        q = urllib.parse.urlsplit(url)
        params = [p for p in q.query.split("&") if not p.startswith("x-amz-security-token=")]
        status, _, body = fetch(q._replace(query="&".join(params)).geturl())
        self.assertEqual(status, 403)

    def test_malformed_and_missing_date(self):
        url = self.pd.endpoint + "/sigv2-bucket/dir/a%20b%2Bc.txt"
        status, _, body = fetch(url, headers={"Authorization": "AWS HAHAHA"})
        self.assertEqual(status, 400)
        e = err(body)
        self.assertEqual(e["Code"], "InvalidArgument")
        self.assertEqual(e["ArgumentValue"], "AWS HAHAHA")
        status, _, body = fetch(url, headers={"Authorization": "AWS test:AAAAAAAAAAAAAAAAAAAAAAAAAAA="})
        self.assertEqual(status, 403)
        self.assertEqual(err(body)["Code"], "AccessDenied")
        status, _, body = fetch(url, headers={"Authorization": "AWS test:AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                                              "Date": "Tue, 27 Mar 2007 19:36:42 +0000"})
        self.assertEqual(status, 403)
        self.assertEqual(err(body)["Code"], "RequestTimeTooSkewed")
        # HEAD carries no body: the status says it (s3cmd falls back on it)
        status, _, _ = fetch(url, method="HEAD", headers={"Authorization": "AWS HAHAHA"})
        self.assertEqual(status, 400)

    def test_signature_version_condition_key(self):
        c = self.v2("AKIASIGV2V4ONLY00001", "s-v4only")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            c.get_object(Bucket="sigv2-bucket", Key="dir/a b+c.txt")
        self.assertEqual(cm.exception.response["Error"]["Code"], "AccessDenied")
        v4 = self.pd.boto3("s3", key="AKIASIGV2V4ONLY00001", secret="s-v4only")
        self.assertEqual(v4.get_object(Bucket="sigv2-bucket", Key="dir/a b+c.txt")["Body"].read(),
                         b"hello v2")
        d = self.pd.admin("GET", "decisions?action=s3:GetObject&limit=5")
        ctx = [x["context"] for x in d["decisions"]
               if x["principal"].endswith("user/v4only")]
        self.assertIn("AWS", [x.get("s3:signatureversion") for x in ctx])


@unittest.skipUnless(shutil.which("s3cmd") and shutil.which("curl"), "s3cmd and curl needed")
class S3cmdV2(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pd = Podiam.shared()
        cls.dir = tempfile.mkdtemp(prefix="podiam-s3cmd-")
        host = urllib.parse.urlsplit(cls.pd.endpoint).netloc
        cls.cfg = {}
        for v in ("v2", "v4"):
            path = os.path.join(cls.dir, "s3cfg-" + v)
            with open(path, "w") as f:
                f.write("[default]\naccess_key = test\nsecret_key = test\nhost_base = %s\n"
                        "host_bucket = %s\nuse_https = False\nsignature_v2 = %s\n"
                        "bucket_location = us-east-1\n"
                        % (host, host, "True" if v == "v2" else "False"))
            cls.cfg[v] = path

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def s3cmd(self, v, *args):
        env = dict(os.environ, HOME=self.dir)
        p = subprocess.run(["s3cmd", "-c", self.cfg[v]] + list(args), capture_output=True,
                           text=True, env=env, timeout=120, cwd=self.dir)
        if p.returncode != 0:
            raise AssertionError("s3cmd %s failed (%d): %s\n%s\n--- podiam log ---\n%s" % (
                " ".join(args), p.returncode, p.stdout, p.stderr, self.pd.logs()[-3000:]))
        return p.stdout

    def test_put_get_info_signurl(self):
        for v in ("v2", "v4"):
            bucket = "s3cmd-" + v
            src = os.path.join(self.dir, "src-" + v)
            with open(src, "wb") as f:
                f.write(os.urandom(3000))
            self.s3cmd(v, "mb", "s3://" + bucket)
            self.s3cmd(v, "put", src, "s3://%s/d i r/file.bin" % bucket)
            info = self.s3cmd(v, "info", "s3://%s/d i r/file.bin" % bucket)
            self.assertIn("File size: 3000", info)
            dst = os.path.join(self.dir, "dst-" + v)
            self.s3cmd(v, "get", "--force", "s3://%s/d i r/file.bin" % bucket, dst)
            with open(src, "rb") as a, open(dst, "rb") as b:
                self.assertEqual(a.read(), b.read())
            self.assertIn("d i r/file.bin", self.s3cmd(v, "ls", "s3://%s/d i r/" % bucket))
            self.assertIn("Location:", self.s3cmd(v, "info", "s3://" + bucket))
            url = self.s3cmd(v, "signurl", "s3://%s/d i r/file.bin" % bucket, "+600").strip()
            self.assertIn("AWSAccessKeyId=", url)  # s3cmd always signs URLs with SigV2
            got = subprocess.run(["curl", "-sS", "-f", url], capture_output=True, timeout=30)
            self.assertEqual(got.returncode, 0, got.stderr)
            with open(src, "rb") as a:
                self.assertEqual(got.stdout, a.read())
            self.s3cmd(v, "del", "s3://%s/d i r/file.bin" % bucket)
            self.s3cmd(v, "rb", "s3://" + bucket)


if __name__ == "__main__":
    unittest.main()
