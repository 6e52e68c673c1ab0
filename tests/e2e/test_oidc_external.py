"""External OIDC issuers (issue 13): an IAM OIDC provider whose issuer podiam does not host
gets its keys the way STS does — discovery, then jwks_uri — from a small issuer this test runs
on loopback (tests/e2e/local_issuer.py), with boto3 and the aws CLI:

- plain http only to loopback and only with --oidc-http-loopback on; https with the issuer's
  own CA given by --oidc-ca-file, and refused without it (an untrusted certificate);
- keys cached (no fetch per request), refetched when a token names an unknown kid (rotation);
- a slow, broken (not JSON, HTTP 500, wrong issuer) or huge issuer, and keys whose alg does not
  fit the token, each refused with STS's error, logged and explained in the decision log;
- no IAM OIDC provider for an issuer: no fetch at all.
"""
import json
import os
import shutil
import tempfile
import time
import unittest

import botocore.exceptions

from local_issuer import Issuer, Key
from podiam_harness import Podiam

ACCOUNT = "000000000000"
THUMB = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"
NO_KEY = ("Couldn't retrieve verification key from your identity provider,  please reference "
          "AssumeRoleWithWebIdentity documentation for requirements")


def trust(provider_arn, host):
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": provider_arn},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {host + ":sub": "ci-job"}}}]})


class Base(unittest.TestCase):
    def fails(self, code, message=None):
        test = self

        class Ctx:
            def __enter__(self):
                return self

            def __exit__(self, et, e, tb):
                test.assertIsInstance(e, botocore.exceptions.ClientError, "expected %s" % code)
                err = e.response["Error"]
                test.assertEqual(err["Code"], code, e.response)
                if message:
                    test.assertEqual(err["Message"], message)
                self.error = err
                self.request_id = e.response["ResponseMetadata"].get("RequestId")
                return True
        return Ctx()

    @classmethod
    def provider(cls, p, url, role):
        iam = p.boto3("iam")
        arn = iam.create_open_id_connect_provider(
            Url=url, ClientIDList=["sts.amazonaws.com"], ThumbprintList=[THUMB])[
                "OpenIDConnectProviderArn"]
        host = url.split("://", 1)[1]
        iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust(arn, host))
        return "arn:aws:iam::%s:role/%s" % (ACCOUNT, role)

    def assume(self, role_arn, token, sts=None):
        return (sts or self.sts).assume_role_with_web_identity(
            RoleArn=role_arn, RoleSessionName="ci", WebIdentityToken=token)

    def trace(self, p, request_id):
        d = p.admin("GET", "decisions?request_id=%s" % request_id)["decisions"]
        self.assertTrue(d, "no decision for %s" % request_id)
        self.assertEqual(d[0]["decision"], "invalidToken")
        return d[0]["token"]


class LoopbackIssuers(Base):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="podiam-issuer-")
        cls.idp = Issuer()
        cls.tls = Issuer(tls=True, tmpdir=cls.tmp)
        cls.p = Podiam.start("--oidc-http-loopback", "on", "--oidc-fetch-timeout", "1",
                             "--oidc-ca-file", cls.tls.ca_file)
        cls.sts = cls.p.boto3("sts")
        cls.roles = {}
        for name, mode in [("ok", "ok"), ("rot", "ok"), ("slow", "slow"), ("notjson", "notjson"),
                           ("huge", "huge"), ("status", "status"), ("badissuer", "badissuer"),
                           ("alg", "ok"), ("ec", "ok"), ("aud", "ok")]:
            cls.roles[name] = cls.provider(cls.p, cls.idp.add(name, mode), "ext-" + name)
        cls.roles["tls"] = cls.provider(cls.p, cls.tls.add("tls"), "ext-tls")
        cls.idp.add("noprovider")

    @classmethod
    def tearDownClass(cls):
        cls.p.stop()
        cls.idp.stop()
        cls.tls.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_http_loopback_issuer(self):
        out = self.assume(self.roles["ok"], self.idp.token("ok"))
        self.assertEqual(out["SubjectFromWebIdentityToken"], "ci-job")
        self.assertEqual(out["Provider"], self.provider_arn("ok"))
        self.assertEqual(out["Audience"], "sts.amazonaws.com")
        c = out["Credentials"]
        who = self.p.boto3("sts", key=c["AccessKeyId"], secret=c["SecretAccessKey"],
                           token=c["SessionToken"]).get_caller_identity()
        self.assertEqual(who["Arn"], "arn:aws:sts::%s:assumed-role/ext-ok/ci" % ACCOUNT)
        # cached: a second token costs no fetch
        before = self.idp.hits_for("ok")
        self.assume(self.roles["ok"], self.idp.token("ok"))
        self.assertEqual(self.idp.hits_for("ok"), before)

    def provider_arn(self, name):
        return "arn:aws:iam::%s:oidc-provider/127.0.0.1:%d/%s" % (ACCOUNT, self.idp.port, name)

    def test_aws_cli(self):
        rc, out, err = self.p.aws("sts", "assume-role-with-web-identity", "--role-arn",
                                  self.roles["ok"], "--role-session-name", "cli",
                                  "--web-identity-token", self.idp.token("ok"))
        self.assertEqual(out["AssumedRoleUser"]["Arn"],
                         "arn:aws:sts::%s:assumed-role/ext-ok/cli" % ACCOUNT)
        rc, out, err = self.p.aws("sts", "assume-role-with-web-identity", "--role-arn",
                                  self.roles["ok"], "--role-session-name", "cli",
                                  "--web-identity-token", self.idp.token("ok", aud="other"),
                                  check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn("InvalidIdentityToken", err)
        self.assertIn("Incorrect token audience", err)

    def test_https_issuer_with_ca_file(self):
        out = self.assume(self.roles["tls"], self.tls.token("tls"))
        self.assertEqual(out["SubjectFromWebIdentityToken"], "ci-job")
        self.assertGreater(self.tls.hits_for("tls"), 0)

    def test_rotation_refetches_on_unknown_kid(self):
        old = self.idp.keys["rot"][0]
        self.assume(self.roles["rot"], self.idp.token("rot"))
        new = Key("rot-2")
        self.idp.keys["rot"] = [new]
        # an unknown kid triggers a fetch, at most one per 5 s of podiam's clock
        self.p.admin("POST", "clock", {"advance_ms": 6000})
        before = self.idp.hits_for("rot")
        self.assume(self.roles["rot"], self.idp.token("rot", key=new))
        self.assertEqual(self.idp.hits_for("rot"), before + 2)  # discovery + keys
        # the retired key: refused, and no new fetch within the 5 s
        with self.fails("InvalidIdentityToken", NO_KEY) as e:
            self.assume(self.roles["rot"], self.idp.token("rot", key=old))
        self.assertEqual(self.idp.hits_for("rot"), before + 2)
        t = self.trace(self.p, e.request_id)
        self.assertEqual(t["step"], "keys")
        self.assertEqual(t["kid"], "rot-1")

    def test_forged_token(self):
        forger = Key("ok-1")  # the issuer's kid, another key
        with self.fails("InvalidIdentityToken") as e:
            self.assume(self.roles["ok"], self.idp.token("ok", key=forger))
        self.assertIn("could not be validated", e.error["Message"])
        self.assertEqual(self.trace(self.p, e.request_id)["step"], "signature")

    def test_wrong_audience_and_expired(self):
        with self.fails("InvalidIdentityToken", "Incorrect token audience"):
            self.assume(self.roles["aud"], self.idp.token("aud", aud="someone-else"))
        with self.fails("ExpiredTokenException"):
            self.assume(self.roles["aud"], self.idp.token("aud", lifetime=-3600))

    def test_alg_mismatch(self):
        # the JWKS says RS512, the token RS256: the key's algorithm decides
        k = self.idp.keys["alg"][0]
        k.jwk_alg = "RS512"
        with self.fails("InvalidIdentityToken") as e:
            self.assume(self.roles["alg"], self.idp.token("alg"))
        self.assertEqual(self.trace(self.p, e.request_id)["step"], "signature")
        # an EC key, a token claiming RS256 under its kid
        self.idp.keys["ec"] = [Key("ec-1", "EC")]
        ok = self.idp.token("ec")
        self.assume(self.roles["ec"], ok)
        h, rest = ok.split(".", 1)
        import base64
        forged_header = base64.urlsafe_b64encode(json.dumps(
            {"alg": "RS256", "typ": "JWT", "kid": "ec-1"}).encode()).rstrip(b"=").decode()
        with self.fails("InvalidIdentityToken"):
            self.assume(self.roles["ec"], forged_header + "." + rest)

    def failing_issuer(self, name, reason_part):
        t0 = time.monotonic()
        with self.fails("InvalidIdentityToken", NO_KEY) as e:
            self.assume(self.roles[name], self.idp.token(name))
        took = time.monotonic() - t0
        t = self.trace(self.p, e.request_id)
        self.assertEqual(t["step"], "keys")
        self.assertIn(reason_part, t["keys"])
        self.assertIn(reason_part, self.p.logs())
        return took

    def test_slow_issuer(self):
        took = self.failing_issuer("slow", "within 1000 ms")
        self.assertLess(took, 2.9)  # bounded by --oidc-fetch-timeout, not the issuer
        # remembered: the next request does not wait again
        t0 = time.monotonic()
        with self.fails("InvalidIdentityToken", NO_KEY):
            self.assume(self.roles["slow"], self.idp.token("slow"))
        self.assertLess(time.monotonic() - t0, 0.9)

    def test_not_json(self):
        self.failing_issuer("notjson", "not a JSON object")

    def test_huge_jwks(self):
        self.failing_issuer("huge", "larger than 262144 bytes")

    def test_http_error(self):
        self.failing_issuer("status", "HTTP status 500")

    def test_discovery_names_another_issuer(self):
        self.failing_issuer("badissuer", "issuer is not the token's iss")

    def test_no_provider_no_fetch(self):
        with self.fails("InvalidIdentityToken") as e:
            self.assume(self.roles["ok"], self.idp.token("noprovider"))
        self.assertIn("No OpenIDConnect provider found", e.error["Message"])
        self.assertEqual(self.idp.hits_for("noprovider"), 0)
        self.assertEqual(self.trace(self.p, e.request_id)["step"], "provider")


class WithoutFlags(Base):
    """A podiam without --oidc-http-loopback and --oidc-ca-file."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="podiam-issuer-")
        cls.idp = Issuer()
        cls.tls = Issuer(tls=True, tmpdir=cls.tmp)
        cls.p = Podiam.start()
        cls.sts = cls.p.boto3("sts")

    @classmethod
    def tearDownClass(cls):
        cls.p.stop()
        cls.idp.stop()
        cls.tls.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_plain_http_refused(self):
        iam = self.p.boto3("iam")
        with self.fails("ValidationError", "Invalid Open ID Connect Provider URL"):
            iam.create_open_id_connect_provider(Url=self.idp.add("x"), ClientIDList=["a"],
                                                ThumbprintList=[THUMB])
        self.assertEqual(self.idp.hits_for("x"), 0)

    def test_untrusted_certificate(self):
        role = self.provider(self.p, self.tls.add("untrusted"), "untrusted")
        with self.fails("InvalidIdentityToken", NO_KEY) as e:
            self.assume(role, self.tls.token("untrusted"))
        t = self.trace(self.p, e.request_id)
        self.assertEqual(t["step"], "keys")
        self.assertIn("discovery", t["keys"])


if __name__ == "__main__":
    unittest.main()
