"""The per-cluster Kubernetes API with the real aws CLI and kubectl.

A cluster made with `aws eks create-cluster`, a kubeconfig written by `aws eks
update-kubeconfig` (https endpoint, podiam's CA, the `aws eks get-token` exec plugin with
AWS_ENDPOINT_URL in the environment so tokens presign to podiam), then kubectl 1.32: version,
namespaces (protobuf bodies), service accounts and their IRSA annotation, client-side apply
of a pod (created, unchanged, configured) with the identity webhook's mutation, Tables,
TokenRequest, can-i, whoami, delete, Status errors, a second IAM user (mapped in aws-auth)
refused with 403, a third that nothing maps refused with 401 as EKS refuses it, and a request
without credentials refused with 401. kubectl 1.20 (Debian 12's) runs the flows it has when a
1.20 binary is found, whether or not a 1.32 one is. Each class skips with a message when its
kubectl is absent.
"""
import base64
import json
import os
import shutil
import subprocess
import tempfile
import unittest
import urllib.error
import urllib.request
import ssl

from podiam_harness import Podiam

ACCT = "000000000000"
EKS_TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"},
    "Action": "sts:AssumeRole"}]}
ROLE = "arn:aws:iam::%s:role/s3-reader" % ACCT

POD = """apiVersion: v1
kind: Pod
metadata:
  name: s3-echoer
  labels:
    app: echo
spec:
  serviceAccountName: s3-echoer
  containers:
  - name: main
    image: amazon/aws-cli:%s
    command: ["sleep", "infinity"]
"""


def _version_of(binary):
    try:
        p = subprocess.run([binary, "version", "--client", "-o", "json"], capture_output=True,
                           text=True, timeout=30)
        return json.loads(p.stdout)["clientVersion"]["gitVersion"]
    except (OSError, ValueError, KeyError, subprocess.TimeoutExpired):
        return ""


def find_kubectl(minor):
    """A real kubectl 1.<minor> binary (not Google's dispatcher, reference §12), or None."""
    env = os.environ.get("KUBECTL_1_%s" % minor)
    if env:
        return env
    here = os.path.dirname(os.path.abspath(__file__))
    # .ci/setup unpacks Debian 12's kubectl 1.20 there when the machine has another kubectl
    side = os.path.join(os.path.dirname(os.path.dirname(here)), ".ci", "tools",
                        "kubectl-1.%s" % minor, "usr", "bin", "kubectl")
    cands = [shutil.which("kubectl.1.%s" % minor), side]
    k = shutil.which("kubectl")
    if k:
        cands.append(os.path.join(os.path.dirname(os.path.realpath(k)), "kubectl.1.%s" % minor))
        cands.append(k)
    for c in cands:
        if c and os.access(c, os.X_OK):
            v = _version_of(c)
            if v.startswith("v1.%s." % minor) and "dispatcher" not in v:
                return c
    return None


def admin_token(p, cluster="demo"):
    """An `aws eks get-token` token of the account's root (the clusters' creator here)."""
    e = p.client_env()
    e["AWS_ENDPOINT_URL"] = p.endpoint
    r = subprocess.run(["aws", "eks", "get-token", "--cluster-name", cluster, "--region",
                        "us-east-1", "--output", "json"], capture_output=True, text=True, env=e,
                       timeout=120)
    if r.returncode != 0:
        raise AssertionError("aws eks get-token: " + r.stderr)
    return json.loads(r.stdout)["status"]["token"]


def put_aws_auth(p, cluster, data):
    """Create or replace kube-system/aws-auth of cluster (DescribeCluster output) with data
    (mapRoles/mapUsers/mapAccounts YAML text), as the cluster's creator."""
    ctx = ssl.create_default_context(cafile=p.ca_file())
    base = cluster["endpoint"] + "/api/v1/namespaces/kube-system/configmaps"
    body = json.dumps({"apiVersion": "v1", "kind": "ConfigMap",
                       "metadata": {"name": "aws-auth", "namespace": "kube-system"},
                       "data": data}).encode()
    token = admin_token(p, cluster["name"])
    for method, url in (("PUT", base + "/aws-auth"), ("POST", base)):
        req = urllib.request.Request(url, data=body, method=method, headers={
            "Authorization": "Bearer " + token, "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=30):
                return
        except urllib.error.HTTPError as e:
            if e.code != 404:
                raise


class KubectlCase(unittest.TestCase):
    """A podiam with cluster `demo` and a second IAM user, driven by kubectl 1.<minor>."""
    minor = None
    kubectl = None

    @classmethod
    def setUpClass(cls):
        if not cls.kubectl:
            raise unittest.SkipTest("no kubectl 1.%d binary found (set KUBECTL_1_%d)" % (
                cls.minor, cls.minor))
        cls.p = Podiam.start()
        cls.p.boto3("iam").create_role(RoleName="eks-cluster-role",
                                       AssumeRolePolicyDocument=json.dumps(EKS_TRUST))
        _, out, _ = cls.p.aws("eks", "create-cluster", "--name", "demo", "--role-arn",
                              "arn:aws:iam::%s:role/eks-cluster-role" % ACCT,
                              "--resources-vpc-config", "subnetIds=subnet-a,subnet-b")
        cls.cluster = out["cluster"]
        iam = cls.p.boto3("iam")
        iam.create_user(UserName="bob")
        k = iam.create_access_key(UserName="bob")["AccessKey"]
        cls.bob = (k["AccessKeyId"], k["SecretAccessKey"])
        iam.create_user(UserName="carol")
        k = iam.create_access_key(UserName="carol")["AccessKey"]
        cls.carol = (k["AccessKeyId"], k["SecretAccessKey"])
        # bob is in the cluster through aws-auth (under his ARN); carol is in nothing
        put_aws_auth(cls.p, cls.cluster, {"mapUsers": (
            "- userarn: arn:aws:iam::%s:user/bob\n  username: arn:aws:iam::%s:user/bob\n"
            % (ACCT, ACCT))})

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "p", None):
            cls.p.stop()

    def setUp(self):
        self.home = tempfile.mkdtemp(prefix="podiam-kube-")
        self.kubeconfig = os.path.join(self.home, "kubeconfig")
        self.p.aws("eks", "update-kubeconfig", "--name", "demo", "--kubeconfig", self.kubeconfig)

    def tearDown(self):
        shutil.rmtree(self.home, ignore_errors=True)

    def env(self, key="test", secret="test", sts=None):
        e = self.p.client_env(key, secret)
        e.update({"HOME": self.home, "AWS_ENDPOINT_URL": self.p.endpoint})
        if sts is not None:
            # sts="": no endpoint override at all (tokens name the real STS host)
            del e["AWS_ENDPOINT_URL"]
            if sts:
                e["AWS_ENDPOINT_URL_STS"] = sts
        return e

    def k(self, *args, stdin=None, key="test", secret="test", binary=None, check=True,
          sts=None):
        cmd = [binary or self.kubectl, "--kubeconfig", self.kubeconfig,
               "--cache-dir", os.path.join(self.home, "cache")] + list(args)
        p = subprocess.run(cmd, input=stdin, capture_output=True, text=True,
                           env=self.env(key, secret, sts), timeout=180)
        if check and p.returncode != 0:
            raise AssertionError("kubectl %s failed (%d): %s\n--- podiam log ---\n%s" % (
                " ".join(args), p.returncode, p.stderr, self.p.logs()[-3000:]))
        return p



class K8sKubectlTest(KubectlCase):
    minor = 32
    kubectl = find_kubectl(32)

    def test_kubeconfig_points_at_podiam(self):
        with open(self.kubeconfig) as f:
            text = f.read()
        self.assertIn("/_podiam/k8s/", text)
        self.assertIn("get-token", text)

    def test_version(self):
        out = self.k("version").stdout
        self.assertIn("Server Version: v1.", out)

    def test_namespaces(self):
        out = self.k("get", "ns").stdout
        for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
            self.assertIn(ns, out)
        self.assertIn("STATUS", out.splitlines()[0])
        self.assertEqual(self.k("create", "namespace", "team-a").stdout.strip(),
                         "namespace/team-a created")
        dup = self.k("create", "namespace", "team-a", check=False)
        self.assertEqual(dup.returncode, 1)
        self.assertIn('Error from server (AlreadyExists): namespaces "team-a" already exists',
                      dup.stderr)
        ns = json.loads(self.k("get", "ns", "team-a", "-o", "json").stdout)
        self.assertEqual(ns["metadata"]["labels"]["kubernetes.io/metadata.name"], "team-a")
        self.assertEqual(ns["status"]["phase"], "Active")
        sas = self.k("get", "sa", "-n", "team-a").stdout
        self.assertIn("default", sas)
        bad = self.k("create", "namespace", "Bad_Name", check=False)
        self.assertIn("is invalid", bad.stderr)
        self.k("delete", "namespace", "team-a")
        gone = self.k("get", "ns", "team-a", check=False)
        self.assertIn('namespaces "team-a" not found', gone.stderr)

    def test_irsa_pod_flow(self):
        self.k("create", "namespace", "irsa")
        self.assertIn("serviceaccount/s3-echoer created",
                      self.k("-n", "irsa", "create", "sa", "s3-echoer").stdout)
        self.k("-n", "irsa", "annotate", "sa", "s3-echoer",
               "eks.amazonaws.com/role-arn=" + ROLE)
        sa = json.loads(self.k("-n", "irsa", "get", "sa", "s3-echoer", "-o", "json").stdout)
        self.assertEqual(sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"], ROLE)

        self.assertIn("pod/s3-echoer created",
                      self.k("-n", "irsa", "apply", "-f", "-", stdin=POD % "2.15.0").stdout)
        self.assertIn("pod/s3-echoer unchanged",
                      self.k("-n", "irsa", "apply", "-f", "-", stdin=POD % "2.15.0").stdout)
        self.assertIn("pod/s3-echoer configured",
                      self.k("-n", "irsa", "apply", "-f", "-", stdin=POD % "2.16.0").stdout)
        pod = json.loads(self.k("-n", "irsa", "get", "pod", "s3-echoer", "-o", "json").stdout)
        c = pod["spec"]["containers"][0]
        self.assertEqual(c["image"], "amazon/aws-cli:2.16.0")
        env = {e["name"]: e.get("value") for e in c["env"]}
        self.assertEqual(env["AWS_ROLE_ARN"], ROLE)
        self.assertEqual(env["AWS_WEB_IDENTITY_TOKEN_FILE"],
                         "/var/run/secrets/eks.amazonaws.com/serviceaccount/token")
        mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
        self.assertEqual(mounts["aws-iam-token"],
                         "/var/run/secrets/eks.amazonaws.com/serviceaccount")
        vols = {v["name"]: v for v in pod["spec"]["volumes"]}
        src = vols["aws-iam-token"]["projected"]["sources"][0]["serviceAccountToken"]
        self.assertEqual(src["audience"], "sts.amazonaws.com")
        self.assertEqual(pod["status"]["phase"], "Running")
        self.assertTrue(pod["status"]["containerStatuses"][0]["ready"])
        self.assertIn("kubectl.kubernetes.io/last-applied-configuration",
                      pod["metadata"]["annotations"])

        table = self.k("-n", "irsa", "get", "pod").stdout.splitlines()
        self.assertEqual(table[0].split()[:5], ["NAME", "READY", "STATUS", "RESTARTS", "AGE"])
        self.assertEqual(table[1].split()[:4], ["s3-echoer", "1/1", "Running", "0"])
        wide = self.k("get", "pods", "-A", "-l", "app=echo").stdout
        self.assertIn("irsa", wide)

        token = self.k("-n", "irsa", "create", "token", "s3-echoer", "--audience",
                       "sts.amazonaws.com").stdout.strip()
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        self.assertEqual(claims["sub"], "system:serviceaccount:irsa:s3-echoer")
        self.assertEqual(claims["aud"], ["sts.amazonaws.com"])
        self.assertEqual(claims["iss"], self.cluster["identity"]["oidc"]["issuer"])
        self.assertEqual(claims["exp"] - claims["iat"], 3600)

        self.assertIn('pod "s3-echoer" deleted',
                      self.k("-n", "irsa", "delete", "pod", "s3-echoer").stdout)
        gone = self.k("-n", "irsa", "get", "pod", "s3-echoer", check=False)
        self.assertIn('pods "s3-echoer" not found', gone.stderr)

    def test_token_hosts(self):
        # presigned to the real STS host (no endpoint override), and to podiam's endpoint
        # with a path (AWS_ENDPOINT_URL_STS): both verify locally
        self.assertIn("default", self.k("get", "ns", sts="").stdout)
        self.assertIn("default", self.k("get", "ns", sts=self.p.endpoint + "/_podiam/sts").stdout)

    def test_server_side_apply_and_lists(self):
        self.k("create", "namespace", "ssa")
        self.k("-n", "ssa", "create", "sa", "s3-echoer")
        out = self.k("-n", "ssa", "apply", "--server-side", "-f", "-",
                     stdin=POD % "2.15.0").stdout
        self.assertIn("pod/s3-echoer serverside-applied", out)
        self.k("-n", "ssa", "apply", "--server-side", "-f", "-", stdin=POD % "2.17.0")
        lst = json.loads(self.k("-n", "ssa", "get", "pods", "-o", "json").stdout)
        self.assertEqual(len(lst["items"]), 1)
        self.assertEqual(lst["items"][0]["spec"]["containers"][0]["image"],
                         "amazon/aws-cli:2.17.0")
        self.assertIn("s3-echoer", self.k("get", "all", "-n", "ssa").stdout)
        self.k("delete", "namespace", "ssa")

    def test_pod_with_missing_service_account(self):
        pod = POD.replace("s3-echoer\n  containers", "ghost\n  containers") % "2.15.0"
        p = self.k("apply", "-f", "-", stdin=pod, check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn('pods "s3-echoer" is forbidden: error looking up service account '
                      'default/ghost: serviceaccount "ghost" not found', p.stderr)

    def test_configmap_and_not_found(self):
        self.k("create", "configmap", "c1", "--from-literal=a=b")
        out = self.k("get", "cm").stdout
        self.assertIn("c1", out)
        self.assertIn("DATA", out.splitlines()[0])
        nf = self.k("get", "sa", "nope", check=False)
        self.assertIn('Error from server (NotFound): serviceaccounts "nope" not found', nf.stderr)

    def test_auth(self):
        self.assertEqual(self.k("auth", "can-i", "create", "pods").stdout.strip(), "yes")
        who = self.k("auth", "whoami").stdout
        # the creator in CONFIG_MAP mode: EKS's kubernetes-admin in system:masters
        self.assertIn("kubernetes-admin", who)
        self.assertIn("[system:masters system:authenticated]", who)
        self.assertIn("arn:aws:iam::%s:root" % ACCT, who)  # Extra: arn

    def test_other_user_is_forbidden(self):
        key, secret = self.bob
        p = self.k("get", "pods", key=key, secret=secret, check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn('Error from server (Forbidden): pods is forbidden: User '
                      '"arn:aws:iam::%s:user/bob" cannot list resource "pods" in API group "" '
                      'in the namespace "default"' % ACCT, p.stderr)
        c = self.k("auth", "can-i", "create", "pods", key=key, secret=secret, check=False)
        self.assertEqual(c.stdout.strip(), "no")
        who = self.k("auth", "whoami", key=key, secret=secret).stdout
        self.assertIn("arn:aws:iam::%s:user/bob" % ACCT, who)
        self.assertNotIn("system:masters", who)

    def test_unmapped_user_is_unauthorized(self):
        # what EKS answers an IAM identity neither aws-auth nor an access entry maps
        key, secret = self.carol
        p = self.k("get", "pods", key=key, secret=secret, check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("error: You must be logged in to the server", p.stderr)
        p = self.k("auth", "whoami", key=key, secret=secret, check=False)
        self.assertIn("error: You must be logged in to the server (Unauthorized)", p.stderr)

    def test_unknown_key_is_unauthorized(self):
        p = self.k("get", "pods", key="AKIANOSUCHKEY0000000", secret="x", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("You must be logged in to the server", p.stderr)

    def test_no_credentials_is_401(self):
        ctx = ssl.create_default_context(cafile=self.p.ca_file())
        url = self.cluster["endpoint"] + "/api/v1/namespaces"
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(url, context=ctx, timeout=10)
        self.assertEqual(cm.exception.code, 401)
        st = json.loads(cm.exception.read())
        self.assertEqual((st["kind"], st["reason"], st["code"]), ("Status", "Unauthorized", 401))
        with urllib.request.urlopen(self.cluster["endpoint"] + "/version", context=ctx,
                                    timeout=10) as r:
            self.assertTrue(json.loads(r.read())["gitVersion"].startswith("v1."))



class Kubectl120Test(KubectlCase):
    """kubectl 1.20, Debian 12's (kubernetes-client): its own class, so it runs where no
    kubectl 1.32 is found (a fresh Debian 12) instead of being skipped with the 1.32 tests."""
    minor = 20
    kubectl = find_kubectl(20)

    def test_kubectl_1_20(self):
        """What kubectl 1.20 has (JSON bodies, legacy discovery, OpenAPI v2, delete waiting on
        a fieldSelector list; no `create token`, no `auth whoami`)."""
        k = self.k
        self.assertIn("Server Version", k("version").stdout)
        self.assertIn("kube-system", k("get", "ns").stdout)
        self.assertIn("namespace/old created", k("create", "namespace", "old").stdout)
        dup = k("create", "namespace", "old", check=False)
        self.assertIn('namespaces "old" already exists', dup.stderr)
        k("-n", "old", "create", "sa", "s3-echoer")
        k("-n", "old", "annotate", "sa", "s3-echoer", "eks.amazonaws.com/role-arn=" + ROLE)
        self.assertIn("pod/s3-echoer created",
                      k("-n", "old", "apply", "-f", "-", stdin=POD % "2.15.0").stdout)
        self.assertIn("pod/s3-echoer unchanged",
                      k("-n", "old", "apply", "-f", "-", stdin=POD % "2.15.0").stdout)
        self.assertIn("pod/s3-echoer configured",
                      k("-n", "old", "apply", "-f", "-", stdin=POD % "2.16.0").stdout)
        pod = json.loads(k("-n", "old", "get", "pod", "s3-echoer", "-o", "json").stdout)
        env = {e["name"]: e.get("value") for e in pod["spec"]["containers"][0]["env"]}
        self.assertEqual(env["AWS_ROLE_ARN"], ROLE)
        self.assertIn("Running", k("-n", "old", "get", "pods").stdout)
        self.assertEqual(k("auth", "can-i", "create", "pods").stdout.strip(), "yes")
        self.assertIn('pod "s3-echoer" deleted', k("-n", "old", "delete", "pod", "s3-echoer").stdout)
        key, secret = self.bob
        p = k("get", "pods", key=key, secret=secret, check=False)
        self.assertIn("Error from server (Forbidden)", p.stderr)

if __name__ == "__main__":
    unittest.main()
