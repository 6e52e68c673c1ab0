"""The rest of STS a test suite meets (issue 13), with boto3 and the aws CLI:

- GetAccessKeyInfo: the account behind long-term and session keys, whatever their state;
- GetFederationToken: federated-user sessions, their ARN and id, the intersection of the
  federating user's policies with the session policy, tags as principal tags, the root's
  one-hour cap, refusals (session credentials, IAM and STS calls from the session);
- DecodeAuthorizationMessage: a denial's encoded message (in the decision log, and in the
  message itself with --encoded-denials) decoded with sts:DecodeAuthorizationMessage only,
  refused when altered or for another account;
- outbound identity federation: IAM's switch, GetWebIdentityToken (RS256 and ES384, claims,
  lifetime rules, IAM condition keys) and the tokens verified as an external service does,
  from the issuer's discovery document and JWKS served by podiam; such tokens are refused by
  AssumeRoleWithWebIdentity.
"""
import json
import os
import tempfile
import time
import unittest

import botocore.exceptions

import oidc_verify
from podiam_harness import Podiam

ACCOUNT = "000000000000"
OTHER = "111111111111"
OTHER_KEY = ("AKIAOTHERACCOUNT0001", "other-secret")
FIXTURES = {"iam": {"accounts": [{"id": OTHER, "root_access_keys": [
    {"id": OTHER_KEY[0], "secret": OTHER_KEY[1]}]}]}}


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource="*", **cond):
    s = {"Effect": "Allow", "Action": action, "Resource": resource}
    if cond:
        s["Condition"] = cond
    return s


class Case(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        fd, cls.fixtures = tempfile.mkstemp(suffix=".json")
        with os.fdopen(fd, "w") as f:
            json.dump(FIXTURES, f)
        cls.p = Podiam.start("--encoded-denials", "on", "--fixtures", cls.fixtures)
        cls.iam = cls.p.boto3("iam")
        cls.sts = cls.p.boto3("sts")

    @classmethod
    def tearDownClass(cls):
        cls.p.stop()
        os.unlink(cls.fixtures)

    def fails(self, code, status=None):
        test = self

        class Ctx:
            def __enter__(self):
                return self

            def __exit__(self, et, e, tb):
                test.assertIsNotNone(e, "expected %s" % code)
                test.assertIsInstance(e, botocore.exceptions.ClientError, e)
                err = e.response["Error"]
                test.assertEqual(err["Code"], code, e.response)
                if status:
                    test.assertEqual(e.response["ResponseMetadata"]["HTTPStatusCode"], status)
                self.error = err
                return True
        return Ctx()

    def user(self, name, *statements):
        self.iam.create_user(UserName=name)
        if statements:
            self.iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=doc(*statements))
        k = self.iam.create_access_key(UserName=name)["AccessKey"]
        return k["AccessKeyId"], k["SecretAccessKey"]

    def raw(self, svc):
        """A root client that sends what botocore's own validation would stop."""
        import boto3
        import botocore.config
        return boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test",
                                     region_name=self.p.region).client(
            svc, endpoint_url=self.p.endpoint, config=botocore.config.Config(
                parameter_validation=False, retries={"max_attempts": 1}))

    def client(self, svc, creds):
        if isinstance(creds, dict):
            return self.p.boto3(svc, key=creds["AccessKeyId"], secret=creds["SecretAccessKey"],
                                token=creds["SessionToken"])
        return self.p.boto3(svc, key=creds[0], secret=creds[1])


class AccessKeyInfoTest(Case):
    def test_long_term_session_and_foreign_keys(self):
        akid, secret = self.user("aki")
        self.assertEqual(self.sts.get_access_key_info(AccessKeyId=akid)["Account"], ACCOUNT)
        # an inactive key still names its account (the call says nothing of key state)
        self.iam.update_access_key(UserName="aki", AccessKeyId=akid, Status="Inactive")
        self.assertEqual(self.sts.get_access_key_info(AccessKeyId=akid)["Account"], ACCOUNT)
        s = self.sts.get_session_token()["Credentials"]
        self.assertTrue(s["AccessKeyId"].startswith("ASIA"))
        self.assertEqual(self.sts.get_access_key_info(AccessKeyId=s["AccessKeyId"])["Account"],
                         ACCOUNT)
        # AWS's published example key id decodes as AWS decodes it
        self.assertEqual(self.sts.get_access_key_info(
            AccessKeyId="ASIAY34FZKBOKMUTVV7A")["Account"], "609629065308")
        rc, out, _ = self.p.aws("sts", "get-access-key-info", "--access-key-id", akid)
        self.assertEqual(out["Account"], ACCOUNT)
        with self.fails("ValidationError", 400):
            self.raw("sts").get_access_key_info(AccessKeyId="short")

    def test_needs_the_permission(self):
        creds = self.user("aki-none")
        with self.fails("AccessDenied", 403):
            self.client("sts", creds).get_access_key_info(AccessKeyId=creds[0])


class FederationTokenTest(Case):
    def test_session_is_user_policy_and_session_policy(self):
        creds = self.user("fed-boss", allow("sts:GetFederationToken"),
                          allow(["s3:ListAllMyBuckets", "s3:CreateBucket"]))
        sts = self.client("sts", creds)
        out = sts.get_federation_token(
            Name="bob", DurationSeconds=1800,
            Policy=doc(allow(["s3:ListAllMyBuckets", "s3:DeleteBucket"])))
        self.assertEqual(out["FederatedUser"]["Arn"],
                         "arn:aws:sts::%s:federated-user/bob" % ACCOUNT)
        self.assertEqual(out["FederatedUser"]["FederatedUserId"], "%s:bob" % ACCOUNT)
        self.assertIn("PackedPolicySize", out)
        c = out["Credentials"]
        self.assertTrue(c["AccessKeyId"].startswith("ASIA"))
        left = c["Expiration"].timestamp() - time.time()
        self.assertTrue(1700 < left <= 1800, left)
        me = self.client("sts", c).get_caller_identity()
        self.assertEqual(me["Arn"], out["FederatedUser"]["Arn"])
        self.assertEqual(me["UserId"], "%s:bob" % ACCOUNT)
        s3 = self.client("s3", c)
        s3.list_buckets()  # both allow it
        with self.fails("AccessDenied", 403) as e:  # the session policy does not
            s3.create_bucket(Bucket="fed-bucket")
        self.assertIn("federated-user/bob", e.error["Message"])
        self.p.boto3("s3").create_bucket(Bucket="fed-bucket2")
        with self.fails("AccessDenied", 403):  # the user's policy does not
            s3.delete_bucket(Bucket="fed-bucket2")

    def test_no_session_policy_no_permission(self):
        creds = self.user("fed-nopol", allow("sts:GetFederationToken"), allow("s3:*"))
        c = self.client("sts", creds).get_federation_token(Name="nopol")["Credentials"]
        with self.fails("AccessDenied", 403):
            self.client("s3", c).list_buckets()

    def test_tags_are_principal_tags(self):
        creds = self.user("fed-tags", allow(["sts:GetFederationToken", "sts:TagSession"]),
                          allow("s3:ListAllMyBuckets"))
        c = self.client("sts", creds).get_federation_token(
            Name="tagged", Tags=[{"Key": "team", "Value": "blue"}],
            Policy=doc(allow("s3:ListAllMyBuckets", StringEquals={
                "aws:PrincipalTag/team": "blue"})))["Credentials"]
        self.client("s3", c).list_buckets()
        c2 = self.client("sts", creds).get_federation_token(
            Name="tagged2", Tags=[{"Key": "team", "Value": "red"}],
            Policy=doc(allow("s3:ListAllMyBuckets", StringEquals={
                "aws:PrincipalTag/team": "blue"})))["Credentials"]
        with self.fails("AccessDenied", 403):
            self.client("s3", c2).list_buckets()

    def test_tags_need_tag_session(self):
        creds = self.user("fed-notag", allow("sts:GetFederationToken"))
        with self.fails("AccessDenied", 403) as e:
            self.client("sts", creds).get_federation_token(
                Name="x1", Tags=[{"Key": "k", "Value": "v"}])
        self.assertIn("sts:TagSession", e.error["Message"])

    def test_refusals(self):
        with self.fails("AccessDenied", 403):  # no permission
            self.client("sts", self.user("fed-none")).get_federation_token(Name="nn")
        s = self.sts.get_session_token()["Credentials"]
        with self.fails("AccessDenied", 403) as e:
            self.client("sts", s).get_federation_token(Name="nn")
        self.assertEqual(e.error["Message"],
                         "Cannot call GetFederationToken with session credentials")
        with self.fails("ValidationError", 400):
            self.raw("sts").get_federation_token(Name="x")  # 2..32 characters
        with self.fails("MalformedPolicyDocument", 400):
            self.sts.get_federation_token(Name="bad", Policy="{not json")

    def test_root_session_lasts_an_hour_and_cannot_call_iam(self):
        out = self.sts.get_federation_token(Name="rootfed", DurationSeconds=7200,
                                            Policy=doc(allow("*")))
        c = out["Credentials"]
        left = c["Expiration"].timestamp() - time.time()
        self.assertTrue(3500 < left <= 3600, left)
        self.client("s3", c).list_buckets()
        with self.fails("AccessDenied", 403):
            self.client("iam", c).list_users()
        with self.fails("AccessDenied", 403):
            self.client("sts", c).get_session_token()
        self.assertEqual(self.client("sts", c).get_caller_identity()["Arn"],
                         "arn:aws:sts::%s:federated-user/rootfed" % ACCOUNT)

    def test_cli(self):
        rc, out, _ = self.p.aws("sts", "get-federation-token", "--name", "clifed",
                                "--policy-arns", "arn=arn:aws:iam::aws:policy/ReadOnlyAccess")
        self.assertEqual(out["FederatedUser"]["Arn"],
                         "arn:aws:sts::%s:federated-user/clifed" % ACCOUNT)


class DecodeMessageTest(Case):
    def test_decode_with_the_permission_only(self):
        denied = self.user("dm-denied")
        reader = self.user("dm-reader", allow("sts:DecodeAuthorizationMessage"))
        with self.fails("AccessDenied", 403) as e:
            self.client("iam", denied).list_roles()
        msg = e.error["Message"]
        self.assertIn(" Encoded authorization failure message: ", msg)
        enc = msg.split("Encoded authorization failure message: ")[1]
        self.assertLessEqual(len(enc), 10240)
        with self.fails("AccessDenied", 403):  # decoding needs the permission
            self.client("sts", denied).decode_authorization_message(EncodedMessage=enc)
        d = json.loads(self.client("sts", reader).decode_authorization_message(
            EncodedMessage=enc)["DecodedMessage"])
        self.assertEqual((d["allowed"], d["explicitDeny"]), (False, False))
        ctx = d["context"]
        self.assertEqual(ctx["action"], "iam:ListRoles")
        self.assertEqual(ctx["principal"]["arn"], "arn:aws:iam::%s:user/dm-denied" % ACCOUNT)
        self.assertEqual(ctx["principal"]["name"], "dm-denied")
        keys = {c["key"]: [v["value"] for v in c["values"]["items"]]
                for c in ctx["conditions"]["items"]}
        self.assertEqual(keys["aws:username"], ["dm-denied"])
        self.assertEqual(d["matchedStatements"], {"items": []})
        self.assertEqual(d["failures"], {"items": []})
        # the root decodes too; the aws CLI as well
        rc, out, _ = self.p.aws("sts", "decode-authorization-message", "--encoded-message", enc)
        self.assertEqual(json.loads(out["DecodedMessage"])["context"]["action"], "iam:ListRoles")
        # altered or made up: refused
        bad = enc[:-4] + ("AAAA" if not enc.endswith("AAAA") else "BBBB")
        with self.fails("InvalidAuthorizationMessageException", 400):
            self.sts.decode_authorization_message(EncodedMessage=bad)
        with self.fails("InvalidAuthorizationMessageException", 400):
            self.sts.decode_authorization_message(EncodedMessage="not a message")

    def test_explicit_deny_names_the_statement_and_log_has_it(self):
        creds = self.user("dm-deny", allow("iam:*"),
                          {"Sid": "NoRoles", "Effect": "Deny", "Action": "iam:ListRoles",
                           "Resource": "*"})
        with self.fails("AccessDenied", 403) as e:
            self.client("iam", creds).list_roles()
        d = json.loads(self.sts.decode_authorization_message(EncodedMessage=e.error["Message"].split(
            "message: ")[-1])["DecodedMessage"])
        self.assertTrue(d["explicitDeny"])
        self.assertIn({"statementId": "NoRoles", "effect": "DENY"},
                      d["matchedStatements"]["items"])
        # the decision log carries the same encoded message
        entries = self.p.admin("GET", "decisions?principal=arn:aws:iam::%s:user/dm-deny" % ACCOUNT)
        entries = entries.get("decisions", entries) if isinstance(entries, dict) else entries
        enc = [x["encoded_message"] for x in entries if x.get("encoded_message")]
        self.assertTrue(enc)
        d2 = json.loads(self.sts.decode_authorization_message(EncodedMessage=enc[0])[
            "DecodedMessage"])
        self.assertEqual(d2["context"]["action"], "iam:ListRoles")

    def test_other_account_cannot_decode(self):
        with self.fails("AccessDenied", 403) as e:
            self.client("iam", self.user("dm-x")).list_roles()
        enc = e.error["Message"].split("message: ")[-1]
        self.sts.decode_authorization_message(EncodedMessage=enc)
        other = self.client("sts", OTHER_KEY)
        self.assertEqual(other.get_caller_identity()["Account"], OTHER)
        with self.fails("InvalidAuthorizationMessageException", 400):
            other.decode_authorization_message(EncodedMessage=enc)


class OutboundTest(Case):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.issuer = cls.iam.enable_outbound_web_identity_federation()["IssuerIdentifier"]

    def discovery(self):
        return "%s/_podiam/oidc/%s/.well-known/openid-configuration" % (self.p.endpoint,
                                                                       self.issuer[8:])

    def test_switch(self):
        self.assertRegex(self.issuer,
                         r"^https://[0-9a-f-]{36}\.tokens\.sts\.global\.api\.aws$")
        with self.fails("FeatureEnabled", 409):
            self.iam.enable_outbound_web_identity_federation()
        info = self.iam.get_outbound_web_identity_federation_info()
        self.assertEqual((info["IssuerIdentifier"], info["JwtVendingEnabled"]), (self.issuer, True))
        d = oidc_verify.fetch_json(self.discovery())
        self.assertEqual(d["issuer"], self.issuer)
        self.assertEqual(d["id_token_signing_alg_values_supported"], ["RS256", "ES384"])
        keys = oidc_verify.fetch_json(d["jwks_uri"])["keys"]
        self.assertEqual([(k["kid"], k["kty"], k["alg"]) for k in keys],
                         [("RSA_0", "RSA", "RS256"), ("EC384_0", "EC", "ES384")])

    def test_tokens_verify_as_an_external_service_verifies(self):
        self.iam.create_role(RoleName="wit", Path="/svc/", Tags=[{"Key": "team", "Value": "a"}],
                             AssumeRolePolicyDocument=doc({
                                 "Effect": "Allow", "Action": ["sts:AssumeRole", "sts:TagSession"],
                                 "Principal": {"AWS": "arn:aws:iam::%s:root" % ACCOUNT}}))
        self.iam.put_role_policy(RoleName="wit", PolicyName="p", PolicyDocument=doc(
            allow(["sts:GetWebIdentityToken", "sts:TagGetWebIdentityToken"])))
        caller = self.user("wit-caller", allow(["sts:AssumeRole", "sts:TagSession"]))
        role = self.client("sts", caller).assume_role(RoleArn="arn:aws:iam::%s:role/svc/wit" % ACCOUNT,
                                    RoleSessionName="s1", DurationSeconds=900,
                                    Tags=[{"Key": "env", "Value": "ci"}])["Credentials"]
        sts = self.client("sts", role)
        for alg in ("RS256", "ES384"):
            out = sts.get_web_identity_token(Audience=["https://api.example.com"],
                                             SigningAlgorithm=alg, DurationSeconds=120,
                                             Tags=[{"Key": "job", "Value": "42"}])
            tok = out["WebIdentityToken"]
            header = oidc_verify.parts(tok)[0]
            self.assertEqual(header["alg"], alg)
            c = oidc_verify.verify(tok, self.discovery(), "https://api.example.com")
            self.assertEqual(c["iss"], self.issuer)
            self.assertEqual(c["aud"], "https://api.example.com")
            self.assertEqual(c["sub"], "arn:aws:iam::%s:role/svc/wit" % ACCOUNT)
            self.assertEqual(c["exp"] - c["iat"], 120)
            self.assertAlmostEqual(out["Expiration"].timestamp(), c["exp"], delta=1)
            aws = c["https://sts.amazonaws.com/"]
            self.assertEqual(aws["aws_account"], ACCOUNT)
            self.assertEqual(aws["source_region"], "us-east-1")
            self.assertEqual(aws["request_tags"], {"job": "42"})
            self.assertEqual(aws["principal_tags"], {"team": "a", "env": "ci"})
            self.assertIn("original_session_exp", aws)
            # a forged token (claims altered) does not verify
            h, p, s = tok.split(".")
            forged = h + "." + oidc_verify.base64.urlsafe_b64encode(json.dumps(
                dict(c, sub="arn:aws:iam::%s:root" % ACCOUNT)).encode()).decode().rstrip(
                "=") + "." + s
            with self.assertRaises(Exception):
                oidc_verify.verify(forged, self.discovery(), "https://api.example.com")
        # several audiences: an array
        c = oidc_verify.parts(sts.get_web_identity_token(
            Audience=["a1", "a2"], SigningAlgorithm="RS256")["WebIdentityToken"])[1]
        self.assertEqual(c["aud"], ["a1", "a2"])
        self.assertEqual(c["exp"] - c["iat"], 300)  # the default lifetime
        # a token may not outlive the session that asks for it
        with self.fails("SessionDurationEscalationException", 403):
            sts.get_web_identity_token(Audience=["x"], SigningAlgorithm="RS256",
                                       DurationSeconds=3600)

    def test_rules(self):
        with self.fails("ValidationError", 400):
            self.sts.get_web_identity_token(Audience=["x"], SigningAlgorithm="HS256")
        with self.fails("ValidationError", 400):
            self.raw("sts").get_web_identity_token(Audience=["x"], SigningAlgorithm="RS256",
                                                   DurationSeconds=3601)
        with self.fails("ValidationError", 400):
            self.raw("sts").get_web_identity_token(Audience=[], SigningAlgorithm="RS256")
        with self.fails("JWTPayloadSizeExceededException", 400):
            self.sts.get_web_identity_token(
                Audience=["x" * 1000] * 10, SigningAlgorithm="RS256",
                Tags=[{"Key": "k%d" % i, "Value": "v" * 256} for i in range(50)])

    def test_condition_keys(self):
        creds = self.user("wit-cond", {
            "Effect": "Allow", "Action": "sts:GetWebIdentityToken", "Resource": "*",
            "Condition": {"ForAllValues:StringEquals": {"sts:IdentityTokenAudience": ["good"]},
                          "StringEquals": {"sts:SigningAlgorithm": "ES384"},
                          "NumericLessThanEquals": {"sts:DurationSeconds": "300"}}})
        sts = self.client("sts", creds)
        sts.get_web_identity_token(Audience=["good"], SigningAlgorithm="ES384")
        for kw in ({"Audience": ["good", "bad"], "SigningAlgorithm": "ES384"},
                   {"Audience": ["good"], "SigningAlgorithm": "RS256"},
                   {"Audience": ["good"], "SigningAlgorithm": "ES384", "DurationSeconds": 600}):
            with self.fails("AccessDenied", 403):
                sts.get_web_identity_token(**kw)
        with self.fails("AccessDenied", 403) as e:  # tags need sts:TagGetWebIdentityToken
            sts.get_web_identity_token(Audience=["good"], SigningAlgorithm="ES384",
                                       Tags=[{"Key": "a", "Value": "b"}])
        self.assertIn("sts:TagGetWebIdentityToken", e.error["Message"])

    def test_not_for_assume_role_with_web_identity(self):
        tok = self.sts.get_web_identity_token(Audience=["sts.amazonaws.com"],
                                              SigningAlgorithm="RS256")["WebIdentityToken"]
        self.iam.create_open_id_connect_provider(Url=self.issuer,
                                                 ClientIDList=["sts.amazonaws.com"])
        prov = "arn:aws:iam::%s:oidc-provider/%s" % (ACCOUNT, self.issuer[8:])
        self.iam.create_role(RoleName="wit-in", AssumeRolePolicyDocument=doc({
            "Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
            "Principal": {"Federated": prov}}))
        with self.fails("InvalidIdentityToken", 400):
            self.p.boto3("sts").assume_role_with_web_identity(
                RoleArn="arn:aws:iam::%s:role/wit-in" % ACCOUNT, RoleSessionName="xx",
                WebIdentityToken=tok)

    def test_cli_and_disable(self):
        rc, out, _ = self.p.aws("sts", "get-web-identity-token", "--audience", "cli-aud",
                                "--signing-algorithm", "ES384")
        self.assertEqual(oidc_verify.verify(out["WebIdentityToken"], self.discovery(),
                                            "cli-aud")["aud"], "cli-aud")


class OutboundDisabledTest(Case):
    def test_disabled(self):
        with self.fails("OutboundWebIdentityFederationDisabledException", 403):
            self.sts.get_web_identity_token(Audience=["x"], SigningAlgorithm="RS256")
        with self.fails("FeatureDisabled", 404):
            self.iam.get_outbound_web_identity_federation_info()
        with self.fails("FeatureDisabled", 404):
            self.iam.disable_outbound_web_identity_federation()
        issuer = self.iam.enable_outbound_web_identity_federation()["IssuerIdentifier"]
        self.iam.disable_outbound_web_identity_federation()
        info = self.iam.get_outbound_web_identity_federation_info()
        self.assertEqual((info["IssuerIdentifier"], info["JwtVendingEnabled"]), (issuer, False))
        with self.fails("OutboundWebIdentityFederationDisabledException", 403):
            self.sts.get_web_identity_token(Audience=["x"], SigningAlgorithm="RS256")
        # enabled again: the same issuer
        self.assertEqual(self.iam.enable_outbound_web_identity_federation()["IssuerIdentifier"],
                         issuer)


if __name__ == "__main__":
    unittest.main()
