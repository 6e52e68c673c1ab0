"""S3 conformance details that clients and conformance suites check, through boto3 (and raw
HTTP where boto3 cannot send the request): x-amz-tagging-count on GET and HEAD for callers
who may read tags, checksum types (COMPOSITE with the -N suffix, FULL_OBJECT), GetObject
with partNumber (and InvalidPartNumber past the last part), a repeated
CompleteMultipartUpload, MaxKeys=0 and an empty Delimiter, url-encoded listings of keys XML
cannot carry, Transfer-Encoding: chunked without aws-chunked, Date and x-amz-date together,
BadDigest vs InvalidRequest, 403 vs 404 for a missing key, InvalidRange on a copy range past
the source, metadata set to the empty string, and header values with control characters
refused (400) as S3's front end refuses them."""
import base64
import datetime
import hashlib
import http.client
import json
import os
import shutil
import tempfile
import unittest
import urllib.parse
import xml.etree.ElementTree as ET
import zlib

import botocore.exceptions

from podiam_harness import Podiam

A = "000000000000"
FIXTURES = {
    "iam": {"accounts": [{"id": A, "users": [
        # may read objects but not their tags, and may not list the bucket
        {"name": "reader", "access_keys": [{"id": "AKIACONFREADER000001", "secret": "s-reader"}],
         "inline_policies": {"p": {"Version": "2012-10-17", "Statement": [{
             "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"}]}}},
    ]}]},
}
NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def code_of(cm):
    return cm.exception.response["Error"]["Code"]


def status_of(cm):
    return cm.exception.response["ResponseMetadata"]["HTTPStatusCode"]


def crc32_b64(data):
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def with_header(client, op, name, value):
    """Add a request header to every call of op (boto3 1.26 lacks some parameters)."""
    def add(request, **kw):
        request.headers[name] = value
    client.meta.events.register("before-sign.s3.%s" % op, add)
    return lambda: client.meta.events.unregister("before-sign.s3.%s" % op, add)


def sign_v4(method, path, query, headers, amz, key="test", secret="test"):
    """SigV4 headers over exactly `headers` (lower-case names), at time `amz`."""
    import hmac

    def h(k, m):
        return hmac.new(k, m.encode(), hashlib.sha256).digest()
    scope = "%s/us-east-1/s3/aws4_request" % amz[:8]
    names = sorted(headers)
    creq = "\n".join([method, path, query, "".join("%s:%s\n" % (n, headers[n]) for n in names),
                      ";".join(names), headers["x-amz-content-sha256"]])
    sts = "\n".join(["AWS4-HMAC-SHA256", amz, scope, hashlib.sha256(creq.encode()).hexdigest()])
    k = h(h(h(h(("AWS4" + secret).encode(), amz[:8]), "us-east-1"), "s3"), "aws4_request")
    out = dict(headers)
    out["Authorization"] = ("AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s"
                            % (key, scope, ";".join(names),
                               hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()))
    return out


def has_member(client, op, name):
    return name in client.meta.service_model.operation_model(op).output_shape.members


class Conformance(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.home = tempfile.mkdtemp(prefix="podiam-conf-")
        fx = os.path.join(cls.home, "fixtures.json")
        with open(fx, "w") as f:
            json.dump(FIXTURES, f)
        cls.pd = Podiam.start("--fixtures", fx)
        cls.s3 = cls.pd.boto3("s3")
        cls.reader = cls.pd.boto3("s3", key="AKIACONFREADER000001", secret="s-reader")
        cls.b = "conf"
        cls.s3.create_bucket(Bucket=cls.b)

    @classmethod
    def tearDownClass(cls):
        cls.pd.stop()
        shutil.rmtree(cls.home, ignore_errors=True)

    def raw(self, method, path, headers=None, body=None, chunks=None):
        host = urllib.parse.urlsplit(self.pd.endpoint).netloc
        c = http.client.HTTPConnection(host, timeout=30)
        if chunks is not None:
            # one write: podiam may answer (and close) before reading the body
            c.connect()
            head = "%s %s HTTP/1.1\r\n" % (method, path) + "".join(
                "%s: %s\r\n" % kv for kv in (headers or {}).items())
            body = b"".join(b"%x\r\n%s\r\n" % (len(ch), ch) for ch in chunks) + b"0\r\n\r\n"
            c.sock.sendall((head + "Transfer-Encoding: chunked\r\n\r\n").encode() + body)
            r = http.client.HTTPResponse(c.sock, method=method)
            r.begin()
            out = r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read()
            c.close()
            return out
        else:
            c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        out = r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read()
        c.close()
        return out

    def multipart(self, key, parts, extra=None):
        up = self.s3.create_multipart_upload(Bucket=self.b, Key=key, ChecksumAlgorithm="CRC32")
        listed = []
        for i, data in enumerate(parts, 1):
            r = self.s3.upload_part(Bucket=self.b, Key=key, UploadId=up["UploadId"],
                                    PartNumber=i, Body=data, ChecksumAlgorithm="CRC32")
            listed.append({"PartNumber": i, "ETag": r["ETag"], "ChecksumCRC32": r["ChecksumCRC32"]})
        return up, listed

    # ---- x-amz-tagging-count ----
    def test_tagging_count_on_get_and_head_for_who_may_read_tags(self):
        self.s3.put_object(Bucket=self.b, Key="tagged", Body=b"t", Tagging="a=1&b=2")
        for op in (self.s3.get_object, self.s3.head_object):
            r = op(Bucket=self.b, Key="tagged")
            self.assertEqual(r["ResponseMetadata"]["HTTPHeaders"].get("x-amz-tagging-count"),
                             "2", op.__name__)
        # no s3:GetObjectTagging: no count (S3 sends it "when you have the relevant
        # permission to read object tags")
        for op in (self.reader.get_object, self.reader.head_object):
            r = op(Bucket=self.b, Key="tagged")
            self.assertNotIn("x-amz-tagging-count", r["ResponseMetadata"]["HTTPHeaders"])
        self.s3.put_object(Bucket=self.b, Key="untagged", Body=b"u")
        r = self.s3.head_object(Bucket=self.b, Key="untagged")
        self.assertNotIn("x-amz-tagging-count", r["ResponseMetadata"]["HTTPHeaders"])

    # ---- checksum types ----
    def test_composite_checksum_has_part_count_suffix(self):
        p1, p2 = os.urandom(5 * 1024 * 1024), os.urandom(100)
        up, listed = self.multipart("comp", [p1, p2])
        self.assertEqual(up["ResponseMetadata"]["HTTPHeaders"].get("x-amz-checksum-type"),
                         "COMPOSITE")
        c = self.s3.complete_multipart_upload(Bucket=self.b, Key="comp", UploadId=up["UploadId"],
                                              MultipartUpload={"Parts": listed})
        whole = b"".join(base64.b64decode(p["ChecksumCRC32"]) for p in listed)
        self.assertEqual(c["ChecksumCRC32"], crc32_b64(whole) + "-2")
        if has_member(self.s3, "CompleteMultipartUpload", "ChecksumType"):  # botocore >= 1.36
            self.assertEqual(c["ChecksumType"], "COMPOSITE")
        h = self.s3.head_object(Bucket=self.b, Key="comp", ChecksumMode="ENABLED")
        self.assertEqual(h["ChecksumCRC32"], crc32_b64(whole) + "-2")
        self.assertEqual(h["ResponseMetadata"]["HTTPHeaders"].get("x-amz-checksum-type"),
                         "COMPOSITE")

    def test_full_object_checksum(self):
        p1, p2 = os.urandom(5 * 1024 * 1024), os.urandom(100)
        undo = with_header(self.s3, "CreateMultipartUpload", "x-amz-checksum-type",
                           "FULL_OBJECT")
        try:
            up, listed = self.multipart("full", [p1, p2])
        finally:
            undo()
        self.assertEqual(up["ResponseMetadata"]["HTTPHeaders"].get("x-amz-checksum-type"),
                         "FULL_OBJECT")
        c = self.s3.complete_multipart_upload(Bucket=self.b, Key="full", UploadId=up["UploadId"],
                                              MultipartUpload={"Parts": listed})
        self.assertEqual(c["ChecksumCRC32"], crc32_b64(p1 + p2))  # no -N suffix
        if has_member(self.s3, "CompleteMultipartUpload", "ChecksumType"):
            self.assertEqual(c["ChecksumType"], "FULL_OBJECT")
        # a single PUT is FULL_OBJECT
        r = self.s3.put_object(Bucket=self.b, Key="single", Body=b"abc",
                               ChecksumAlgorithm="CRC32")
        self.assertEqual(r["ResponseMetadata"]["HTTPHeaders"].get("x-amz-checksum-type"),
                         "FULL_OBJECT")
        # SHA256 cannot be a FULL_OBJECT checksum
        undo = with_header(self.s3, "CreateMultipartUpload", "x-amz-checksum-type",
                           "FULL_OBJECT")
        try:
            with self.assertRaises(botocore.exceptions.ClientError) as cm:
                self.s3.create_multipart_upload(Bucket=self.b, Key="x",
                                                ChecksumAlgorithm="SHA256")
        finally:
            undo()
        self.assertEqual(code_of(cm), "InvalidRequest")

    # ---- partNumber, repeated completion ----
    def test_get_part_number_and_invalid_part_number(self):
        p1, p2 = os.urandom(5 * 1024 * 1024), os.urandom(10)
        up, listed = self.multipart("parts", [p1, p2])
        self.s3.complete_multipart_upload(Bucket=self.b, Key="parts", UploadId=up["UploadId"],
                                          MultipartUpload={"Parts": listed})
        g = self.s3.get_object(Bucket=self.b, Key="parts", PartNumber=1)
        self.assertEqual(g["ResponseMetadata"]["HTTPStatusCode"], 206)
        self.assertEqual((g["PartsCount"], g["ContentLength"]), (2, len(p1)))
        h = self.s3.head_object(Bucket=self.b, Key="parts", PartNumber=2)
        self.assertEqual(h["ContentLength"], 10)
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.get_object(Bucket=self.b, Key="parts", PartNumber=3)
        self.assertEqual((status_of(cm), code_of(cm)), (416, "InvalidPartNumber"))
        err = cm.exception.response["Error"]
        self.assertEqual((err.get("PartNumberRequested"), err.get("ActualPartCount")),
                         ("3", "2"))
        # a single-part object is part 1 of 1
        self.s3.put_object(Bucket=self.b, Key="one", Body=b"12345")
        g = self.s3.get_object(Bucket=self.b, Key="one", PartNumber=1)
        self.assertEqual(g["Body"].read(), b"12345")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.get_object(Bucket=self.b, Key="one", PartNumber=2)
        self.assertEqual((status_of(cm), code_of(cm)), (416, "InvalidPartNumber"))

    def test_repeated_complete_answers_again(self):
        p1, p2 = os.urandom(5 * 1024 * 1024), os.urandom(10)
        up, listed = self.multipart("again", [p1, p2])
        uid = up["UploadId"]
        first = self.s3.complete_multipart_upload(Bucket=self.b, Key="again", UploadId=uid,
                                                  MultipartUpload={"Parts": listed})
        second = self.s3.complete_multipart_upload(Bucket=self.b, Key="again", UploadId=uid,
                                                   MultipartUpload={"Parts": listed})
        self.assertEqual((second["ETag"], second["ChecksumCRC32"], second["Key"]),
                         (first["ETag"], first["ChecksumCRC32"], first["Key"]))
        self.assertEqual(self.s3.get_object(Bucket=self.b, Key="again")["Body"].read(), p1 + p2)
        # other parts, or another key: the upload is gone
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.complete_multipart_upload(Bucket=self.b, Key="again", UploadId=uid,
                                              MultipartUpload={"Parts": listed[:1]})
        self.assertEqual(code_of(cm), "NoSuchUpload")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.complete_multipart_upload(Bucket=self.b, Key="other", UploadId=uid,
                                              MultipartUpload={"Parts": listed})
        self.assertEqual(code_of(cm), "NoSuchUpload")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.list_parts(Bucket=self.b, Key="again", UploadId=uid)
        self.assertEqual(code_of(cm), "NoSuchUpload")

    # ---- listings ----
    def test_max_keys_zero_and_empty_delimiter(self):
        self.s3.create_bucket(Bucket="conf-list")
        for k in ("a/1", "a/2", "b"):
            self.s3.put_object(Bucket="conf-list", Key=k, Body=b"x")
        for lister in (self.s3.list_objects, self.s3.list_objects_v2):
            r = lister(Bucket="conf-list", MaxKeys=0)
            self.assertFalse(r["IsTruncated"])
            self.assertNotIn("Contents", r)
            r = lister(Bucket="conf-list", Delimiter="")
            self.assertNotIn("Delimiter", r)
            self.assertEqual([o["Key"] for o in r["Contents"]], ["a/1", "a/2", "b"])
            self.assertNotIn("CommonPrefixes", r)

    def test_url_encoded_listing_of_keys_xml_cannot_carry(self):
        self.s3.create_bucket(Bucket="conf-enc")
        key = "ctl\x01/x\x1by"
        self.s3.put_object(Bucket="conf-enc", Key=key, Body=b"x")
        self.s3.put_object(Bucket="conf-enc", Key="plain", Body=b"x")
        # boto3 asks for encoding-type=url and decodes the keys and prefixes
        r = self.s3.list_objects_v2(Bucket="conf-enc", Delimiter="/")
        self.assertEqual([p["Prefix"] for p in r["CommonPrefixes"]], ["ctl\x01/"])
        self.assertEqual([o["Key"] for o in r["Contents"]], ["plain"])
        r = self.s3.list_objects_v2(Bucket="conf-enc", Prefix="ctl\x01/")
        self.assertEqual([o["Key"] for o in r["Contents"]], [key])
        r = self.s3.list_objects(Bucket="conf-enc", Prefix="ctl")
        self.assertEqual([o["Key"] for o in r["Contents"]], [key])
        r = self.s3.list_object_versions(Bucket="conf-enc", Prefix="ctl")
        self.assertEqual([v["Key"] for v in r["Versions"]], [key])
        # the raw answer: encoded prefix, delimiter and keys; well-formed XML
        st, _, body = self.raw("GET", "/conf-enc?list-type=2&encoding-type=url&delimiter=%2F"
                               "&prefix=ctl%01", self.sigv4_headers(
                                   "GET", "/conf-enc",
                                   "delimiter=%2F&encoding-type=url&list-type=2&prefix=ctl%01"))
        self.assertEqual(st, 200, body)
        root = ET.fromstring(body)
        self.assertEqual(root.find(NS + "Prefix").text, "ctl%01")
        self.assertEqual(root.find(NS + "CommonPrefixes/" + NS + "Prefix").text, "ctl%01/")
        self.assertEqual(root.find(NS + "EncodingType").text, "url")
        # uploads list their keys (and prefixes) encoded too. CreateMultipartUpload answers
        # the key in XML as S3 does (&#1;), which XML 1.0 parsers refuse: sent raw here.
        path = "/conf-enc/" + urllib.parse.quote(key)
        st, _, body = self.raw("POST", path + "?uploads=",
                               self.sigv4_headers("POST", path, "uploads="))
        self.assertEqual(st, 200, body)
        self.assertIn(b"<Key>ctl&#1;/x&#27;y</Key>", body)
        uid = body.split(b"<UploadId>")[1].split(b"</UploadId>")[0].decode()
        other = self.s3.create_multipart_upload(Bucket="conf-enc", Key="plain2")["UploadId"]
        st, _, body = self.raw("GET", "/conf-enc?encoding-type=url&uploads=",
                               self.sigv4_headers("GET", "/conf-enc",
                                                  "encoding-type=url&uploads="))
        self.assertEqual(st, 200, body)
        root = ET.fromstring(body)
        self.assertEqual([k.text for k in root.iter(NS + "Key")], ["ctl%01/x%1By", "plain2"])
        r = self.s3.list_multipart_uploads(Bucket="conf-enc", Delimiter="/", EncodingType="url")
        self.assertEqual([p["Prefix"] for p in r["CommonPrefixes"]], ["ctl%01/"])
        self.assertEqual([u["Key"] for u in r["Uploads"]], ["plain2"])
        r = self.s3.list_multipart_uploads(Bucket="conf-enc", Delimiter="/", MaxUploads=1,
                                           EncodingType="url")
        self.assertTrue(r["IsTruncated"])
        self.assertEqual(r["NextKeyMarker"], "ctl%01/")
        r = self.s3.list_multipart_uploads(Bucket="conf-enc", Delimiter="/",
                                           KeyMarker=r["NextKeyMarker"])
        self.assertEqual([u["Key"] for u in r["Uploads"]], ["plain2"])
        self.assertNotIn("CommonPrefixes", r)
        self.s3.abort_multipart_upload(Bucket="conf-enc", Key=key, UploadId=uid)
        self.s3.abort_multipart_upload(Bucket="conf-enc", Key="plain2", UploadId=other)

    def sigv4_headers(self, method, path, query, extra=None, payload=b""):
        from botocore.auth import S3SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
        url = self.pd.endpoint + path + ("?" + query if query else "")
        req = AWSRequest(method=method, url=url, data=payload, headers=extra or {})
        S3SigV4Auth(Credentials("test", "test"), "s3", "us-east-1").add_auth(req)
        return dict(req.headers.items())

    # ---- requests boto3 does not make ----
    def test_chunked_put_without_length_is_501(self):
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        host = urllib.parse.urlsplit(self.pd.endpoint).netloc
        h = sign_v4("PUT", "/conf/te", "", {"host": host, "x-amz-date": now,
                                            "x-amz-content-sha256": "UNSIGNED-PAYLOAD"}, now)
        st, _, body = self.raw("PUT", "/conf/te", h, chunks=[b"abc", b"def"])
        self.assertEqual(st, 501, body)
        e = {c.tag: c.text for c in ET.fromstring(body)}
        self.assertEqual((e["Code"], e["Header"]), ("NotImplemented", "Transfer-Encoding"))
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.head_object(Bucket=self.b, Key="te")
        self.assertEqual(status_of(cm), 404)  # nothing stored

    def test_date_and_x_amz_date(self):
        # both sent: the signature's time is x-amz-date, Date is one more header
        h = self.sigv4_headers("GET", "/conf", "list-type=2",
                               {"Date": "Mon, 01 Jan 2001 00:00:00 GMT"})
        st, _, body = self.raw("GET", "/conf?list-type=2", h)
        self.assertEqual(st, 200, body)
        # only Date (an HTTP date), signed: it is the request's time
        now = datetime.datetime.now(datetime.timezone.utc)
        amz = now.strftime("%Y%m%dT%H%M%SZ")
        host = urllib.parse.urlsplit(self.pd.endpoint).netloc
        hdrs = {"date": now.strftime("%a, %d %b %Y %H:%M:%S GMT"), "host": host,
                "x-amz-content-sha256": hashlib.sha256(b"").hexdigest()}
        st, _, body = self.raw("GET", "/conf?list-type=2", sign_v4("GET", "/conf", "list-type=2",
                                                                    hdrs, amz))
        self.assertEqual(st, 200, body)
        # neither: refused
        del hdrs["date"]
        st, _, body = self.raw("GET", "/conf?list-type=2", sign_v4("GET", "/conf", "list-type=2",
                                                                    hdrs, amz))
        self.assertEqual(st, 403, body)
        self.assertIn(b"AWS authentication requires a valid Date or x-amz-date header", body)

    # ---- checksum errors ----
    def test_bad_digest_vs_invalid_request(self):
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.put_object(Bucket=self.b, Key="bd", Body=b"abc", ChecksumCRC32="AAAAAA==")
        self.assertEqual((status_of(cm), code_of(cm)), (400, "BadDigest"))
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.put_object(Bucket=self.b, Key="bd", Body=b"abc", ChecksumCRC32="short")
        self.assertEqual((status_of(cm), code_of(cm)), (400, "InvalidRequest"))
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.put_object(Bucket=self.b, Key="bd", Body=b"abc",
                               ContentMD5=base64.b64encode(b"0" * 16).decode())
        self.assertEqual((status_of(cm), code_of(cm)), (400, "BadDigest"))
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.head_object(Bucket=self.b, Key="bd")
        self.assertEqual(status_of(cm), 404)

    # ---- 403 vs 404 ----
    def test_missing_key_is_403_without_list_permission(self):
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.get_object(Bucket=self.b, Key="nope")
        self.assertEqual((status_of(cm), code_of(cm)), (404, "NoSuchKey"))
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.reader.get_object(Bucket=self.b, Key="nope")
        self.assertEqual((status_of(cm), code_of(cm)), (403, "AccessDenied"))
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.reader.head_object(Bucket=self.b, Key="nope")
        self.assertEqual(status_of(cm), 403)

    # ---- copy ranges ----
    def test_copy_range_errors(self):
        self.s3.put_object(Bucket=self.b, Key="src5", Body=b"12345")
        uid = self.s3.create_multipart_upload(Bucket=self.b, Key="dst")["UploadId"]
        src = {"Bucket": self.b, "Key": "src5"}
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.upload_part_copy(Bucket=self.b, Key="dst", UploadId=uid, PartNumber=1,
                                     CopySource=src, CopySourceRange="bytes=0-21")
        self.assertEqual((status_of(cm), code_of(cm)), (416, "InvalidRange"))
        for bad in ("bytes=3-1", "bytes=-3", "bytes=1-", "items=0-1", "bytes=a-2"):
            with self.assertRaises(botocore.exceptions.ClientError, msg=bad) as cm:
                self.s3.upload_part_copy(Bucket=self.b, Key="dst", UploadId=uid, PartNumber=1,
                                         CopySource=src, CopySourceRange=bad)
            self.assertEqual((status_of(cm), code_of(cm)), (400, "InvalidArgument"), bad)
        r = self.s3.upload_part_copy(Bucket=self.b, Key="dst", UploadId=uid, PartNumber=1,
                                     CopySource=src, CopySourceRange="bytes=1-3")
        self.assertEqual(r["CopyPartResult"]["ETag"], '"%s"' % hashlib.md5(b"234").hexdigest())
        self.s3.abort_multipart_upload(Bucket=self.b, Key="dst", UploadId=uid)

    # ---- empty metadata ----
    def test_metadata_set_to_empty(self):
        self.s3.put_object(Bucket=self.b, Key="meta", Body=b"m", Metadata={"empty": "", "x": "1"})
        h = self.s3.head_object(Bucket=self.b, Key="meta")
        self.assertEqual(h["Metadata"], {"empty": "", "x": "1"})
        g = self.s3.get_object(Bucket=self.b, Key="meta")
        self.assertEqual(g["Metadata"], {"empty": "", "x": "1"})
        # overwritten to empty
        self.s3.put_object(Bucket=self.b, Key="meta", Body=b"m", Metadata={"x": ""})
        self.assertEqual(self.s3.head_object(Bucket=self.b, Key="meta")["Metadata"], {"x": ""})

    def test_metadata_with_control_characters_is_refused(self):
        # s3-tests' *_to_unreadable_{prefix,infix,suffix}: the front end answers 400
        for i, value in enumerate(["\x04w", "h\x04w", "h\x04"]):
            with self.assertRaises(botocore.exceptions.ClientError, msg=repr(value)) as cm:
                self.s3.put_object(Bucket=self.b, Key="unreadable%d" % i, Body=b"m",
                                   Metadata={"meta1": value})
            self.assertEqual(status_of(cm), 400)
            with self.assertRaises(botocore.exceptions.ClientError) as cm:
                self.s3.head_object(Bucket=self.b, Key="unreadable%d" % i)
            self.assertEqual(status_of(cm), 404)  # nothing stored


if __name__ == "__main__":
    unittest.main()
