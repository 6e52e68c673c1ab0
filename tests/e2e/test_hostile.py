"""Hostile input: oversized headers, bodies, tokens and policies, deep and entity-laden XML,
malformed encodings, slow clients. Each must get a clear AWS-style 4xx answer or a closed
connection within a bound (asserted), never a 5xx or a hang, and other clients must be
served meanwhile (a normal signed request is timed during each attack).

podiam runs with short slow-client bounds (--header-timeout 3 --idle-timeout 3) so the
slow-client tests finish quickly; the defaults (30 s each) are in docs/usage.md."""
import json
import socket
import threading
import time
import unittest
import urllib.parse

from podiam_harness import Podiam, signed_request

BOUND = 5.0          # seconds within which a hostile request is answered or closed
SLOW_BOUND = 3 + 3   # header/idle timeout of the test server + slack


class Raw:
    """A raw HTTP/1.1 exchange on one socket."""

    def __init__(self, host, port):
        self.s = socket.create_connection((host, port), timeout=BOUND + 5)

    def send(self, data):
        try:
            self.s.sendall(data)
            return True
        except OSError:
            return False  # the server closed on us: also an answer

    def response(self, timeout=BOUND):
        """(status, body) or (None, b"") when the server closed without an answer."""
        self.s.settimeout(timeout)
        buf = b""
        try:
            while b"\r\n\r\n" not in buf:
                chunk = self.s.recv(65536)
                if not chunk:
                    return None, b""
                buf += chunk
            head, _, body = buf.partition(b"\r\n\r\n")
            status = int(head.split()[1])
            cl = 0
            for line in head.split(b"\r\n")[1:]:
                k, _, v = line.partition(b":")
                if k.strip().lower() == b"content-length":
                    cl = int(v.strip())
            while len(body) < cl:
                chunk = self.s.recv(65536)
                if not chunk:
                    break
                body += chunk
            return status, body
        except (ConnectionResetError, BrokenPipeError):
            return None, b""

    def close(self):
        self.s.close()


class Hostile(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.p = Podiam.start("--header-timeout", "3", "--idle-timeout", "3",
                             "--log-level", "error")
        u = urllib.parse.urlparse(cls.p.endpoint)
        cls.host, cls.port = u.hostname, u.port
        cls.p.boto3("s3").create_bucket(Bucket="hostile")

    @classmethod
    def tearDownClass(cls):
        cls.p.stop()

    # --- helpers --------------------------------------------------------------------
    def raw(self, data, timeout=BOUND):
        c = Raw(self.host, self.port)
        t0 = time.time()
        c.send(data)
        st, body = c.response(timeout)
        c.close()
        return st, body, time.time() - t0

    def answered(self, data, codes=None, statuses=range(400, 500), closed_ok=True):
        """Send data; assert a 4xx (with one of `codes` in the body when given) or, when
        closed_ok, a closed connection, within BOUND. Returns the status."""
        st, body, took = self.raw(data)
        self.assertLess(took, BOUND, "no answer within %.1f s" % BOUND)
        if st is None:
            self.assertTrue(closed_ok, "connection closed without an answer")
            return None
        self.assertIn(st, statuses, body[:500])
        if codes:
            self.assertTrue(any(c.encode() in body for c in codes), body[:500])
        return st

    def signed(self, form, service="sts", headers=None):
        h, b = signed_request(self.p.endpoint + "/", service, form, headers=headers)
        head = "POST / HTTP/1.1\r\nHost: %s:%d\r\n" % (self.host, self.port)
        for k, v in h.items():
            head += "%s: %s\r\n" % (k, v)
        head += "Content-Length: %d\r\n\r\n" % len(b)
        return head.encode() + b

    def normal_ok(self):
        """A normal signed request on a fresh connection is answered 200 quickly."""
        st, body, took = self.raw(self.signed({"Action": "GetCallerIdentity",
                                               "Version": "2011-06-15"}))
        self.assertEqual(st, 200, body[:300])
        self.assertLess(took, 2.0)

    def during(self, attack, n=1):
        """Run `attack` in n threads; while they run, normal requests must succeed."""
        errors = []

        def run():
            try:
                attack()
            except Exception as e:
                errors.append(e)
        ts = [threading.Thread(target=run) for _ in range(n)]
        for t in ts:
            t.start()
        time.sleep(0.3)
        for _ in range(3):
            self.normal_ok()
        for t in ts:
            t.join()
        if errors:
            raise errors[0]

    def head(self, method="GET", path="/", extra=""):
        return ("%s %s HTTP/1.1\r\nHost: %s:%d\r\n%s" % (
            method, path, self.host, self.port, extra)).encode()

    # --- oversized headers --------------------------------------------------------------
    def test_one_huge_header(self):
        def attack():
            self.answered(self.head(extra="X-Big: " + "a" * (1 << 20) + "\r\n\r\n"))
        self.during(attack)

    def test_many_headers(self):
        def attack():
            hs = "".join("X-H%d: v\r\n" % i for i in range(60000))
            self.answered(self.head(extra=hs + "\r\n"))
        self.during(attack)

    # --- oversized bodies ---------------------------------------------------------------
    def test_content_length_over_cap(self):
        """An STS body announced over --max-body is refused before it is read."""
        def attack():
            self.answered(self.head("POST", "/", "Content-Type: application/x-www-form-"
                                    "urlencoded\r\nContent-Length: 1073741824\r\n\r\n"),
                          statuses=[413])
        self.during(attack)

    def test_s3_put_over_5gib(self):
        st = self.answered(self.head("PUT", "/hostile/k", "Content-Length: 6442450944\r\n\r\n"))
        self.assertIn(st, (None, 400, 403, 413))

    def test_chunked_over_cap(self):
        def attack():
            c = Raw(self.host, self.port)
            c.send(self.head("POST", "/", "Content-Type: application/x-www-form-urlencoded"
                             "\r\nTransfer-Encoding: chunked\r\n\r\n"))
            chunk = b"%x\r\n" % (1 << 20) + b"a" * (1 << 20) + b"\r\n"
            t0 = time.time()
            for _ in range(18):  # 18 MiB > the 16 MiB cap
                if not c.send(chunk):
                    break
            c.send(b"0\r\n\r\n")
            st, body = c.response()
            c.close()
            self.assertLess(time.time() - t0, BOUND + 5)
            self.assertIn(st, (None, 413), body[:300])
        self.during(attack)

    # --- oversized tokens ---------------------------------------------------------------
    def test_huge_authorization(self):
        auth = ("AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sts/aws4_request, "
                "SignedHeaders=" + ";".join("h%d" % i for i in range(20000)) +
                ", Signature=" + "0" * 64)
        self.answered(self.head("POST", "/", "Authorization: %s\r\nContent-Length: 0\r\n\r\n"
                                % auth))
        self.normal_ok()

    def test_huge_security_token(self):
        # Within the header memory of a connection (64 KiB): refused by podiam, AWS-style.
        data = self.signed({"Action": "GetCallerIdentity", "Version": "2011-06-15"},
                           headers={"X-Amz-Security-Token": "A" * 30000})
        self.answered(data, codes=["InvalidClientTokenId", "IncompleteSignature",
                                   "SignatureDoesNotMatch", "InvalidToken"])
        # Past it: libmicrohttpd refuses the headers itself (a 4xx or a closed connection).
        data = self.signed({"Action": "GetCallerIdentity", "Version": "2011-06-15"},
                           headers={"X-Amz-Security-Token": "A" * 100000})
        self.answered(data)
        self.normal_ok()

    def test_web_identity_token_over_20000(self):
        body = urllib.parse.urlencode({
            "Action": "AssumeRoleWithWebIdentity", "Version": "2011-06-15",
            "RoleArn": "arn:aws:iam::000000000000:role/x", "RoleSessionName": "s",
            "WebIdentityToken": "e" * 20001}).encode()
        st = self.answered(self.head("POST", "/", "Content-Type: application/x-www-form-"
                                     "urlencoded\r\nContent-Length: %d\r\n\r\n" % len(body))
                           + body, codes=["ValidationError"], closed_ok=False)
        self.assertEqual(st, 400)

    # --- oversized policies -------------------------------------------------------------
    def test_oversized_policies(self):
        iam = self.p.boto3("iam")
        iam.create_role(RoleName="big", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
                "Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))

        def doc(n):
            return json.dumps({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "s3:GetObject",
                 "Resource": ["arn:aws:s3:::b/%06d" % i for i in range(n)]}]})
        cases = [
            ("PutRolePolicy", {"RoleName": "big", "PolicyName": "p",
                               "PolicyDocument": doc(600)}, "LimitExceeded"),
            ("CreatePolicy", {"PolicyName": "big", "PolicyDocument": doc(400)},
             "LimitExceeded"),
            ("CreatePolicy", {"PolicyName": "huge", "PolicyDocument": doc(7000)},
             "ValidationError"),
            ("UpdateAssumeRolePolicy", {"RoleName": "big", "PolicyDocument": doc(400)},
             None),
        ]
        for action, params, code in cases:
            form = dict(params, Action=action, Version="2010-05-08")
            st, body, took = self.raw(self.signed(form, "iam"))
            self.assertLess(took, BOUND)
            self.assertIn(st, range(400, 500), (action, body[:400]))
            if code:
                self.assertIn(code.encode(), body, (action, body[:400]))
            else:
                self.assertTrue(b"LimitExceeded" in body or b"MalformedPolicyDocument" in body,
                                body[:400])

    # --- XML ----------------------------------------------------------------------------
    def s3_post(self, path, xml):
        h, b = signed_request(self.p.endpoint + path, "s3", xml,
                              headers={"Content-Type": "application/xml"})
        from botocore.auth import S3SigV4Auth  # S3 signs the payload hash
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
        req = AWSRequest(method="POST", url=self.p.endpoint + path, data=b,
                         headers={"Content-Type": "application/xml"})
        S3SigV4Auth(Credentials("test", "test"), "s3", "us-east-1").add_auth(req)
        head = "POST %s HTTP/1.1\r\nHost: %s:%d\r\n" % (path, self.host, self.port)
        for k, v in req.headers.items():
            head += "%s: %s\r\n" % (k, v)
        return head.encode() + b"Content-Length: %d\r\n\r\n" % len(b) + b

    def test_deep_xml(self):
        xml = (b"<Delete>" + b"<Object>" * 200000 + b"</Object>" * 200000 + b"</Delete>")
        self.answered(self.s3_post("/hostile?delete", xml), codes=["MalformedXML"],
                      closed_ok=False)
        self.normal_ok()

    def test_huge_xml(self):
        objs = b"".join(b"<Object><Key>k%d</Key></Object>" % i for i in range(200000))
        xml = b"<Delete>" + objs + b"</Delete>"
        self.answered(self.s3_post("/hostile?delete", xml),
                      codes=["MalformedXML", "EntityTooLarge", "RequestTooLarge"])
        self.normal_ok()

    def test_xml_bomb(self):
        bomb = b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">'
        prev = b"a"
        for i in range(1, 10):
            name = b"e%d" % i
            bomb += b"<!ENTITY " + name + b' "' + (b"&" + prev + b";") * 10 + b'">'
            prev = name
        bomb += b"]><Delete><Object><Key>&" + prev + b";</Key></Object></Delete>"
        self.answered(self.s3_post("/hostile?delete", bomb), codes=["MalformedXML"],
                      closed_ok=False)
        upload = self.p.boto3("s3").create_multipart_upload(Bucket="hostile", Key="m")
        path = "/hostile/m?uploadId=" + urllib.parse.quote(upload["UploadId"], safe="")
        cmu = bomb.replace(b"<Delete><Object><Key>", b"<CompleteMultipartUpload><Part><ETag>")
        cmu = cmu.replace(b"</Key></Object></Delete>",
                          b"</ETag><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>")
        self.answered(self.s3_post(path, cmu), codes=["MalformedXML"], closed_ok=False)
        self.normal_ok()

    # --- malformed encodings ------------------------------------------------------------
    def test_malformed_encodings(self):
        s3 = self.p.boto3("s3")
        s3.put_object(Bucket="hostile", Key="ok", Body=b"x")
        for path in ["/hostile/%zz", "/hostile/%", "/hostile/a%0", "/hostile/%00",
                     "/hostile/%ff%fe", "/%ff/x", "/hostile/a\x01b"]:
            st, body, took = self.raw(self.head("GET", path, "\r\n"))
            self.assertLess(took, BOUND)
            self.assertIn(st, (None, 400, 403, 404), (path, body[:300]))
        for name in ["a\x00b", "\xff\xfe", "%zz"]:
            form = {"Action": "CreateUser", "Version": "2010-05-08", "UserName": name}
            st, body, _ = self.raw(self.signed(form, "iam"))
            self.assertEqual(st, 400, (name, body[:300]))
            self.assertTrue(b"<Code>ValidationError<" in body or b"<Code>MalformedInput<" in body,
                            body[:300])
        # a raw NUL and bad escapes in a form body: unsigned, STS's envelope answers (the
        # signature is missing before anything else); signed, the query decoder refuses it
        body = b"Action=GetCallerIdentity&Version=2011-06-15&X=%zz%\x00"
        st, out, _ = self.raw(self.head("POST", "/", "Content-Type: application/x-www-form-"
                                        "urlencoded\r\nContent-Length: %d\r\n\r\n" % len(body))
                              + body)
        self.assertEqual(st, 403, out[:300])
        self.assertIn(b"<Code>MissingAuthenticationToken</Code>", out)
        st, out, _ = self.raw(self.head("GET", "/?Action=Get%zz", "\r\n"))
        self.assertEqual(st, 400, out[:300])
        self.assertIn(b"<Code>MalformedQueryString</Code>", out)
        st, out, _ = self.raw(self.signed(body, "sts"))
        self.assertIn(st, (400, 403), out[:300])
        self.normal_ok()

    # --- slow clients -------------------------------------------------------------------
    def test_slowloris(self):
        """40 connections send a header byte a second: each is closed within the header
        timeout, and normal requests are served meanwhile."""
        socks = []
        for _ in range(40):
            c = Raw(self.host, self.port)
            c.send(self.head("GET", "/_podiam/health"))
            socks.append(c)
        t0 = time.time()
        closed = {}
        while len(closed) < len(socks) and time.time() - t0 < SLOW_BOUND + 5:
            for i, c in enumerate(socks):
                if i in closed:
                    continue
                if not c.send(b"X"):
                    closed[i] = time.time() - t0
                    continue
                c.s.setblocking(False)
                try:
                    if c.s.recv(4096) == b"":
                        closed[i] = time.time() - t0
                except BlockingIOError:
                    pass
                except OSError:
                    closed[i] = time.time() - t0
                c.s.setblocking(True)
            self.normal_ok()
            time.sleep(1.0)
        for c in socks:
            c.close()
        self.assertEqual(len(closed), len(socks), "slow header senders still connected")
        self.assertLess(max(closed.values()), SLOW_BOUND + 1.5, closed)

    def test_stalled_body(self):
        """Headers, then a body that never comes: closed (or answered) within the idle
        timeout; others are served meanwhile."""
        def attack():
            c = Raw(self.host, self.port)
            t0 = time.time()
            c.send(self.head("POST", "/", "Content-Type: application/x-www-form-urlencoded"
                             "\r\nContent-Length: 100000\r\n\r\n") + b"Action=Get")
            st, _ = c.response(timeout=SLOW_BOUND + 5)
            c.close()
            self.assertLess(time.time() - t0, SLOW_BOUND + 1)
            self.assertIn(st, (None, 400, 403, 408))
        self.during(attack, n=4)


if __name__ == "__main__":
    unittest.main()
