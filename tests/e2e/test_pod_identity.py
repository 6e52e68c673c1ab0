"""EKS Pod Identity end to end (issue 13):

- the associations API (Create/Describe/List/Update/DeletePodIdentityAssociation) with boto3:
  validation, one association per service account, iam:PassRole, the role's trust policy;
- eks-auth AssumeRoleForPodIdentity with boto3: a pod's token (minted by the cluster's issuer,
  or by kubectl bound to a pod) exchanged for role credentials carrying EKS's session tags,
  which an ABAC policy on aws:PrincipalTag/... reads; role chaining to a target role with the
  external id; forged, expired, wrong-audience and unbound tokens, a missing association, a
  deleted role and a trust policy that refuses, each with eks-auth's error;
- the agent: podiam's credentials endpoint as SDKs reach it through
  AWS_CONTAINER_CREDENTIALS_FULL_URI + AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: boto3, the aws
  CLI and the JS SDK v3's default chain; requests without or with a wrong token.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

import botocore.exceptions

from podiam_harness import HERE, Podiam, js_sdk_missing, signed_request
from test_k8s_kubectl import find_kubectl

ACCT = "000000000000"
AGENT = "/_podiam/pod-identity/v1/credentials"
EKS_TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


def pods_trust(*extra, actions=("sts:AssumeRole", "sts:TagSession"), condition=None):
    s = {"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"},
         "Action": list(actions)}
    if condition:
        s["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [s] + list(extra)})


def role_arn(name):
    return "arn:aws:iam::%s:role/%s" % (ACCT, name)


class PodIdentity(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.p = Podiam.start()
        cls.iam = cls.p.boto3("iam")
        cls.eks = cls.p.boto3("eks")
        cls.tmp = tempfile.mkdtemp(prefix="podiam-podid-")
        cls.iam.create_role(RoleName="eks-cluster-role",
                            AssumeRolePolicyDocument=json.dumps(EKS_TRUST))
        cls.cluster = cls.eks.create_cluster(
            name="demo", roleArn=role_arn("eks-cluster-role"),
            resourcesVpcConfig={"subnetIds": ["subnet-a", "subnet-b"]})["cluster"]
        cls.issuer = cls.cluster["identity"]["oidc"]["issuer"]
        # the application role: trusted by EKS Pod Identity; lists buckets only for team-a
        cls.iam.create_role(RoleName="app", AssumeRolePolicyDocument=pods_trust())
        cls.iam.put_role_policy(RoleName="app", PolicyName="abac", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*",
                 "Condition": {"StringEquals": {"aws:PrincipalTag/kubernetes-namespace":
                                                "team-a"}}},
                {"Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"}]}))
        cls.iam.create_role(RoleName="untrusting", AssumeRolePolicyDocument=json.dumps(EKS_TRUST))
        cls.has_api = "create_pod_identity_association" in dir(cls.eks)
        for ns in ("team-a", "team-b"):
            cls.associate(ns, "app", role_arn("app"))

    @classmethod
    def tearDownClass(cls):
        cls.p.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def associate(cls, ns, sa, role):
        """CreatePodIdentityAssociation: boto3's when it has it, else the same rest-json call
        signed by hand (Debian 12's botocore 1.29 predates Pod Identity), so the agent tests
        also run with the old clients."""
        if cls.has_api:
            return cls.eks.create_pod_identity_association(
                clusterName="demo", namespace=ns, serviceAccount=sa, roleArn=role)
        url = cls.p.endpoint + "/clusters/demo/pod-identity-associations"
        body = json.dumps({"namespace": ns, "serviceAccount": sa, "roleArn": role})
        h, data = signed_request(url, "eks", body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=h,
                                                           method="POST"), timeout=10) as r:
            return json.loads(r.read())

    def need_api(self):
        if not self.has_api:
            self.skipTest("this botocore (%s) predates EKS Pod Identity (botocore >= 1.32)" %
                          botocore.__version__)

    def need_eks_auth(self):
        import botocore.session
        if "eks-auth" not in botocore.session.get_session().get_available_services():
            self.skipTest("this botocore (%s) has no eks-auth model (botocore >= 1.32)" %
                          botocore.__version__)

    def fails(self, code, status=None):
        test = self

        class Ctx:
            def __enter__(self):
                return self

            def __exit__(self, et, e, tb):
                test.assertIsInstance(e, botocore.exceptions.ClientError, "expected %s" % code)
                err = e.response["Error"]
                test.assertEqual(err["Code"], code, e.response)
                if status:
                    test.assertEqual(e.response["ResponseMetadata"]["HTTPStatusCode"], status)
                self.error = err
                self.request_id = e.response["ResponseMetadata"].get("RequestId")
                return True
        return Ctx()

    # --- tokens ---------------------------------------------------------------------------
    def token(self, ns="team-a", sa="app", pod="web-0", aud=("pods.eks.amazonaws.com",),
              ttl=3600, bound=True, **over):
        claims = {"aud": list(aud), "sub": "system:serviceaccount:%s:%s" % (ns, sa),
                  "kubernetes.io": {"namespace": ns,
                                    "serviceaccount": {"name": sa, "uid": "sa-uid-1"}}}
        if bound:
            claims["kubernetes.io"]["pod"] = {"name": pod, "uid": "pod-uid-" + pod}
        claims.update(over)
        return self.p.admin("POST", "oidc/token", {"issuer": self.issuer, "claims": claims,
                                                   "ttl": ttl})["token"]

    def agent(self, token=None):
        h = {} if token is None else {"Authorization": token}
        req = urllib.request.Request(self.p.endpoint + AGENT, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def pod_env(self, token):
        path = os.path.join(self.tmp, "token-%d" % time.monotonic_ns())
        with open(path, "w") as f:
            f.write(token)  # no trailing newline: botocore refuses CR/LF in the header
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({"AWS_CONTAINER_CREDENTIALS_FULL_URI": self.p.endpoint + AGENT,
                    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": path,
                    "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
                    "HOME": self.tmp, "AWS_CONFIG_FILE": os.path.join(self.tmp, "none"),
                    "AWS_SHARED_CREDENTIALS_FILE": os.path.join(self.tmp, "none"),
                    "AWS_EC2_METADATA_DISABLED": "true"})
        return env

    # --- the associations API ----------------------------------------------------------------
    def test_associations(self):
        self.need_api()
        a = self.eks.create_pod_identity_association(
            clusterName="demo", namespace="crud", serviceAccount="svc", roleArn=role_arn("app"),
            tags={"team": "x"})["association"]
        self.assertRegex(a["associationId"], r"^a-[a-z0-9]{17}$")
        self.assertEqual(a["associationArn"],
                         "arn:aws:eks:us-east-1:%s:podidentityassociation/demo/%s" %
                         (ACCT, a["associationId"]))
        self.assertEqual(a["tags"], {"team": "x"})
        self.assertFalse(a["disableSessionTags"])
        with self.fails("ResourceInUseException", 409):
            self.eks.create_pod_identity_association(
                clusterName="demo", namespace="crud", serviceAccount="svc",
                roleArn=role_arn("app"))
        d = self.eks.describe_pod_identity_association(
            clusterName="demo", associationId=a["associationId"])["association"]
        self.assertEqual(d["serviceAccount"], "svc")
        # tags through TagResource & co on the association ARN
        arn = a["associationArn"]
        self.eks.tag_resource(resourceArn=arn, tags={"env": "ci"})
        self.assertEqual(self.eks.list_tags_for_resource(resourceArn=arn)["tags"],
                         {"team": "x", "env": "ci"})
        self.eks.untag_resource(resourceArn=arn, tagKeys=["team"])
        self.assertEqual(self.eks.describe_pod_identity_association(
            clusterName="demo", associationId=a["associationId"])["association"]["tags"],
            {"env": "ci"})
        with self.fails("NotFoundException", 404):
            self.eks.list_tags_for_resource(resourceArn=arn[:-3] + "zzz")
        listed = self.eks.list_pod_identity_associations(clusterName="demo", namespace="crud")
        self.assertEqual([x["associationId"] for x in listed["associations"]],
                         [a["associationId"]])
        every = self.eks.list_pod_identity_associations(clusterName="demo", maxResults=1)
        self.assertEqual(len(every["associations"]), 1)
        self.assertIn("nextToken", every)
        nxt = self.eks.list_pod_identity_associations(clusterName="demo", maxResults=1,
                                                      nextToken=every["nextToken"])
        self.assertNotEqual(nxt["associations"][0]["associationId"],
                            every["associations"][0]["associationId"])
        # a session policy only with session tags off
        pol = json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
        with self.fails("InvalidParameterException", 400):
            self.eks.update_pod_identity_association(
                clusterName="demo", associationId=a["associationId"], policy=pol)
        u = self.eks.update_pod_identity_association(
            clusterName="demo", associationId=a["associationId"], policy=pol,
            disableSessionTags=True)["association"]
        self.assertTrue(u["disableSessionTags"])
        self.assertEqual(u["policy"], pol)
        gone = self.eks.delete_pod_identity_association(
            clusterName="demo", associationId=a["associationId"])["association"]
        self.assertEqual(gone["associationId"], a["associationId"])
        with self.fails("ResourceNotFoundException", 404):
            self.eks.describe_pod_identity_association(clusterName="demo",
                                                       associationId=a["associationId"])

    def test_association_validation(self):
        self.need_api()
        with self.fails("InvalidParameterException") as e:
            self.eks.create_pod_identity_association(
                clusterName="demo", namespace="v", serviceAccount="s",
                roleArn=role_arn("untrusting"))
        self.assertEqual(e.error["Message"], "Trust policy of the role provided is invalid")
        with self.fails("InvalidParameterException"):
            self.eks.create_pod_identity_association(
                clusterName="demo", namespace="v", serviceAccount="s", roleArn=role_arn("nope"))
        with self.fails("InvalidParameterException"):
            self.eks.create_pod_identity_association(
                clusterName="demo", namespace="Not_A_Label", serviceAccount="s",
                roleArn=role_arn("app"))
        with self.fails("InvalidParameterException"):
            self.eks.create_pod_identity_association(
                clusterName="demo", namespace="v", serviceAccount="s",
                roleArn="arn:aws:iam::111111111111:role/app")
        with self.fails("ResourceNotFoundException", 404):
            self.eks.create_pod_identity_association(
                clusterName="missing", namespace="v", serviceAccount="s", roleArn=role_arn("app"))
        # nothing was made
        self.assertEqual(self.eks.list_pod_identity_associations(
            clusterName="demo", namespace="v")["associations"], [])

    def test_pass_role(self):
        self.need_api()
        self.iam.create_user(UserName="ops")
        self.iam.put_user_policy(UserName="ops", PolicyName="eks", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "eks:*", "Resource": "*"}]}))
        k = self.iam.create_access_key(UserName="ops")["AccessKey"]
        ops = self.p.boto3("eks", key=k["AccessKeyId"], secret=k["SecretAccessKey"])
        with self.fails("AccessDeniedException", 403) as e:
            ops.create_pod_identity_association(clusterName="demo", namespace="pr",
                                                serviceAccount="s", roleArn=role_arn("app"))
        self.assertIn("iam:PassRole", e.error["Message"])
        self.iam.put_user_policy(UserName="ops", PolicyName="pass", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "iam:PassRole", "Resource": role_arn("app"),
                 "Condition": {"StringEquals": {
                     "iam:PassedToService": "pods.eks.amazonaws.com"}}}]}))
        ops.create_pod_identity_association(clusterName="demo", namespace="pr",
                                            serviceAccount="s", roleArn=role_arn("app"))

    # --- eks-auth -----------------------------------------------------------------------------
    def test_assume_role_for_pod_identity(self):
        self.need_api()
        self.need_eks_auth()
        auth = self.p.boto3("eks-auth")
        out = auth.assume_role_for_pod_identity(clusterName="demo", token=self.token())
        self.assertEqual(out["subject"], {"namespace": "team-a", "serviceAccount": "app"})
        self.assertEqual(out["audience"], "pods.eks.amazonaws.com")
        self.assertRegex(out["assumedRoleUser"]["arn"],
                         r"^arn:aws:sts::%s:assumed-role/app/eks-demo-web-0-[0-9a-f-]+$" % ACCT)
        self.assertLessEqual(len(out["assumedRoleUser"]["arn"].split("/")[-1]), 64)
        self.assertTrue(out["assumedRoleUser"]["assumeRoleId"].startswith("AROA"))
        c = out["credentials"]
        left = c["expiration"].timestamp() - time.time()
        self.assertGreater(left, 6 * 3600 - 120)
        who = self.p.boto3("sts", key=c["accessKeyId"], secret=c["secretAccessKey"],
                           token=c["sessionToken"]).get_caller_identity()
        self.assertEqual(who["Arn"], out["assumedRoleUser"]["arn"])
        # ABAC on the session tags: team-a may list buckets, team-b may not
        self.p.boto3("s3", key=c["accessKeyId"], secret=c["secretAccessKey"],
                     token=c["sessionToken"]).list_buckets()
        b = auth.assume_role_for_pod_identity(clusterName="demo",
                                              token=self.token(ns="team-b"))["credentials"]
        with self.fails("AccessDenied", 403):
            self.p.boto3("s3", key=b["accessKeyId"], secret=b["secretAccessKey"],
                         token=b["sessionToken"]).list_buckets()

    def test_session_tags_in_trust_conditions(self):
        self.need_api()
        self.need_eks_auth()
        self.iam.create_role(RoleName="only-web", AssumeRolePolicyDocument=pods_trust(
            condition={"StringEquals": {"aws:RequestTag/kubernetes-pod-name": "web-0",
                                        "aws:RequestTag/eks-cluster-name": "demo"}}))
        self.eks.create_pod_identity_association(clusterName="demo", namespace="tags",
                                                 serviceAccount="app",
                                                 roleArn=role_arn("only-web"))
        auth = self.p.boto3("eks-auth")
        auth.assume_role_for_pod_identity(clusterName="demo", token=self.token(ns="tags"))
        with self.fails("AccessDeniedException", 400):
            auth.assume_role_for_pod_identity(clusterName="demo",
                                              token=self.token(ns="tags", pod="other"))

    def test_target_role(self):
        self.need_api()
        self.need_eks_auth()
        self.iam.create_role(RoleName="first", AssumeRolePolicyDocument=pods_trust())
        ext = "us-east-1/%s/demo/chain/app" % ACCT
        self.iam.create_role(RoleName="target", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"AWS": role_arn("first")},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
                "Condition": {"StringEquals": {"sts:ExternalId": ext}}}]}))
        a = self.eks.create_pod_identity_association(
            clusterName="demo", namespace="chain", serviceAccount="app",
            roleArn=role_arn("first"), targetRoleArn=role_arn("target"))["association"]
        self.assertEqual(a["externalId"], ext)
        out = self.p.boto3("eks-auth").assume_role_for_pod_identity(
            clusterName="demo", token=self.token(ns="chain"))
        self.assertIn(":assumed-role/target/eks-demo-web-0-", out["assumedRoleUser"]["arn"])
        left = out["credentials"]["expiration"].timestamp() - time.time()
        self.assertLess(left, 3600 + 60)

    def test_disable_session_tags(self):
        self.need_api()
        self.need_eks_auth()
        # a trust policy without sts:TagSession works only with session tags off
        self.iam.create_role(RoleName="notags", AssumeRolePolicyDocument=pods_trust(
            actions=("sts:AssumeRole",)))
        a = self.eks.create_pod_identity_association(
            clusterName="demo", namespace="notags", serviceAccount="app",
            roleArn=role_arn("notags"))["association"]
        auth = self.p.boto3("eks-auth")
        with self.fails("AccessDeniedException", 400) as e:
            auth.assume_role_for_pod_identity(clusterName="demo", token=self.token(ns="notags"))
        self.assertIn("sts:TagSession", e.error["Message"])
        self.eks.update_pod_identity_association(clusterName="demo",
                                                 associationId=a["associationId"],
                                                 disableSessionTags=True)
        auth.assume_role_for_pod_identity(clusterName="demo", token=self.token(ns="notags"))

    def test_refused_tokens(self):
        self.need_api()
        self.need_eks_auth()
        auth = self.p.boto3("eks-auth")
        cases = [
            ("InvalidTokenException", 400, self.token(aud=("sts.amazonaws.com",))),
            ("ExpiredTokenException", 400, self.token(ttl=1, exp=int(time.time()) - 10,
                                                      iat=int(time.time()) - 100,
                                                      nbf=int(time.time()) - 100)),
            ("InvalidTokenException", 400, self.token(bound=False)),
            ("InvalidTokenException", 400, self.token(iss="https://oidc.example.com/forged")),
            ("ResourceNotFoundException", 404, self.token(ns="nobody")),
        ]
        t = self.token()
        h, pl, sig = t.split(".")
        cases.append(("InvalidTokenException", 400, h + "." + pl + "." + sig[:-4] + "AAAA"))
        for code, status, tok in cases:
            with self.subTest(code=code):
                with self.fails(code, status) as e:
                    auth.assume_role_for_pod_identity(clusterName="demo", token=tok)
        # the refusal is explained in the decision log
        d = self.p.admin("GET", "decisions?request_id=%s" % e.request_id)["decisions"]
        self.assertTrue(d)
        with self.fails("ResourceNotFoundException", 404):
            auth.assume_role_for_pod_identity(clusterName="missing", token=self.token())

    def test_deleted_role_and_node_permission(self):
        self.need_api()
        self.need_eks_auth()
        self.iam.create_role(RoleName="doomed", AssumeRolePolicyDocument=pods_trust())
        self.eks.create_pod_identity_association(clusterName="demo", namespace="doomed",
                                                 serviceAccount="app", roleArn=role_arn("doomed"))
        self.iam.delete_role(RoleName="doomed")
        with self.fails("AccessDeniedException", 400):
            self.p.boto3("eks-auth").assume_role_for_pod_identity(
                clusterName="demo", token=self.token(ns="doomed"))
        # the node's credentials need eks-auth:AssumeRoleForPodIdentity
        self.iam.create_user(UserName="node")
        k = self.iam.create_access_key(UserName="node")["AccessKey"]
        node = self.p.boto3("eks-auth", key=k["AccessKeyId"], secret=k["SecretAccessKey"])
        with self.fails("AccessDeniedException", 400):
            node.assume_role_for_pod_identity(clusterName="demo", token=self.token())
        self.iam.put_user_policy(UserName="node", PolicyName="n", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": "eks-auth:AssumeRoleForPodIdentity",
                "Resource": "arn:aws:eks:us-east-1:%s:cluster/demo" % ACCT}]}))
        node.assume_role_for_pod_identity(clusterName="demo", token=self.token())

    # --- the agent --------------------------------------------------------------------------
    def test_agent_answers(self):
        status, body = self.agent(self.token())
        self.assertEqual(status, 200, body)
        c = json.loads(body)
        self.assertEqual(sorted(c), ["AccessKeyId", "AccountId", "Expiration", "SecretAccessKey",
                                     "Token"])
        self.assertTrue(c["AccessKeyId"].startswith("ASIA"))
        self.assertEqual(c["AccountId"], ACCT)
        self.assertRegex(c["Expiration"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

    def test_agent_refusals(self):
        self.assertEqual(self.agent(), (400, "Service account token cannot be empty"))
        status, body = self.agent("not-a-jwt")
        self.assertEqual(status, 400)
        self.assertTrue(body.startswith("Service account token cannot be parsed"), body)
        status, body = self.agent(self.token(ns="nobody"))
        self.assertEqual(status, 404)
        self.assertRegex(body, r"^\[[^\]]+\]: \(ResourceNotFoundException\): .+, fault: client$")
        status, body = self.agent(self.token(aud=("sts.amazonaws.com",)))
        self.assertEqual(status, 400)
        self.assertIn("(InvalidTokenException)", body)
        # a request naming another host (a page reaching podiam by DNS rebinding) is refused
        import http.client
        host, port = self.p.endpoint.split("://")[1].split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        conn.request("GET", AGENT, headers={"Host": "evil.example", "Authorization": self.token()})
        resp = conn.getresponse()
        self.assertEqual(resp.status, 403)
        self.assertIn("Access Denied", resp.read().decode())
        conn.close()

    def test_agent_boto3(self):
        code = ("import boto3, sys\n"
                "s = boto3.session.Session()\n"
                "c = s.get_credentials()\n"
                "print(c.method)\n"
                "print(s.client('sts', endpoint_url=sys.argv[1]).get_caller_identity()['Arn'])\n")
        tok = self.token(pod="boto3-pod")
        env = self.pod_env(tok)
        import botocore.credentials
        if not hasattr(botocore.credentials.ContainerProvider, "ENV_VAR_AUTH_TOKEN_FILE"):
            # botocore < 1.31 (Debian 12's 1.29) reads only AWS_CONTAINER_AUTHORIZATION_TOKEN:
            # the same agent, the token given inline
            env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = tok
        p = subprocess.run([sys.executable, "-c", code, self.p.endpoint], env=env,
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        method, arn = p.stdout.split()
        self.assertEqual(method, "container-role")
        self.assertIn(":assumed-role/app/eks-demo-boto3-pod-", arn)

    def test_agent_aws_cli(self):
        # the aws CLI on PATH and Debian 12's /usr/bin/aws (2.9) when it is another one
        clis = []
        for c in (shutil.which("aws"), "/usr/bin/aws"):
            if c and os.access(c, os.X_OK) and os.path.realpath(c) not in clis:
                clis.append(os.path.realpath(c))
        if not clis:
            self.skipTest("no aws CLI installed")
        ran = 0
        for aws in clis:
            with self.subTest(aws=aws):
                tok = self.token(pod="cli-pod")
                env = self.pod_env(tok)
                cmd = [aws, "--endpoint-url", self.p.endpoint, "--output", "json", "sts",
                       "get-caller-identity"]
                p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
                if p.returncode != 0 and "token cannot be empty" in p.stderr:
                    # aws CLI 2.9 (Debian 12) reads only AWS_CONTAINER_AUTHORIZATION_TOKEN
                    env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = tok
                    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertIn(":assumed-role/app/eks-demo-cli-pod-", json.loads(p.stdout)["Arn"])
                ran += 1
        self.assertTrue(ran)

    def test_agent_js_sdk(self):
        why = js_sdk_missing()
        if why:
            self.skipTest(why)
        env = self.pod_env(self.token(pod="js-pod"))
        p = subprocess.run(["node", os.path.join(HERE, "js", "container_creds.mjs"),
                            self.p.endpoint], env=env, capture_output=True, text=True,
                           timeout=60, cwd=os.path.join(HERE, "js"))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        out = json.loads(p.stdout)
        self.assertIn(":assumed-role/app/eks-demo-js-pod-", out["arn"])
        self.assertTrue(out["accessKeyId"].startswith("ASIA"))
        self.assertTrue(out["expiration"])

    def test_podiamctl_run(self):
        # the service account must exist in the cluster's Kubernetes API (kubectl's job in
        # real life): made here through podiamctl's own cluster access
        self.associate("run-ns", "runner", role_arn("app"))
        kc = os.path.join(self.tmp, "kubeconfig-run")
        self.p.aws("eks", "update-kubeconfig", "--name", "demo", "--kubeconfig", kc)
        kubectl = find_kubectl(32) or find_kubectl(20)
        if not kubectl:
            self.skipTest("no kubectl to create the service account")
        env = self.p.client_env()
        env.update({"HOME": self.tmp, "AWS_ENDPOINT_URL": self.p.endpoint})
        for args in (["create", "namespace", "run-ns"], ["-n", "run-ns", "create", "sa", "runner"]):
            r = subprocess.run([kubectl, "--kubeconfig", kc] + args, capture_output=True,
                               text=True, env=env, timeout=120)
            self.assertEqual(r.returncode, 0, r.stderr)
        code = ("import boto3, os, sys\n"
                "s = boto3.session.Session()\n"
                "print(s.get_credentials().method)\n"
                "print(s.client('sts', endpoint_url=os.environ['AWS_ENDPOINT_URL'])"
                ".get_caller_identity()['Arn'])\n"
                "print(os.environ['AWS_CONTAINER_CREDENTIALS_FULL_URI'])\n"
                "print(os.environ.get('AWS_ROLE_ARN', '-'))\n")
        r = self.p.podiamctl("run", "--cluster", "demo", "--namespace", "run-ns",
                             "--service-account", "runner", "--", sys.executable, "-c", code)
        method, arn, uri, role = r.stdout.split()
        self.assertEqual(method, "container-role")
        self.assertIn(":assumed-role/app/eks-demo-podiamctl-runner-", arn)
        self.assertEqual(uri, self.p.endpoint + AGENT)
        self.assertEqual(role, "-")

    def test_podiamctl_handshake(self):
        kc = os.path.join(self.tmp, "kubeconfig-hs")
        self.p.aws("eks", "update-kubeconfig", "--name", "demo", "--kubeconfig", kc)
        kubectl = find_kubectl(32) or find_kubectl(20)
        if not kubectl:
            self.skipTest("no kubectl to create the service accounts")
        env = self.p.client_env()
        env.update({"HOME": self.tmp, "AWS_ENDPOINT_URL": self.p.endpoint})
        self.iam.create_role(RoleName="hs-refuses", AssumeRolePolicyDocument=pods_trust(
            condition={"StringEquals": {"aws:RequestTag/kubernetes-namespace": "elsewhere"}}))
        self.associate("hs", "good", role_arn("app"))
        self.associate("hs", "bad", role_arn("hs-refuses"))
        for args in (["create", "namespace", "hs"], ["-n", "hs", "create", "sa", "good"],
                     ["-n", "hs", "create", "sa", "bad"]):
            r = subprocess.run([kubectl, "--kubeconfig", kc] + args, capture_output=True,
                               text=True, env=env, timeout=120)
            self.assertEqual(r.returncode, 0, r.stderr)
        r = self.p.podiamctl("handshake", "--cluster", "demo", "--namespace", "hs",
                             "--service-account", "good", "--json")
        out = json.loads(r.stdout)
        self.assertTrue(out["ok"], out)
        self.assertEqual([s["name"] for s in out["steps"]],
                         ["service account", "token", "association", "agent"])
        self.assertIn("EKS Pod Identity", out["steps"][0]["detail"])
        self.assertIn(":assumed-role/app/eks-demo-podiamctl-good-", out["steps"][3]["detail"])
        r = self.p.podiamctl("handshake", "--cluster", "demo", "--namespace", "hs",
                             "--service-account", "bad", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("[FAIL]  4. agent", r.stdout)
        self.assertIn("AccessDeniedException", r.stdout)
        self.assertIn("What is wrong:", r.stdout)

    def test_kubectl_bound_token(self):
        kubectl = find_kubectl(32)
        if not kubectl:
            self.skipTest("no kubectl 1.32 (kubectl create token needs >= 1.24)")
        kc = os.path.join(self.tmp, "kubeconfig")
        self.p.aws("eks", "update-kubeconfig", "--name", "demo", "--kubeconfig", kc)
        env = self.p.client_env()
        env.update({"HOME": self.tmp, "AWS_ENDPOINT_URL": self.p.endpoint})

        def k(*args, stdin=None):
            r = subprocess.run([kubectl, "--kubeconfig", kc] + list(args), input=stdin,
                               capture_output=True, text=True, env=env, timeout=120)
            self.assertEqual(r.returncode, 0, r.stderr)
            return r.stdout
        k("create", "namespace", "team-a")
        k("-n", "team-a", "create", "sa", "app")
        k("-n", "team-a", "apply", "-f", "-", stdin=json.dumps({
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "kube-pod"},
            "spec": {"serviceAccountName": "app",
                     "containers": [{"name": "main", "image": "busybox"}]}}))
        # the webhook's Pod Identity mutation: the association of team-a/app wins over IRSA
        pod = json.loads(k("-n", "team-a", "get", "pod", "kube-pod", "-o", "json"))
        c = pod["spec"]["containers"][0]
        penv = {e["name"]: e["value"] for e in c["env"]}
        self.assertEqual(penv["AWS_CONTAINER_CREDENTIALS_FULL_URI"],
                         "http://169.254.170.23/v1/credentials")
        self.assertEqual(penv["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"],
                         "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/"
                         "eks-pod-identity-token")
        self.assertNotIn("AWS_ROLE_ARN", penv)
        self.assertIn({"name": "eks-pod-identity-token", "readOnly": True,
                       "mountPath": "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount"},
                      c["volumeMounts"])
        vol = [v for v in pod["spec"]["volumes"] if v["name"] == "eks-pod-identity-token"][0]
        src = vol["projected"]["sources"][0]["serviceAccountToken"]
        self.assertEqual(src["audience"], "pods.eks.amazonaws.com")
        self.assertEqual(src["path"], "eks-pod-identity-token")
        tok = k("-n", "team-a", "create", "token", "app", "--audience", "pods.eks.amazonaws.com",
                "--bound-object-kind", "Pod", "--bound-object-name", "kube-pod").strip()
        status, body = self.agent(tok)
        self.assertEqual(status, 200, body)
        c = json.loads(body)
        who = self.p.boto3("sts", key=c["AccessKeyId"], secret=c["SecretAccessKey"],
                           token=c["Token"]).get_caller_identity()
        self.assertIn(":assumed-role/app/eks-demo-kube-pod-", who["Arn"])
        # a token not bound to a pod is refused
        unbound = k("-n", "team-a", "create", "token", "app", "--audience",
                    "pods.eks.amazonaws.com").strip()
        status, body = self.agent(unbound)
        self.assertEqual(status, 400)
        self.assertIn("not bound to a pod", body)


if __name__ == "__main__":
    unittest.main()
