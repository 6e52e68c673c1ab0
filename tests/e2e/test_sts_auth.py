"""Who a request is, and which requests are refused: STS GetCallerIdentity for the root, an
IAM user and their GetSessionToken sessions (boto3 and the aws CLI), then the signature
checks clients meet (wrong secret, stale or altered signatures, unknown, deleted and
inactive keys, unsigned calls, presigned URLs), and the HTTP transport (100-continue,
chunked bodies, the body limit, keep-alive).

Not covered: an expired session token. podiam has no admin clock yet, and a session lasts
at least 900 seconds, so expiry cannot be reached without waiting (see test_session_expiry).
"""
import datetime
import html
import http.client
import json
import socket
import unittest
import urllib.error
import urllib.parse
import urllib.request

import botocore
import botocore.config
import botocore.exceptions

from podiam_harness import Podiam, signed_request

ACCOUNT = "000000000000"
GCI = {"Action": "GetCallerIdentity", "Version": "2011-06-15"}
SIG_MISMATCH = ("The request signature we calculated does not match the signature you "
                "provided. Check your AWS Secret Access Key and signing method. Consult the "
                "service documentation for details.")
INVALID_TOKEN = "The security token included in the request is invalid."


def utc_now():
    """Naive UTC now (what botocore signs with)."""
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def host_port(url):
    u = urllib.parse.urlsplit(url)
    return u.hostname, u.port


class StsCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.p = Podiam.shared()
        cls.iam = cls.p.boto3("iam")

    def assertError(self, cm, code, status, message=None):
        e = cm.exception.response
        self.assertEqual(e["Error"]["Code"], code, e)
        self.assertEqual(e["ResponseMetadata"]["HTTPStatusCode"], status, e)
        if message is not None:
            self.assertEqual(e["Error"]["Message"], message)

    def fails(self):
        return self.assertRaises(botocore.exceptions.ClientError)

    def user_with_key(self, name, path="/"):
        try:
            self.iam.create_user(UserName=name, Path=path)
        except self.iam.exceptions.EntityAlreadyExistsException:
            pass
        u = self.iam.get_user(UserName=name)["User"]
        k = self.iam.create_access_key(UserName=name)["AccessKey"]
        return u, k

    def post(self, headers, body, url=None):
        """Send a prepared request with http.client: (status, body text)."""
        host, port = host_port(url or self.p.endpoint)
        conn = http.client.HTTPConnection(host, port, timeout=10)
        try:
            conn.request("POST", "/", body=body, headers=headers)
            r = conn.getresponse()
            return r.status, r.read().decode()
        finally:
            conn.close()


class IdentityTest(StsCase):
    def test_root(self):
        me = self.p.boto3("sts").get_caller_identity()
        self.assertEqual((me["UserId"], me["Account"], me["Arn"]),
                         (ACCOUNT, ACCOUNT, "arn:aws:iam::%s:root" % ACCOUNT))
        cli = self.p.aws("sts", "get-caller-identity")[1]
        self.assertEqual(cli["Arn"], "arn:aws:iam::%s:root" % ACCOUNT)

    def test_user_and_user_session(self):
        u, k = self.user_with_key("ident", "/people/")
        sts = self.p.boto3("sts", key=k["AccessKeyId"], secret=k["SecretAccessKey"])
        me = sts.get_caller_identity()
        self.assertEqual((me["UserId"], me["Account"], me["Arn"]),
                         (u["UserId"], ACCOUNT, "arn:aws:iam::%s:user/people/ident" % ACCOUNT))

        st = sts.get_session_token(DurationSeconds=900)["Credentials"]
        self.assertRegex(st["AccessKeyId"], r"^ASIA[A-Z2-7]{16}$")
        self.assertEqual(len(st["SecretAccessKey"]), 40)
        left = st["Expiration"] - datetime.datetime.now(datetime.timezone.utc)
        self.assertTrue(840 <= left.total_seconds() <= 960, left)

        sess = self.p.boto3("sts", key=st["AccessKeyId"], secret=st["SecretAccessKey"],
                            token=st["SessionToken"])
        sme = sess.get_caller_identity()
        self.assertEqual((sme["UserId"], sme["Account"], sme["Arn"]),
                         (u["UserId"], ACCOUNT, me["Arn"]))
        with self.fails() as cm:
            sess.get_session_token()
        self.assertError(cm, "AccessDenied", 403)

        # The same session through the CLI (AWS_SESSION_TOKEN).
        cli = self.p.aws("sts", "get-caller-identity", key=st["AccessKeyId"],
                         secret=st["SecretAccessKey"], token=st["SessionToken"])[1]
        self.assertEqual((cli["UserId"], cli["Arn"]), (u["UserId"], me["Arn"]))
        # GetSessionToken credentials without MFA may not call IAM; AWS answers as if the
        # token were unknown.
        code, _, err = self.p.aws("iam", "get-user", key=st["AccessKeyId"],
                                  secret=st["SecretAccessKey"], token=st["SessionToken"],
                                  check=False)
        self.assertNotEqual(code, 0)
        self.assertIn("InvalidClientTokenId", err)

        # A session minted by the CLI works with boto3.
        minted = self.p.aws("sts", "get-session-token", "--duration-seconds", "1800",
                            key=k["AccessKeyId"], secret=k["SecretAccessKey"])[1]["Credentials"]
        sess2 = self.p.boto3("sts", key=minted["AccessKeyId"], secret=minted["SecretAccessKey"],
                             token=minted["SessionToken"])
        self.assertEqual(sess2.get_caller_identity()["Arn"], me["Arn"])

    def test_session_durations(self):
        _, k = self.user_with_key("durations")
        sts = self.p.boto3("sts", key=k["AccessKeyId"], secret=k["SecretAccessKey"])
        now = datetime.datetime.now(datetime.timezone.utc)
        default = sts.get_session_token()["Credentials"]["Expiration"] - now
        self.assertAlmostEqual(default.total_seconds(), 43200, delta=60)  # users: 12 h
        longest = sts.get_session_token(DurationSeconds=129600)["Credentials"]["Expiration"]
        self.assertAlmostEqual((longest - now).total_seconds(), 129600, delta=60)
        with self.fails() as cm:
            sts.get_session_token(DurationSeconds=129601)  # botocore checks only the minimum
        self.assertError(cm, "ValidationError", 400)
        self.assertIn("durationSeconds", cm.exception.response["Error"]["Message"])

    def test_root_session(self):
        st = self.p.boto3("sts").get_session_token()["Credentials"]
        left = st["Expiration"] - datetime.datetime.now(datetime.timezone.utc)
        self.assertLessEqual(left.total_seconds(), 3600 + 60)  # root sessions: one hour at most
        sess = self.p.boto3("sts", key=st["AccessKeyId"], secret=st["SecretAccessKey"],
                            token=st["SessionToken"])
        me = sess.get_caller_identity()
        self.assertEqual((me["UserId"], me["Account"], me["Arn"]),
                         (ACCOUNT, ACCOUNT, "arn:aws:iam::%s:root" % ACCOUNT))
        self.assertIn("Users", self.p.boto3("iam", key=st["AccessKeyId"],
                                            secret=st["SecretAccessKey"],
                                            token=st["SessionToken"]).list_users())

    def test_session_token_tampered_or_missing(self):
        st = self.p.boto3("sts").get_session_token()["Credentials"]
        tok = st["SessionToken"]
        bad = tok[:20] + ("A" if tok[20] != "A" else "B") + tok[21:]
        for token in (bad, None):
            sess = self.p.boto3("sts", key=st["AccessKeyId"], secret=st["SecretAccessKey"],
                                token=token)
            with self.fails() as cm:
                sess.get_caller_identity()
            self.assertError(cm, "InvalidClientTokenId", 403, INVALID_TOKEN)

    @unittest.skip("no way to move podiam's clock yet (no admin clock endpoint); a session "
                   "lasts at least 900 s, too long to wait for in a test")
    def test_session_expiry(self):
        pass


class RefusedTest(StsCase):
    def test_wrong_secret(self):
        sts = self.p.boto3("sts", secret="not-the-secret")
        with self.fails() as cm:
            sts.get_caller_identity()
        self.assertError(cm, "SignatureDoesNotMatch", 403, SIG_MISMATCH)
        rc, _, err = self.p.aws("sts", "get-caller-identity", secret="nope", check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn("(SignatureDoesNotMatch)", err)

    def test_stale_and_future_signatures(self):
        for minutes, word in ((-20, "expired"), (20, "not yet current")):
            when = utc_now() + datetime.timedelta(minutes=minutes)
            h, b = signed_request(self.p.endpoint + "/", "sts", GCI, when=when)
            status, text = self.post(h, b)
            self.assertEqual(status, 403, text)
            self.assertIn("<Code>SignatureDoesNotMatch</Code>", text)
            self.assertIn("Signature %s: %s is " % (word, when.strftime("%Y%m%dT%H%M%SZ")), text)
            self.assertIn("15 min.)", text)
        # Five minutes off is within the allowed skew.
        when = utc_now() - datetime.timedelta(minutes=5)
        h, b = signed_request(self.p.endpoint + "/", "sts", GCI, when=when)
        self.assertEqual(self.post(h, b)[0], 200)

    def test_altered_after_signing(self):
        h, b = signed_request(self.p.endpoint + "/", "sts", GCI)
        self.assertEqual(self.post(h, b)[0], 200)  # untouched: accepted (and replayable)
        d = datetime.datetime.strptime(h["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
        changes = [
            dict(h, **{"X-Amz-Date": (d + datetime.timedelta(seconds=1))
                       .strftime("%Y%m%dT%H%M%SZ")}),
            dict(h, **{"Content-Type": h["Content-Type"] + "x"}),
        ]
        for changed in changes:
            status, text = self.post(changed, b)
            self.assertEqual(status, 403, changed)
            self.assertIn("<Code>SignatureDoesNotMatch</Code>", text)
        status, text = self.post(h, b + b"&X=1")  # a body that is not the one signed
        self.assertEqual(status, 403)
        self.assertIn("<Code>SignatureDoesNotMatch</Code>", text)

    def test_credential_scope_region(self):
        """The scope must name a real region, and the one the Host signs for when the Host
        is an AWS name (IAM's and STS's global endpoints: us-east-1). podiam's own address
        takes any real region: SDKs given a custom endpoint sign IAM with their region."""
        msg = "Credential should be scoped to a valid region, not '%s'."
        cases = [  # (url the request is for, service, body, region, accepted)
            ("http://iam.amazonaws.com/", "iam", "Action=ListUsers&Version=2010-05-08",
             "us-east-1", True),
            ("http://iam.amazonaws.com/", "iam", "Action=ListUsers&Version=2010-05-08",
             "us-west-2", False),
            ("http://sts.amazonaws.com/", "sts", "Action=GetCallerIdentity&Version=2011-06-15",
             "eu-west-1", False),
            ("http://sts.eu-west-1.amazonaws.com/", "sts",
             "Action=GetCallerIdentity&Version=2011-06-15", "eu-west-1", True),
            ("http://sts.eu-west-1.amazonaws.com/", "sts",
             "Action=GetCallerIdentity&Version=2011-06-15", "us-east-1", False),
            (self.p.endpoint + "/", "iam", "Action=ListUsers&Version=2010-05-08",
             "eu-west-1", True),
            (self.p.endpoint + "/", "iam", "Action=ListUsers&Version=2010-05-08",
             "mars-north-9", False),
            (self.p.endpoint + "/", "sts", "Action=GetCallerIdentity&Version=2011-06-15",
             "mars-north-9", False),
        ]
        for url, service, body, region, ok in cases:
            h, b = signed_request(url, service, body, region=region,
                                  headers={"Host": urllib.parse.urlparse(url).netloc})
            status, text = self.post(h, b)
            if ok:
                self.assertEqual(status, 200, (url, region, text))
            else:
                self.assertEqual(status, 403, (url, region, text))
                self.assertIn("<Code>SignatureDoesNotMatch</Code>", text)
                self.assertIn(msg % region, html.unescape(text))

    def test_unknown_key(self):
        sts = self.p.boto3("sts", key="AKIAIOSFODNN7EXAMPLE", secret="x")
        with self.fails() as cm:
            sts.get_caller_identity()
        self.assertError(cm, "InvalidClientTokenId", 403, INVALID_TOKEN)
        rc, _, err = self.p.aws("iam", "list-users", key="AKIAIOSFODNN7EXAMPLE", secret="x",
                                check=False)
        self.assertIn("(InvalidClientTokenId)", err)

    def test_deleted_user_key_stops_working(self):
        _, k = self.user_with_key("leaver")
        sts = self.p.boto3("sts", key=k["AccessKeyId"], secret=k["SecretAccessKey"])
        self.assertIn("leaver", sts.get_caller_identity()["Arn"])
        self.iam.delete_access_key(UserName="leaver", AccessKeyId=k["AccessKeyId"])
        self.iam.delete_user(UserName="leaver")
        with self.fails() as cm:
            sts.get_caller_identity()
        self.assertError(cm, "InvalidClientTokenId", 403, INVALID_TOKEN)

    def test_inactive_key_refused(self):
        _, k = self.user_with_key("sleeper")
        sts = self.p.boto3("sts", key=k["AccessKeyId"], secret=k["SecretAccessKey"])
        self.iam.update_access_key(UserName="sleeper", AccessKeyId=k["AccessKeyId"],
                                   Status="Inactive")
        with self.fails() as cm:
            sts.get_caller_identity()
        self.assertError(cm, "InvalidClientTokenId", 403, INVALID_TOKEN)
        self.iam.update_access_key(UserName="sleeper", AccessKeyId=k["AccessKeyId"],
                                   Status="Active")
        self.assertIn("sleeper", sts.get_caller_identity()["Arn"])

    def test_unsigned_calls(self):
        cfg = botocore.config.Config(signature_version=botocore.UNSIGNED,
                                     retries={"max_attempts": 1})
        import boto3
        for svc, call in (("iam", "list_users"), ("sts", "get_caller_identity")):
            c = boto3.session.Session(region_name="us-east-1").client(
                svc, endpoint_url=self.p.endpoint, config=cfg)
            with self.fails() as cm:
                getattr(c, call)()
            self.assertError(cm, "MissingAuthenticationToken", 403,
                             "Request is missing Authentication Token")
        # Plain urllib, form body, no signature at all.
        req = urllib.request.Request(self.p.endpoint + "/", method="POST",
                                     data=b"Action=ListUsers&Version=2010-05-08")
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(req, timeout=10)
        self.assertEqual(cm.exception.code, 403)
        self.assertIn("<Code>MissingAuthenticationToken</Code>", cm.exception.read().decode())

    def test_presigned_get_caller_identity(self):
        sts = self.p.boto3("sts")
        # HttpMethod="GET" as `aws eks get-token` does (without it botocore signs for POST,
        # the model's method, and a GET of that URL is rightly refused).
        url = sts.generate_presigned_url("get_caller_identity", ExpiresIn=300, HttpMethod="GET")
        self.assertIn("X-Amz-Signature=", url)
        with urllib.request.urlopen(url, timeout=10) as r:
            text = r.read().decode()
        self.assertIn("<Arn>arn:aws:iam::%s:root</Arn>" % ACCOUNT, text)

        _, k = self.user_with_key("presigner")
        usts = self.p.boto3("sts", key=k["AccessKeyId"], secret=k["SecretAccessKey"])
        with urllib.request.urlopen(usts.generate_presigned_url("get_caller_identity",
                                                              HttpMethod="GET"),
                                    timeout=10) as r:
            self.assertIn("user/presigner</Arn>", r.read().decode())

        sig = url.index("X-Amz-Signature=") + len("X-Amz-Signature=")
        flipped = url[:sig] + ("0" if url[sig] != "0" else "1") + url[sig + 1:]
        for bad in (flipped, url + "&Extra=1", url.replace("Action=GetCallerIdentity",
                                                           "Action=GetSessionToken")):
            with self.assertRaises(urllib.error.HTTPError) as cm:
                urllib.request.urlopen(bad, timeout=10)
            self.assertEqual(cm.exception.code, 403, bad)
            self.assertIn("<Code>SignatureDoesNotMatch</Code>", cm.exception.read().decode())


class SessionBindingTest(StsCase):
    """A session belongs to the role it was minted for (by unique id) and to the state it
    was minted in: a recreated role of the same name lends it nothing, a reset ends it."""

    @classmethod
    def setUpClass(cls):
        cls.p = Podiam.start()
        cls.iam = cls.p.boto3("iam")

    @classmethod
    def tearDownClass(cls):
        cls.p.stop()

    TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"},
        "Action": "sts:AssumeRole"}]})

    def role(self, name, actions):
        self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=self.TRUST)
        self.iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}))

    def session(self, name):
        if not hasattr(self, "caller"):
            _, k = self.user_with_key("assumer")
            self.iam.put_user_policy(UserName="assumer", PolicyName="p", PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}))
            type(self).caller = self.p.boto3("sts", key=k["AccessKeyId"],
                                             secret=k["SecretAccessKey"])
        c = self.caller.assume_role(RoleArn="arn:aws:iam::000000000000:role/" + name,
                                            RoleSessionName="ss")["Credentials"]
        return dict(key=c["AccessKeyId"], secret=c["SecretAccessKey"], token=c["SessionToken"])

    def test_recreated_role_does_not_revive_a_session(self):
        self.role("phoenix", ["iam:ListRoles"])
        creds = self.session("phoenix")
        iam = self.p.boto3("iam", **creds)
        iam.list_roles()
        with self.fails():
            iam.list_users()
        self.iam.delete_role_policy(RoleName="phoenix", PolicyName="p")
        self.iam.delete_role(RoleName="phoenix")
        self.role("phoenix", ["*"])  # same name, admin rights: another role
        with self.fails() as cm:
            iam.list_users()
        self.assertError(cm, "AccessDenied", 403)
        with self.fails() as cm:
            iam.list_roles()  # not even what the old role allowed
        self.assertError(cm, "AccessDenied", 403)
        # a new session of the new role has the new rights
        self.p.boto3("iam", **self.session("phoenix")).list_users()

    def test_reset_ends_every_session(self):
        sts = self.p.boto3("sts")
        c = sts.get_session_token()["Credentials"]
        before = self.p.boto3("sts", key=c["AccessKeyId"], secret=c["SecretAccessKey"],
                              token=c["SessionToken"])
        self.assertIn("Arn", before.get_caller_identity())
        self.p.reset()
        with self.fails() as cm:
            before.get_caller_identity()
        self.assertError(cm, "InvalidClientTokenId", 403)
        c = sts.get_session_token()["Credentials"]
        after = self.p.boto3("sts", key=c["AccessKeyId"], secret=c["SecretAccessKey"],
                             token=c["SessionToken"])
        self.assertIn("Arn", after.get_caller_identity())


class TransportTest(StsCase):
    """HTTP framing, on a podiam of its own with a 2048-byte body limit."""

    @classmethod
    def setUpClass(cls):
        cls.p = Podiam.start("--max-body", "2048")

    @classmethod
    def tearDownClass(cls):
        cls.p.stop()

    def conn(self):
        host, port = host_port(self.p.endpoint)
        return http.client.HTTPConnection(host, port, timeout=10)

    def test_expect_100_continue(self):
        h, b = signed_request(self.p.endpoint + "/", "sts", GCI)
        c = self.conn()
        c.putrequest("POST", "/", skip_accept_encoding=True)
        for k, v in h.items():
            c.putheader(k, v)
        c.putheader("Content-Length", str(len(b)))
        c.putheader("Expect", "100-continue")
        c.endheaders()
        interim = b""
        while b"\r\n\r\n" not in interim:
            chunk = c.sock.recv(256)
            self.assertTrue(chunk, "connection closed before 100 Continue")
            interim += chunk
        self.assertTrue(interim.startswith(b"HTTP/1.1 100"), interim)
        c.send(b)
        r = c.getresponse()
        self.assertEqual(r.status, 200)
        self.assertIn("<Arn>arn:aws:iam::%s:root</Arn>" % ACCOUNT, r.read().decode())
        c.close()

    def test_chunked_body(self):
        h, b = signed_request(self.p.endpoint + "/", "sts", GCI)
        c = self.conn()
        pieces = [b[i:i + 7] for i in range(0, len(b), 7)]
        c.request("POST", "/", body=iter(pieces), headers=h, encode_chunked=True)
        r = c.getresponse()
        self.assertEqual(r.status, 200)
        self.assertIn("<GetCallerIdentityResult>", r.read().decode())
        c.close()

    def test_oversized_body_refused_before_it_is_read(self):
        big = dict(GCI, Padding="x" * 4000)
        h, b = signed_request(self.p.endpoint + "/", "sts", big)
        self.assertGreater(len(b), 2048)
        # Content-Length over the limit, body never sent: the answer must come anyway.
        for expect in (False, True):
            c = self.conn()
            c.putrequest("POST", "/", skip_accept_encoding=True)
            for k, v in h.items():
                c.putheader(k, v)
            c.putheader("Content-Length", str(len(b)))
            if expect:
                c.putheader("Expect", "100-continue")
            c.endheaders()
            try:
                r = c.getresponse()
            except socket.timeout:
                self.fail("podiam waited for an over-limit body (expect=%s)" % expect)
            self.assertEqual(r.status, 413)
            body = r.read().decode()
            self.assertIn("<Code>RequestEntityTooLarge</Code>", body)  # STS's XML envelope
            self.assertIn("<RequestId>", body)
            c.close()
        # Chunked (no length announced): refused once the limit is crossed.
        c = self.conn()
        c.putrequest("POST", "/", skip_accept_encoding=True)
        for k, v in h.items():
            c.putheader(k, v)
        c.putheader("Transfer-Encoding", "chunked")
        c.endheaders()
        try:
            for i in range(0, len(b), 512):
                piece = b[i:i + 512]
                c.send(b"%x\r\n%s\r\n" % (len(piece), piece))
            c.send(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        r = c.getresponse()
        self.assertEqual(r.status, 413)
        self.assertIn("<Code>RequestEntityTooLarge</Code>", r.read().decode())
        c.close()
        # A body within the limit still works on a fresh connection.
        h, b = signed_request(self.p.endpoint + "/", "sts", GCI)
        self.assertEqual(self.post(h, b)[0], 200)

    def test_keep_alive(self):
        c = self.conn()
        c.connect()
        local = c.sock.getsockname()
        for i in range(5):
            h, b = signed_request(self.p.endpoint + "/", "sts", GCI)
            c.request("POST", "/", body=b, headers=h)
            r = c.getresponse()
            self.assertEqual(r.status, 200)
            r.read()
            self.assertFalse(r.will_close, "podiam closed a keep-alive connection")
            self.assertIsNotNone(c.sock)
            self.assertEqual(c.sock.getsockname(), local)  # same TCP connection
        # An error response does not close the connection either.
        h, b = signed_request(self.p.endpoint + "/", "sts", GCI, secret="wrong")
        c.request("POST", "/", body=b, headers=h)
        r = c.getresponse()
        self.assertEqual(r.status, 403)
        r.read()
        h, b = signed_request(self.p.endpoint + "/", "sts", GCI)
        c.request("POST", "/", body=b, headers=h)
        r = c.getresponse()
        self.assertEqual(r.status, 200)
        r.read()
        self.assertEqual(c.sock.getsockname(), local)
        c.close()


if __name__ == "__main__":
    unittest.main()
