"""EKS clusters, their OIDC issuers and STS AssumeRoleWithWebIdentity with real clients.

The IRSA handshake end to end: a cluster made with the aws CLI and boto3, its discovery and
JWKS documents fetched over http (loopback path and Host header), a service-account token
minted through the admin API, an IAM OIDC provider and a role trusting it, then credentials
obtained by boto3 (the API call, unsigned, and botocore's web-identity credential provider)
and by the aws CLI's provider; forged tokens are refused with STS's codes.
"""
import base64
import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

from podiam_harness import Podiam

ACCT = "000000000000"
SUB = "system:serviceaccount:payments:api"
# the thumbprint AWS documents for EKS issuers (any 40 hex digits would do: podiam, like AWS
# for the issuers it trusts, does not use it)
THUMBPRINT = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"
EKS_TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"},
    "Action": "sts:AssumeRole"}]}


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def b64url_json(o):
    return b64url(json.dumps(o, separators=(",", ":")).encode())


def http_json(url, host=None):
    req = urllib.request.Request(url)
    if host:
        req.add_header("Host", host)
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


class EksOidcTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.p = Podiam.start()
        cls.iam = cls.p.boto3("iam")
        cls.iam.create_role(RoleName="eks-cluster-role",
                            AssumeRolePolicyDocument=json.dumps(EKS_TRUST))
        cls.cluster_role = "arn:aws:iam::%s:role/eks-cluster-role" % ACCT
        # The IRSA setup: cluster, issuer, provider, role.
        _, out, _ = cls.p.aws("eks", "create-cluster", "--name", "irsa",
                              "--role-arn", cls.cluster_role,
                              "--resources-vpc-config", "subnetIds=subnet-a,subnet-b")
        cls.issuer = out["cluster"]["identity"]["oidc"]["issuer"]
        cls.host_path = cls.issuer[len("https://"):]
        # with a thumbprint: Debian 12's aws CLI 2.9 requires one (AWS made it optional in
        # 2023; tests/e2e/js/webidentity.test.mjs creates a provider without)
        _, out, _ = cls.p.aws("iam", "create-open-id-connect-provider", "--url", cls.issuer,
                              "--client-id-list", "sts.amazonaws.com",
                              "--thumbprint-list", THUMBPRINT)
        cls.provider = out["OpenIDConnectProviderArn"]
        trust = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Federated": cls.provider},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {cls.host_path + ":sub": SUB,
                                           cls.host_path + ":aud": "sts.amazonaws.com"}}}]}
        cls.iam.create_role(RoleName="payments-api", AssumeRolePolicyDocument=json.dumps(trust))
        cls.role_arn = "arn:aws:iam::%s:role/payments-api" % ACCT

    @classmethod
    def tearDownClass(cls):
        cls.p.stop()

    def mint(self, claims=None, ttl=3600, issuer=None):
        body = {"issuer": issuer or self.issuer, "ttl": ttl,
                "claims": claims if claims is not None else {"sub": SUB,
                                                             "aud": ["sts.amazonaws.com"]}}
        return self.p.admin("POST", "oidc/token", body)["token"]

    def unsigned_sts(self):
        import botocore
        import botocore.config
        import boto3
        cfg = botocore.config.Config(signature_version=botocore.UNSIGNED,
                                     retries={"max_attempts": 1})
        return boto3.session.Session(region_name=self.p.region).client(
            "sts", endpoint_url=self.p.endpoint, config=cfg)

    # ---- EKS ------------------------------------------------------------------------------
    def test_cli_cluster_lifecycle(self):
        _, out, _ = self.p.aws("eks", "create-cluster", "--name", "cli-demo", "--role-arn",
                               self.cluster_role, "--kubernetes-version", "1.31",
                               "--resources-vpc-config", "subnetIds=subnet-1,subnet-2",
                               "--tags", "team=core")
        c = out["cluster"]
        self.assertEqual(c["status"], "ACTIVE")
        self.assertEqual(c["version"], "1.31")
        self.assertEqual(c["arn"], "arn:aws:eks:us-east-1:%s:cluster/cli-demo" % ACCT)
        self.assertRegex(c["identity"]["oidc"]["issuer"],
                         r"^https://oidc\.eks\.us-east-1\.amazonaws\.com/id/[0-9A-F]{32}$")
        self.assertTrue(c["endpoint"].startswith("https://127.0.0.1:"))
        self.assertEqual(base64.b64decode(c["certificateAuthority"]["data"]),
                         self.p.admin("GET", "ca.pem"))
        _, out, _ = self.p.aws("eks", "describe-cluster", "--name", "cli-demo")
        self.assertEqual(out["cluster"]["tags"], {"team": "core"})
        _, out, _ = self.p.aws("eks", "list-clusters")
        self.assertIn("cli-demo", out["clusters"])
        # kubeconfig: the CLI refuses clusters that are not ACTIVE
        kc = os.path.join(self.p.home, "kubeconfig")
        self.p.aws("eks", "update-kubeconfig", "--name", "cli-demo", "--kubeconfig", kc)
        with open(kc) as f:
            text = f.read()
        self.assertIn(c["endpoint"], text)
        self.assertIn(c["certificateAuthority"]["data"], text)
        code, _, err = self.p.aws("eks", "create-cluster", "--name", "cli-demo", "--role-arn",
                                  self.cluster_role, "--resources-vpc-config",
                                  "subnetIds=subnet-1", check=False)
        self.assertNotEqual(code, 0)
        self.assertIn("ResourceInUseException", err)
        _, out, _ = self.p.aws("eks", "delete-cluster", "--name", "cli-demo")
        self.assertEqual(out["cluster"]["status"], "DELETING")
        code, _, err = self.p.aws("eks", "describe-cluster", "--name", "cli-demo", check=False)
        self.assertIn("ResourceNotFoundException", err)
        self.assertIn("No cluster found for name: cli-demo.", err)

    def test_boto3_cluster_lifecycle_and_errors(self):
        import botocore
        eks = self.p.boto3("eks")
        names = ["b3-%d" % i for i in range(3)]
        for n in names:
            eks.create_cluster(name=n, roleArn=self.cluster_role, resourcesVpcConfig={})
        page = eks.list_clusters(maxResults=2)
        self.assertEqual(len(page["clusters"]), 2)
        rest = eks.list_clusters(maxResults=2, nextToken=page["nextToken"])
        allnames = page["clusters"] + rest["clusters"]
        for n in names:
            self.assertIn(n, allnames)
        upd = eks.update_cluster_config(name=names[0], logging={"clusterLogging": [
            {"types": ["api"], "enabled": True}]})["update"]
        self.assertEqual(upd["type"], "LoggingUpdate")
        self.assertEqual(eks.describe_update(name=names[0], updateId=upd["id"])["update"]
                         ["status"], "Successful")
        arn = eks.describe_cluster(name=names[0])["cluster"]["arn"]
        eks.tag_resource(resourceArn=arn, tags={"env": "ci"})
        self.assertEqual(eks.list_tags_for_resource(resourceArn=arn)["tags"], {"env": "ci"})
        eks.untag_resource(resourceArn=arn, tagKeys=["env"])
        self.assertEqual(eks.list_tags_for_resource(resourceArn=arn)["tags"], {})
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            eks.describe_cluster(name="missing")
        self.assertEqual(cm.exception.response["Error"]["Code"], "ResourceNotFoundException")
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 404)
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            eks.create_cluster(name="bad-role", roleArn="arn:aws:iam::%s:role/nope" % ACCT,
                               resourcesVpcConfig={})
        self.assertEqual(cm.exception.response["Error"]["Code"], "InvalidParameterException")
        for n in names:
            eks.delete_cluster(name=n)

    # ---- issuer documents -----------------------------------------------------------------
    def test_discovery_and_jwks_over_http(self):
        loop = self.p.endpoint + "/_podiam/oidc/" + self.host_path
        d = http_json(loop + "/.well-known/openid-configuration")
        self.assertEqual(d["issuer"], self.issuer)
        self.assertEqual(d["jwks_uri"], loop + "/keys")
        self.assertEqual(d["id_token_signing_alg_values_supported"], ["RS256"])
        keys = http_json(d["jwks_uri"])["keys"]
        self.assertEqual(len(keys), 1)
        k = keys[0]
        self.assertEqual((k["kty"], k["alg"], k["use"], k["e"]), ("RSA", "RS256", "sig", "AQAB"))
        # kid = RFC 7638 thumbprint
        canon = json.dumps({"e": k["e"], "kty": "RSA", "n": k["n"]}, separators=(",", ":"))
        self.assertEqual(k["kid"], b64url(hashlib.sha256(canon.encode()).digest()))
        # by Host header, as a client whose DNS points the issuer host at podiam
        host, path = self.host_path.split("/", 1)
        d2 = http_json(self.p.endpoint + "/" + path + "/.well-known/openid-configuration",
                       host=host)
        self.assertEqual(d2["issuer"], self.issuer)
        self.assertEqual(http_json(self.p.endpoint + "/" + path + "/keys", host=host)["keys"],
                         keys)
        # the token header names that kid
        tok = self.mint()
        header = json.loads(base64.urlsafe_b64decode(tok.split(".")[0] + "=="))
        self.assertEqual(header, {"alg": "RS256", "kid": k["kid"]})

    # ---- AssumeRoleWithWebIdentity --------------------------------------------------------
    def test_boto3_assume_role_with_web_identity(self):
        r = self.unsigned_sts().assume_role_with_web_identity(
            RoleArn=self.role_arn, RoleSessionName="irsa-test", WebIdentityToken=self.mint())
        self.assertEqual(r["SubjectFromWebIdentityToken"], SUB)
        self.assertEqual(r["Provider"], self.provider)
        self.assertEqual(r["Audience"], "sts.amazonaws.com")
        cr = r["Credentials"]
        self.assertTrue(cr["AccessKeyId"].startswith("ASIA"))
        sts = self.p.boto3("sts", key=cr["AccessKeyId"], secret=cr["SecretAccessKey"],
                           token=cr["SessionToken"])
        self.assertEqual(sts.get_caller_identity()["Arn"],
                         "arn:aws:sts::%s:assumed-role/payments-api/irsa-test" % ACCT)

    def provider_env(self, token, reads_endpoint_url):
        """A pod's environment: the token file and the role. A client that reads
        AWS_ENDPOINT_URL_STS gets it; an older one (Debian 12's botocore 1.29, aws CLI 2.9)
        dials https://sts[.REGION].amazonaws.com and gets podiam's proxy and CA instead, as
        `podiamctl run` gives them."""
        tf = os.path.join(self.p.home, "token-%d" % time.time_ns())
        with open(tf, "w") as f:
            f.write(token)
        env = self.p.client_env(extra={"AWS_WEB_IDENTITY_TOKEN_FILE": tf,
                                       "AWS_ROLE_ARN": self.role_arn,
                                       "AWS_ROLE_SESSION_NAME": "provider"})
        if reads_endpoint_url:
            env["AWS_ENDPOINT_URL_STS"] = self.p.endpoint
        else:
            self.assertTrue(self.p.proxy, "this client ignores AWS_ENDPOINT_URL_STS and podiam "
                            "has no forward proxy (issue 10) to reach it through")
            env.update({"HTTPS_PROXY": self.p.proxy, "https_proxy": self.p.proxy,
                        "NO_PROXY": "localhost,127.0.0.1,::1",
                        "no_proxy": "localhost,127.0.0.1,::1",
                        "AWS_CA_BUNDLE": self.p.ca_file()})
        for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            env.pop(k, None)
        return env

    def test_botocore_web_identity_provider(self):
        import botocore
        ver = tuple(int(x) for x in botocore.__version__.split(".")[:2])
        # service endpoints (AWS_ENDPOINT_URL_STS) came in botocore 1.31
        env = self.provider_env(self.mint(), ver >= (1, 31))
        script = ("import boto3\n"
                  "s = boto3.session.Session()\n"
                  "c = s.get_credentials().get_frozen_credentials()\n"
                  "print(c.access_key[:4])\n"
                  "print(s.client('sts').get_caller_identity()['Arn'])\n")
        p = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                           env=env, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr + self.p.logs()[-3000:])
        self.assertEqual(p.stdout.split(), [
            "ASIA", "arn:aws:sts::%s:assumed-role/payments-api/provider" % ACCT])

    def test_cli_web_identity_provider(self):
        v = subprocess.run(["aws", "--version"], capture_output=True, text=True).stdout
        m = re.match(r"aws-cli/(\d+)\.(\d+)", v)
        ver = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
        # AWS_ENDPOINT_URL_STS: aws CLI 1.29 and 2.13 on
        reads = ver >= (2, 13) or (ver[0] == 1 and ver >= (1, 29))
        p = subprocess.run(["aws", "sts", "get-caller-identity", "--output", "json"],
                           capture_output=True, text=True,
                           env=self.provider_env(self.mint(), reads), timeout=60)
        self.assertEqual(p.returncode, 0, v + p.stderr)
        self.assertEqual(json.loads(p.stdout)["Arn"],
                         "arn:aws:sts::%s:assumed-role/payments-api/provider" % ACCT)

    def test_trust_conditions_refuse_other_subjects(self):
        import botocore
        tok = self.mint({"sub": "system:serviceaccount:payments:other",
                         "aud": ["sts.amazonaws.com"]})
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.unsigned_sts().assume_role_with_web_identity(
                RoleArn=self.role_arn, RoleSessionName="xx", WebIdentityToken=tok)
        e = cm.exception.response
        self.assertEqual(e["Error"]["Code"], "AccessDenied")
        self.assertEqual(e["Error"]["Message"],
                         "Not authorized to perform sts:AssumeRoleWithWebIdentity")
        self.assertEqual(e["ResponseMetadata"]["HTTPStatusCode"], 403)

    def test_forged_tokens_are_refused(self):
        import botocore
        good = self.mint()
        h, p, s = good.split(".")
        payload = json.loads(base64.urlsafe_b64decode(p + "=="))
        header = json.loads(base64.urlsafe_b64decode(h + "=="))
        jwks = json.dumps(http_json(self.p.endpoint + "/_podiam/oidc/" + self.host_path +
                                    "/keys")).encode()
        hs_input = b64url_json({"alg": "HS256", "kid": header["kid"]}) + "." + p
        flipped = s[:-4] + ("AAAA" if not s.endswith("AAAA") else "BBBB")
        other = dict(payload, sub="system:serviceaccount:kube-system:admin")
        cases = [
            ("alg none", b64url_json({"alg": "none"}) + "." + p + ".", "InvalidIdentityToken"),
            ("HS256 keyed with the public key", hs_input + "." + b64url(
                hmac.new(jwks, hs_input.encode(), hashlib.sha256).digest()),
             "InvalidIdentityToken"),
            ("unknown kid", b64url_json({"alg": "RS256", "kid": "nope"}) + "." + p + "." + s,
             "InvalidIdentityToken"),
            ("stripped signature", h + "." + p + ".", "InvalidIdentityToken"),
            ("altered signature", h + "." + p + "." + flipped, "InvalidIdentityToken"),
            ("altered claims", h + "." + b64url_json(other) + "." + s, "InvalidIdentityToken"),
            ("wrong aud", self.mint({"sub": SUB, "aud": "someone-else"}),
             "InvalidIdentityToken"),
            ("expired", self.mint({"sub": SUB, "aud": ["sts.amazonaws.com"],
                                   "iat": int(time.time()) - 7200,
                                   "exp": int(time.time()) - 3600}), "ExpiredTokenException"),
            ("not a JWT", "this-is-not-a-jwt", "InvalidIdentityToken"),
            ("oversized", "a" * 20001, "ValidationError"),
        ]
        sts = self.unsigned_sts()
        for name, tok, code in cases:
            with self.subTest(name):
                with self.assertRaises(botocore.exceptions.ClientError) as cm:
                    sts.assume_role_with_web_identity(RoleArn=self.role_arn,
                                                      RoleSessionName="forged",
                                                      WebIdentityToken=tok)
                self.assertEqual(cm.exception.response["Error"]["Code"], code)
                self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"],
                                 400)

    def test_rotation_and_hosted_issuer(self):
        # a stand-alone issuer (a CI provider's tokens), its provider and role
        gh = "https://token.actions.githubusercontent.com"
        made = self.p.admin("POST", "oidc/issuers", {"url": gh})
        self.assertEqual(made["issuer"], gh)
        _, out, _ = self.p.aws("iam", "create-open-id-connect-provider", "--url", gh,
                               "--client-id-list", "sts.amazonaws.com",
                               "--thumbprint-list", THUMBPRINT)
        trust = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Federated": out["OpenIDConnectProviderArn"]},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringLike": {
                "token.actions.githubusercontent.com:sub": "repo:octo/app:*"}}}]}
        self.iam.create_role(RoleName="gh-deploy", AssumeRolePolicyDocument=json.dumps(trust))
        arn = "arn:aws:iam::%s:role/gh-deploy" % ACCT
        old = self.mint({"sub": "repo:octo/app:ref:refs/heads/main",
                         "aud": "sts.amazonaws.com"}, issuer=gh)
        sts = self.unsigned_sts()
        sts.assume_role_with_web_identity(RoleArn=arn, RoleSessionName="gh",
                                          WebIdentityToken=old)
        r1 = self.p.admin("POST", "oidc/rotate", {"issuer": gh})
        self.assertEqual(r1["retired_kid"], made["kid"])
        keys = http_json(self.p.endpoint + "/_podiam/oidc/token.actions.githubusercontent.com"
                         "/keys")["keys"]
        self.assertEqual([k["kid"] for k in keys], [r1["kid"], made["kid"]])
        sts.assume_role_with_web_identity(RoleArn=arn, RoleSessionName="gh",
                                          WebIdentityToken=old)  # in its overlap
        self.p.admin("POST", "oidc/rotate", {"issuer": gh})
        import botocore
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            sts.assume_role_with_web_identity(RoleArn=arn, RoleSessionName="gh",
                                              WebIdentityToken=old)
        self.assertIn("Couldn't retrieve verification key",
                      cm.exception.response["Error"]["Message"])


if __name__ == "__main__":
    unittest.main()
