"""Every S3 payload form on the wire, sent by a small SigV4 client of the test's own (so the
bytes are exactly what the test says): signed SHA-256, UNSIGNED-PAYLOAD, aws-chunked with
chunk signatures (with and without a signed trailer), unsigned chunks with a trailing
checksum, all inside HTTP chunked encoding split at awkward places; and the failures:
body hash mismatch, a forged chunk signature, a wrong trailer checksum, a truncated body."""
import base64
import datetime
import hashlib
import hmac
import http.client
import os
import unittest
import urllib.parse
import zlib

from podiam_harness import Podiam

EMPTY = hashlib.sha256(b"").hexdigest()


def hmac256(key, msg):
    return hmac.new(key, msg.encode() if isinstance(msg, str) else msg, hashlib.sha256).digest()


class Signer:
    def __init__(self, akid="test", secret="test", region="us-east-1"):
        self.akid, self.secret, self.region = akid, secret, region
        self.now = datetime.datetime.now(datetime.timezone.utc)
        self.amz_date = self.now.strftime("%Y%m%dT%H%M%SZ")
        self.date = self.amz_date[:8]
        self.scope = "%s/%s/s3/aws4_request" % (self.date, region)
        k = hmac256(("AWS4" + secret).encode(), self.date)
        k = hmac256(k, region)
        k = hmac256(k, "s3")
        self.key = hmac256(k, "aws4_request")

    def sign(self, method, path, headers, payload_hash, query=""):
        headers = dict(headers)
        headers["x-amz-date"] = self.amz_date
        headers["x-amz-content-sha256"] = payload_hash
        names = sorted(h.lower() for h in headers)
        lower = {k.lower(): str(v).strip() for k, v in headers.items()}
        creq = "\n".join([method, path, query,
                          "".join("%s:%s\n" % (n, lower[n]) for n in names),
                          ";".join(names), payload_hash])
        sts = "\n".join(["AWS4-HMAC-SHA256", self.amz_date, self.scope,
                         hashlib.sha256(creq.encode()).hexdigest()])
        sig = hmac.new(self.key, sts.encode(), hashlib.sha256).hexdigest()
        headers["Authorization"] = ("AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, "
                                    "Signature=%s" % (self.akid, self.scope, ";".join(names),
                                                      sig))
        return headers, sig

    def chunk_sig(self, prev, data):
        sts = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", self.amz_date, self.scope, prev, EMPTY,
                         hashlib.sha256(data).hexdigest()])
        return hmac.new(self.key, sts.encode(), hashlib.sha256).hexdigest()

    def trailer_sig(self, prev, trailer_text):
        sts = "\n".join(["AWS4-HMAC-SHA256-TRAILER", self.amz_date, self.scope, prev,
                         hashlib.sha256(trailer_text.encode()).hexdigest()])
        return hmac.new(self.key, sts.encode(), hashlib.sha256).hexdigest()


def aws_chunked(data, sizes, signer=None, seed=None, trailer=None, signed_trailer=False,
                forge_chunk=None):
    """The aws-chunked body: chunks of the given sizes, a final chunk, trailer lines."""
    out, prev, pos, i = b"", seed, 0, 0
    chunks = []
    for s in sizes:
        chunks.append(data[pos:pos + s])
        pos += s
    assert pos == len(data)
    chunks.append(b"")
    for c in chunks:
        if signer:
            sig = signer.chunk_sig(prev, c)
            if forge_chunk == i:
                sig = "0" * 64
            prev = sig
            out += b"%x;chunk-signature=%s\r\n" % (len(c), sig.encode())
        else:
            out += b"%x\r\n" % len(c)
        if c:
            out += c + b"\r\n"
        i += 1
    if trailer:
        out += b"".join(b"%s:%s\r\n" % (k.encode(), v.encode()) for k, v in trailer)
        if signed_trailer:
            text = "".join("%s:%s\n" % (k, v) for k, v in trailer)
            out += b"x-amz-trailer-signature:%s\r\n" % signer.trailer_sig(prev, text).encode()
    out += b"\r\n"
    return out


def crc32_b64(data):
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


class PayloadTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.p = Podiam.shared()
        cls.s3 = cls.p.boto3("s3")
        cls.bucket = "payloads"
        cls.s3.create_bucket(Bucket=cls.bucket)
        u = urllib.parse.urlparse(cls.p.endpoint)
        cls.host, cls.port = u.hostname, u.port

    def send(self, method, path, headers, body=b"", pieces=None):
        """Send body as is (Content-Length) or, with pieces, as HTTP chunks of those sizes."""
        c = http.client.HTTPConnection(self.host, self.port, timeout=30)
        c.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for k, v in headers.items():
            c.putheader(k, v)
        try:
            if pieces is None:
                c.putheader("Content-Length", str(len(body)))
                c.endheaders()
                c.send(body)
            else:
                c.putheader("Transfer-Encoding", "chunked")
                c.endheaders()
                pos = 0
                for n in pieces + [len(body)]:
                    part = body[pos:pos + n]
                    pos += len(part)
                    if part:
                        c.send(b"%x\r\n%s\r\n" % (len(part), part))
                    if pos >= len(body):
                        break
                c.send(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # answered before the whole body was read
        r = c.getresponse()
        out = (r.status, r.read(), dict(r.getheaders()))
        c.close()
        return out

    def get(self, key):
        return self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def hostport(self):
        return "%s:%d" % (self.host, self.port)

    def test_signed_sha256_and_mismatch(self):
        sg = Signer()
        data = b"signed body"
        path = "/%s/signed" % self.bucket
        h, _ = sg.sign("PUT", path, {"host": self.hostport()}, hashlib.sha256(data).hexdigest())
        st, body, _ = self.send("PUT", path, h, data)
        self.assertEqual(st, 200, body)
        self.assertEqual(self.get("signed"), data)
        h, _ = sg.sign("PUT", path, {"host": self.hostport()},
                       hashlib.sha256(b"something else").hexdigest())
        st, body, _ = self.send("PUT", path, h, data)
        self.assertEqual(st, 400)
        self.assertIn(b"<Code>XAmzContentSHA256Mismatch</Code>", body)
        self.assertIn(b"<ClientComputedContentSHA256>", body)
        self.assertEqual(self.get("signed"), data)  # unchanged

    def test_buffered_body_hash_mismatch(self):
        sg = Signer()
        path = "/%s" % self.bucket
        doc = (b'<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>')
        h, _ = sg.sign("PUT", path, {"host": self.hostport()}, hashlib.sha256(b"x").hexdigest(),
                       query="tagging=")
        st, body, _ = self.send("PUT", path + "?tagging", h, doc)
        self.assertEqual(st, 400)
        self.assertIn(b"XAmzContentSHA256Mismatch", body)

    def test_unsigned_payload(self):
        sg = Signer()
        path = "/%s/unsigned" % self.bucket
        h, _ = sg.sign("PUT", path, {"host": self.hostport()}, "UNSIGNED-PAYLOAD")
        st, body, _ = self.send("PUT", path, h, b"u" * 1000, pieces=[1, 7, 300])
        # HTTP chunked without aws-chunked: S3's 501 naming the header
        self.assertEqual(st, 501, body)
        self.assertIn(b"<Header>Transfer-Encoding</Header>", body)
        st, body, _ = self.send("PUT", path, h, b"u" * 1000)
        self.assertEqual(st, 200, body)
        self.assertEqual(self.get("unsigned"), b"u" * 1000)

    def streaming(self, key, data, sizes, signed, trailer, pieces, forge=None, bad_crc=False,
                  decoded=None):
        sg = Signer()
        path = "/%s/%s" % (self.bucket, key)
        mode = {(True, False): "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
                (True, True): "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
                (False, True): "STREAMING-UNSIGNED-PAYLOAD-TRAILER"}[(signed, trailer)]
        hdrs = {"host": self.hostport(), "content-encoding": "aws-chunked",
                "x-amz-decoded-content-length": str(len(data) if decoded is None else decoded)}
        if trailer:
            hdrs["x-amz-trailer"] = "x-amz-checksum-crc32"
        h, seed = sg.sign("PUT", path, hdrs, mode)
        tr = [("x-amz-checksum-crc32", "AAAAAA==" if bad_crc else crc32_b64(data))] \
            if trailer else None
        body = aws_chunked(data, sizes, signer=sg if signed else None, seed=seed, trailer=tr,
                           signed_trailer=signed and trailer, forge_chunk=forge)
        return self.send("PUT", path, h, body, pieces=pieces)

    def test_streaming_forms_split_anywhere(self):
        data = os.urandom(20000)
        sizes = [8192, 8192, 3616]
        for signed, trailer in [(True, False), (True, True), (False, True)]:
            for pieces in [None, [1, 1, 1, 5, 80, 3, 17], [8200, 1, 1, 64], [2] * 50]:
                key = "stream-%d%d-%s" % (signed, trailer, "x" if pieces is None else
                                          len(pieces))
                st, body, hdr = self.streaming(key, data, sizes, signed, trailer, pieces)
                self.assertEqual(st, 200, (signed, trailer, pieces, body))
                self.assertEqual(hdr.get("ETag"), '"%s"' % hashlib.md5(data).hexdigest())
                self.assertEqual(self.get(key), data)
        # the trailer's checksum is stored and returned
        g = self.s3.get_object(Bucket=self.bucket, Key="stream-11-x", ChecksumMode="ENABLED")
        self.assertEqual(g["ChecksumCRC32"], crc32_b64(data))

    def test_streaming_failures(self):
        data = os.urandom(10000)
        st, body, _ = self.streaming("bad1", data, [9000, 1000], True, False, [100], forge=1)
        self.assertEqual(st, 403)
        self.assertIn(b"SignatureDoesNotMatch", body)
        st, body, _ = self.streaming("bad2", data, [9000, 1000], False, True, None, bad_crc=True)
        self.assertEqual(st, 400)
        self.assertIn(b"<Code>BadDigest</Code>", body)
        self.assertIn(b"The CRC32 you specified did not match", body)
        st, body, _ = self.streaming("bad3", data, [9000, 1000], True, True, [3], bad_crc=True)
        self.assertEqual(st, 400)
        self.assertIn(b"BadDigest", body)
        st, body, _ = self.streaming("bad4", data, [9000, 1000], False, True, None,
                                     decoded=len(data) + 5)
        self.assertEqual(st, 400)
        self.assertIn(b"IncompleteBody", body)
        for k in ["bad1", "bad2", "bad3", "bad4"]:
            r = self.s3.list_objects_v2(Bucket=self.bucket, Prefix=k)
            self.assertNotIn("Contents", r)

    def test_two_checksums_refused(self):
        sg = Signer()
        path = "/%s/two" % self.bucket
        h, _ = sg.sign("PUT", path, {"host": self.hostport(),
                                     "x-amz-checksum-crc32": crc32_b64(b"x"),
                                     "x-amz-checksum-sha1": base64.b64encode(
                                         hashlib.sha1(b"x").digest()).decode()},
                       "UNSIGNED-PAYLOAD")
        st, body, _ = self.send("PUT", path, h, b"x")
        self.assertEqual(st, 400)
        self.assertIn(b"Expecting a single x-amz-checksum- header", body)

    def test_expect_100_continue_refusal_comes_first(self):
        # an unauthorized upload is answered before the body is sent
        sg = Signer(akid="nosuchkey", secret="x")
        path = "/%s/expect" % self.bucket
        h, _ = sg.sign("PUT", path, {"host": self.hostport()}, "UNSIGNED-PAYLOAD")
        c = http.client.HTTPConnection(self.host, self.port, timeout=10)
        c.putrequest("PUT", path, skip_host=True)
        for k, v in h.items():
            c.putheader(k, v)
        c.putheader("Content-Length", "1000000")
        c.putheader("Expect", "100-continue")
        c.endheaders()
        r = c.getresponse()
        self.assertEqual(r.status, 403)
        self.assertIn(b"InvalidAccessKeyId", r.read())
        c.close()


if __name__ == "__main__":
    unittest.main()
