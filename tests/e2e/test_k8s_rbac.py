"""Kubernetes RBAC, impersonation and reviews with the real aws CLI, kubectl and the
Kubernetes Python client.

The walkthrough's scoped developer: a Role allowing pods get/list/watch/create/update/delete
in namespace `apps` and a RoleBinding for group `pulumi:devs`, then, as the cluster's admin
impersonating `pulumi:alice` in `pulumi:devs`: can-i yes in apps and no in default,
`can-i --list` showing the rule, `get pods` Forbidden with kube-apiserver's exact message.
Also every `kubectl create role|clusterrole|rolebinding|clusterrolebinding` form (protobuf
bodies with 1.32), Tables, the bootstrap roles and aggregation, escalation prevention,
impersonation refused, a binding to a missing role, the decision log. kubectl 1.20 (Debian
12's kubernetes-client, found via KUBECTL_1_20 or kubectl.1.20 on PATH) and the Python client
(Debian's python3-kubernetes, under this python or /usr/bin/python3) run when present; the
tests skip with a message when they are not.
"""
import json
import os
import shutil
import ssl
import subprocess
import tempfile
import textwrap
import unittest
import urllib.error
import urllib.request

from podiam_harness import Podiam
from test_k8s_kubectl import EKS_TRUST, find_kubectl, put_aws_auth

ACCT = "000000000000"
AS_ALICE = ["--as=pulumi:alice", "--as-group=pulumi:devs"]

WALKTHROUGH = """apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: pod-manager
  namespace: apps
rules:
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "list", "watch", "create", "update", "delete"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: devs-pod-manager
  namespace: apps
subjects:
- kind: Group
  name: pulumi:devs
  apiGroup: rbac.authorization.k8s.io
roleRef:
  kind: Role
  name: pod-manager
  apiGroup: rbac.authorization.k8s.io
"""

POD = """apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: main
    image: nginx:1.27
"""


def forbidden(user, verb, resource, ns=None, group=""):
    where = ('in the namespace "%s"' % ns) if ns else "at the cluster scope"
    return 'User "%s" cannot %s resource "%s" in API group "%s" %s' % (
        user, verb, resource, group, where)


class K8sRbacTest(unittest.TestCase):
    kubectl = find_kubectl(32)

    @classmethod
    def setUpClass(cls):
        if not cls.kubectl:
            raise unittest.SkipTest("no kubectl 1.32 binary found (set KUBECTL_1_32)")
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
        cls.bob_arn = "arn:aws:iam::%s:user/bob" % ACCT
        put_aws_auth(cls.p, cls.cluster, {"mapUsers": "- userarn: %s\n  username: %s\n" % (
            cls.bob_arn, cls.bob_arn)})

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "p", None):
            cls.p.stop()

    def setUp(self):
        self.home = tempfile.mkdtemp(prefix="podiam-rbac-")
        self.kubeconfig = os.path.join(self.home, "kubeconfig")
        self.p.aws("eks", "update-kubeconfig", "--name", "demo", "--kubeconfig", self.kubeconfig)

    def tearDown(self):
        shutil.rmtree(self.home, ignore_errors=True)

    def env(self, key="test", secret="test"):
        e = self.p.client_env(key, secret)
        e.update({"HOME": self.home, "AWS_ENDPOINT_URL": self.p.endpoint})
        return e

    def k(self, *args, stdin=None, key="test", secret="test", binary=None, check=True):
        cache = os.path.join(self.home, "cache-%s" % key)
        cmd = [binary or self.kubectl, "--kubeconfig", self.kubeconfig, "--cache-dir", cache]
        p = subprocess.run(cmd + list(args), input=stdin, capture_output=True, text=True,
                           env=self.env(key, secret), timeout=180)
        if check and p.returncode != 0:
            raise AssertionError("kubectl %s failed (%d): %s\n--- podiam log ---\n%s" % (
                " ".join(args), p.returncode, p.stderr, self.p.logs()[-3000:]))
        return p

    def token(self, key="test", secret="test"):
        p = subprocess.run(["aws", "eks", "get-token", "--cluster-name", "demo", "--region",
                            "us-east-1", "--output", "json"], capture_output=True, text=True,
                           env=self.env(key, secret), timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout)["status"]["token"]

    def raw(self, method, path, body=None, headers=None, token=None):
        """One HTTPS request to the cluster endpoint: (status, JSON body, headers)."""
        ctx = ssl.create_default_context(cafile=self.p.ca_file())
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.cluster["endpoint"] + path, data=data, method=method)
        req.add_header("Authorization", "Bearer " + (token or self.token()))
        if data is not None:
            req.add_header("Content-Type", "application/json")
        for k, v in (headers or []):
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
                return r.status, json.loads(r.read() or b"null"), r.headers
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null"), e.headers

    def namespace(self, name):
        p = self.k("create", "namespace", name, check=False)
        self.assertTrue(p.returncode == 0 or "AlreadyExists" in p.stderr, p.stderr)

    # ---- the walkthrough ----

    def test_walkthrough_scoped_developer(self):
        self.namespace("apps")
        out = self.k("apply", "-f", "-", stdin=WALKTHROUGH).stdout
        self.assertIn("role.rbac.authorization.k8s.io/pod-manager created", out)
        self.assertIn("rolebinding.rbac.authorization.k8s.io/devs-pod-manager created", out)
        self.assertIn("unchanged", self.k("apply", "-f", "-", stdin=WALKTHROUGH).stdout)

        yes = self.k("auth", "can-i", "list", "pods", "-n", "apps", *AS_ALICE)
        self.assertEqual(yes.stdout.strip(), "yes")
        no = self.k("auth", "can-i", "list", "pods", "-n", "default", *AS_ALICE, check=False)
        self.assertEqual((no.returncode, no.stdout.strip()), (1, "no"))
        no = self.k("auth", "can-i", "create", "deployments.apps", "-n", "apps", *AS_ALICE,
                    check=False)
        self.assertEqual(no.stdout.strip(), "no")
        no = self.k("auth", "can-i", "get", "pods", "--subresource=log", "-n", "apps",
                    *AS_ALICE, check=False)
        self.assertEqual(no.stdout.strip(), "no")  # pods does not cover pods/log

        lst = self.k("auth", "can-i", "--list", "-n", "apps", *AS_ALICE)
        rows = [line.split(None, 3) for line in lst.stdout.splitlines()]
        pods = [r for r in rows if r and r[0] == "pods"]
        self.assertEqual(len(pods), 1, lst.stdout)
        self.assertEqual(pods[0][3], "[get list watch create update delete]")
        self.assertIn("selfsubjectaccessreviews.authorization.k8s.io", lst.stdout)
        self.assertIn("webhook authorizer does not support user rule resolution", lst.stderr)
        other = self.k("auth", "can-i", "--list", "-n", "default", *AS_ALICE)
        self.assertNotIn("\npods ", other.stdout)

        f = self.k("get", "pods", "-n", "default", *AS_ALICE, check=False)
        self.assertEqual(f.returncode, 1)
        self.assertIn("Error from server (Forbidden): pods is forbidden: " +
                      forbidden("pulumi:alice", "list", "pods", "default"), f.stderr)
        f = self.k("get", "pods", "-A", *AS_ALICE, check=False)
        self.assertIn("pods is forbidden: " + forbidden("pulumi:alice", "list", "pods"),
                      f.stderr)
        f = self.k("get", "configmaps", "-n", "apps", *AS_ALICE, check=False)
        self.assertEqual(f.returncode, 1)
        self.assertIn("configmaps is forbidden: " +
                      forbidden("pulumi:alice", "list", "configmaps", "apps"), f.stderr)

        empty = self.k("get", "pods", "-n", "apps", *AS_ALICE)
        self.assertIn("No resources found in apps namespace.", empty.stderr)
        self.assertIn("pod/web created",
                      self.k("apply", "-n", "apps", "-f", "-", stdin=POD, *AS_ALICE).stdout)
        self.assertIn("web", self.k("get", "pods", "-n", "apps", *AS_ALICE).stdout)
        # no patch verb in the role: an apply that changes the pod is refused
        changed = self.k("apply", "-n", "apps", "-f", "-", stdin=POD.replace("1.27", "1.28"),
                         *AS_ALICE, check=False)
        self.assertIn('pods "web" is forbidden: ' +
                      forbidden("pulumi:alice", "patch", "pods", "apps"), changed.stderr)
        self.assertIn('pod "web" deleted',
                      self.k("delete", "pod", "web", "-n", "apps", *AS_ALICE).stdout)

        who = self.k("auth", "whoami", *AS_ALICE).stdout
        self.assertIn("pulumi:alice", who)
        self.assertIn("[pulumi:devs system:authenticated]", who)
        # the admin itself is unaffected
        self.assertEqual(self.k("auth", "can-i", "list", "pods", "-n", "default").stdout.strip(),
                         "yes")

    # ---- objects ----

    def test_kubectl_create_forms_and_tables(self):
        self.namespace("forms")
        cases = [
            (["create", "role", "reader", "-n", "forms", "--verb=get", "--verb=list",
              "--resource=pods,configmaps"], "role.rbac.authorization.k8s.io/reader created"),
            (["create", "role", "named", "-n", "forms", "--verb=get", "--resource=configmaps",
              "--resource-name=app-config", "--resource-name=other"],
             "role.rbac.authorization.k8s.io/named created"),
            (["create", "role", "tokens", "-n", "forms", "--verb=create",
              "--resource=serviceaccounts/token"], "role.rbac.authorization.k8s.io/tokens created"),
            (["create", "clusterrole", "ns-reader", "--verb=get,list,watch",
              "--resource=namespaces"], "clusterrole.rbac.authorization.k8s.io/ns-reader created"),
            (["create", "clusterrole", "logs", "--verb=get", "--non-resource-url=/logs",
              "--non-resource-url=/logs/*"], "clusterrole.rbac.authorization.k8s.io/logs created"),
            (["create", "clusterrole", "monitoring",
              "--aggregation-rule=rbac.example.com/aggregate-to-monitoring=true"],
             "clusterrole.rbac.authorization.k8s.io/monitoring created"),
            (["create", "rolebinding", "reader-binding", "-n", "forms", "--role=reader",
              "--user=alice", "--group=team", "--serviceaccount=forms:default"],
             "rolebinding.rbac.authorization.k8s.io/reader-binding created"),
            (["create", "rolebinding", "view-binding", "-n", "forms", "--clusterrole=view",
              "--user=bob"], "rolebinding.rbac.authorization.k8s.io/view-binding created"),
            (["create", "clusterrolebinding", "ns-reader-binding", "--clusterrole=ns-reader",
              "--group=auditors", "--serviceaccount=forms:default"],
             "clusterrolebinding.rbac.authorization.k8s.io/ns-reader-binding created"),
        ]
        for args, want in cases:
            self.assertIn(want, self.k(*args).stdout)
        dup = self.k("create", "role", "reader", "-n", "forms", "--verb=get", "--resource=pods",
                     check=False)
        self.assertIn('roles.rbac.authorization.k8s.io "reader" already exists', dup.stderr)

        role = json.loads(self.k("get", "role", "named", "-n", "forms", "-o", "json").stdout)
        self.assertEqual(role["rules"], [{"apiGroups": [""], "resources": ["configmaps"],
                                          "resourceNames": ["app-config", "other"],
                                          "verbs": ["get"]}])
        logs = json.loads(self.k("get", "clusterrole", "logs", "-o", "json").stdout)
        self.assertEqual(logs["rules"], [{"nonResourceURLs": ["/logs", "/logs/*"],
                                          "verbs": ["get"]}])
        rb = json.loads(self.k("get", "rolebinding", "reader-binding", "-n", "forms", "-o",
                               "json").stdout)
        self.assertEqual(rb["roleRef"], {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                         "name": "reader"})
        kinds = sorted((s["kind"], s["name"]) for s in rb["subjects"])
        self.assertEqual(kinds, [("Group", "team"), ("ServiceAccount", "default"),
                                 ("User", "alice")])

        table = self.k("get", "roles", "-n", "forms").stdout.splitlines()
        self.assertEqual(table[0].split(), ["NAME", "CREATED", "AT"])
        table = self.k("get", "rolebindings", "-n", "forms", "-o", "wide").stdout.splitlines()
        self.assertEqual(table[0].split(), ["NAME", "ROLE", "AGE", "USERS", "GROUPS",
                                            "SERVICEACCOUNTS"])
        line = [t for t in table if t.startswith("reader-binding")][0].split()
        self.assertEqual(line[1], "Role/reader")
        self.assertIn("forms/default", line)
        crb = self.k("get", "clusterrolebinding", "ns-reader-binding").stdout.splitlines()
        self.assertEqual(crb[1].split()[1], "ClusterRole/ns-reader")

        # roleRef is immutable
        patch = self.k("patch", "rolebinding", "view-binding", "-n", "forms", "--type=merge",
                       "-p", '{"roleRef":{"name":"edit"}}', check=False)
        # kubectl words `RoleBinding.rbac.authorization.k8s.io "x" is invalid` its own way
        self.assertIn('The RoleBinding "view-binding" is invalid: roleRef: '
                      'Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", '
                      'Kind:"ClusterRole", Name:"edit"}: cannot change roleRef', patch.stderr)
        # the binding grants what the role says: alice reads pods and configmaps in forms
        self.assertEqual(self.k("auth", "can-i", "list", "configmaps", "-n", "forms",
                                "--as=alice").stdout.strip(), "yes")
        self.assertEqual(self.k("auth", "can-i", "get", "configmaps/app-config", "-n", "forms",
                                "--as=bob").stdout.strip(), "yes")  # view
        self.k("delete", "rolebinding", "reader-binding", "-n", "forms")
        no = self.k("auth", "can-i", "list", "configmaps", "-n", "forms", "--as=alice",
                    check=False)
        self.assertEqual(no.stdout.strip(), "no")

    def test_bootstrap_and_aggregation(self):
        names = self.k("get", "clusterroles", "-o", "name").stdout.split()
        for want in ("cluster-admin", "admin", "edit", "view", "system:discovery",
                     "system:basic-user", "system:public-info-viewer",
                     "system:service-account-issuer-discovery"):
            self.assertIn("clusterrole.rbac.authorization.k8s.io/" + want, names)
        view = json.loads(self.k("get", "clusterrole", "view", "-o", "json").stdout)
        self.assertEqual(view["metadata"]["labels"]["kubernetes.io/bootstrapping"],
                         "rbac-defaults")
        self.assertEqual(view["metadata"]["annotations"]
                         ["rbac.authorization.kubernetes.io/autoupdate"], "true")
        view_n = len(view["rules"])
        self.assertGreater(view_n, 5)  # aggregated from system:aggregate-to-view
        admin = json.loads(self.k("get", "clusterrole", "admin", "-o", "json").stdout)
        self.assertGreater(len(admin["rules"]), view_n)  # view < edit < admin
        crb = json.loads(self.k("get", "clusterrolebinding", "cluster-admin", "-o",
                                "json").stdout)
        self.assertEqual(crb["subjects"], [{"apiGroup": "rbac.authorization.k8s.io",
                                            "kind": "Group", "name": "system:masters"}])
        # a new role labelled aggregate-to-view shows up in view, edit and admin
        self.k("apply", "-f", "-", stdin=textwrap.dedent("""\
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata:
              name: widgets-view
              labels:
                rbac.authorization.k8s.io/aggregate-to-view: "true"
            rules:
            - apiGroups: ["example.com"]
              resources: ["widgets"]
              verbs: ["get", "list"]
            """))
        for role in ("view", "edit", "admin"):
            rules = json.loads(self.k("get", "clusterrole", role, "-o", "json").stdout)["rules"]
            self.assertIn({"apiGroups": ["example.com"], "resources": ["widgets"],
                           "verbs": ["get", "list"]}, rules, role)
        self.k("delete", "clusterrole", "widgets-view")
        rules = json.loads(self.k("get", "clusterrole", "admin", "-o", "json").stdout)["rules"]
        self.assertNotIn({"apiGroups": ["example.com"], "resources": ["widgets"],
                          "verbs": ["get", "list"]}, rules)

    # ---- escalation and impersonation ----

    def test_escalation_prevention(self):
        self.namespace("esc")
        self.k("apply", "-f", "-", stdin=textwrap.dedent("""\
            apiVersion: rbac.authorization.k8s.io/v1
            kind: Role
            metadata: {name: role-writer, namespace: esc}
            rules:
            - apiGroups: ["rbac.authorization.k8s.io"]
              resources: ["roles", "rolebindings"]
              verbs: ["create", "get", "list"]
            - apiGroups: [""]
              resources: ["pods"]
              verbs: ["get", "list"]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: RoleBinding
            metadata: {name: carol-role-writer, namespace: esc}
            subjects: [{kind: User, name: carol, apiGroup: rbac.authorization.k8s.io}]
            roleRef: {kind: Role, name: role-writer, apiGroup: rbac.authorization.k8s.io}
            """))
        ok = self.k("create", "role", "pod-reader", "-n", "esc", "--verb=get",
                    "--resource=pods", "--as=carol")
        self.assertIn("created", ok.stdout)
        bad = self.k("create", "role", "pod-deleter", "-n", "esc", "--verb=get,delete",
                     "--resource=pods", "--as=carol", check=False)
        self.assertIn('roles.rbac.authorization.k8s.io "pod-deleter" is forbidden: user "carol" '
                      '(groups=["system:authenticated"]) is attempting to grant RBAC permissions '
                      'not currently held:\n{APIGroups:[""], Resources:["pods"], '
                      'Verbs:["delete"]}', bad.stderr)
        bind = self.k("create", "rolebinding", "carol-edit", "-n", "esc", "--clusterrole=edit",
                      "--user=carol", "--as=carol", check=False)
        self.assertIn('rolebindings.rbac.authorization.k8s.io "carol-edit" is forbidden: user '
                      '"carol"', bind.stderr)
        self.assertIn("is attempting to grant RBAC permissions not currently held", bind.stderr)
        # binding a role whose rules carol holds is allowed
        self.assertIn("created", self.k("create", "rolebinding", "dave-reader", "-n", "esc",
                                        "--role=pod-reader", "--user=dave",
                                        "--as=carol").stdout)
        # escalate on roles lifts the check
        self.k("create", "role", "escalator", "-n", "esc", "--verb=escalate", "--resource=roles")
        self.k("create", "rolebinding", "carol-escalator", "-n", "esc", "--role=escalator",
               "--user=carol")
        self.assertIn("created", self.k("create", "role", "pod-deleter", "-n", "esc",
                                        "--verb=get,delete", "--resource=pods",
                                        "--as=carol").stdout)

    def test_impersonation_refused_and_missing_role(self):
        key, secret = self.bob
        # kubectl 1.32's create <kind> does no discovery: the POST meets the refusal
        p = self.k("create", "configmap", "c1", "--as=alice", key=key, secret=secret,
                   check=False)
        self.assertIn('users "alice" is forbidden: ' + forbidden(self.bob_arn, "impersonate",
                                                                 "users"), p.stderr)
        st, body, _ = self.raw("GET", "/api/v1/namespaces/default/pods",
                               headers=[("Impersonate-Group", "system:masters")])
        self.assertEqual(st, 400)
        self.assertEqual(body["message"], "requested [{Group  system:masters    }] without "
                                          "impersonating a user")
        # impersonating a service account gives it its groups
        who = self.k("auth", "whoami", "--as=system:serviceaccount:default:default").stdout
        self.assertIn("system:serviceaccounts:default", who)
        # a binding to a role that does not exist is accepted and grants nothing
        self.namespace("ghosts")
        self.k("create", "rolebinding", "to-nothing", "-n", "ghosts", "--role=no-such-role",
               "--user=erin")
        st, body, hdrs = self.raw(
            "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
             "spec": {"resourceAttributes": {"namespace": "ghosts", "verb": "get",
                                             "resource": "pods"}}},
            headers=[("Impersonate-User", "erin")])
        self.assertEqual(st, 201)
        self.assertFalse(body["status"]["allowed"])
        self.assertEqual(body["status"]["reason"],
                         'RBAC: role.rbac.authorization.k8s.io "no-such-role" not found')
        # the decision is in the log, with who was impersonated by whom
        did = hdrs["x-podiam-decision-id"]
        with urllib.request.urlopen(self.p.endpoint + "/_podiam/decisions/" + did) as r:
            d = json.loads(r.read())
        self.assertEqual(d["user"]["username"], "erin")
        self.assertEqual(d["impersonated_by"]["username"], "kubernetes-admin")
        self.assertEqual(d["principal"], "arn:aws:iam::%s:root" % ACCT)
        review = [c for c in d["checks"] if c.get("review")][0]
        self.assertEqual(review["decision"], "implicitDeny")

    def test_subject_access_reviews(self):
        st, body, _ = self.raw("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews",
                               {"apiVersion": "authorization.k8s.io/v1",
                                "kind": "SubjectAccessReview",
                                "spec": {"user": "x", "groups": ["system:masters"],
                                         "resourceAttributes": {"verb": "delete",
                                                                "resource": "nodes"}}})
        self.assertEqual(st, 201)
        self.assertTrue(body["status"]["allowed"])
        key, secret = self.bob
        st, body, _ = self.raw("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews",
                               {"spec": {"user": "x", "nonResourceAttributes": {
                                   "path": "/api", "verb": "get"}}},
                               token=self.token(key, secret))
        self.assertEqual(st, 403)
        self.assertEqual(body["message"], "subjectaccessreviews.authorization.k8s.io is "
                         "forbidden: " + forbidden(self.bob_arn, "create", "subjectaccessreviews",
                                                   group="authorization.k8s.io"))
        st, body, _ = self.raw(
            "POST", "/apis/authorization.k8s.io/v1/namespaces/default/localsubjectaccessreviews",
            {"spec": {"user": "x", "resourceAttributes": {"namespace": "other", "verb": "get",
                                                           "resource": "pods"}}})
        self.assertEqual(st, 422)
        self.assertIn("spec.resourceAttributes.namespace: Invalid value: \"other\": must match "
                      "metadata.namespace", body["message"])

    # ---- other clients ----

    def test_kubectl_1_20(self):
        k120 = find_kubectl(20)
        if not k120:
            self.skipTest("no kubectl 1.20 binary found (set KUBECTL_1_20, or put "
                          "Debian 12's kubernetes-client kubectl on PATH as kubectl.1.20)")
        k = lambda *a, **kw: self.k(*a, binary=k120, **kw)  # noqa: E731
        p = k("create", "namespace", "apps120", check=False)
        self.assertTrue(p.returncode == 0 or "AlreadyExists" in p.stderr, p.stderr)
        out = k("apply", "-f", "-", stdin=WALKTHROUGH.replace("namespace: apps",
                                                              "namespace: apps120")).stdout
        self.assertIn("role.rbac.authorization.k8s.io/pod-manager created", out)
        self.assertEqual(k("auth", "can-i", "list", "pods", "-n", "apps120",
                           *AS_ALICE).stdout.strip(), "yes")
        no = k("auth", "can-i", "list", "pods", "-n", "default", *AS_ALICE, check=False)
        self.assertEqual(no.stdout.strip(), "no")
        f = k("get", "pods", "-n", "default", *AS_ALICE, check=False)
        self.assertIn("pods is forbidden: " + forbidden("pulumi:alice", "list", "pods",
                                                         "default"), f.stderr)
        lst = k("auth", "can-i", "--list", "-n", "apps120", *AS_ALICE).stdout
        self.assertIn("[get list watch create update delete]", lst)
        self.assertIn("role.rbac.authorization.k8s.io/r120 created",
                      k("create", "role", "r120", "-n", "apps120", "--verb=get",
                        "--resource=pods").stdout)
        self.assertIn("clusterrolebinding.rbac.authorization.k8s.io/crb120 created",
                      k("create", "clusterrolebinding", "crb120", "--clusterrole=view",
                        "--user=bob").stdout)
        self.assertIn("ClusterRole/view", k("get", "clusterrolebinding", "crb120").stdout)

    def test_python_client(self):
        py = None
        for cand in (os.environ.get("PODIAM_PY_K8S"), shutil.which("python3"), "/usr/bin/python3"):
            if cand and os.path.exists(cand) and subprocess.run(
                    [cand, "-c", "import kubernetes"], capture_output=True).returncode == 0:
                py = cand
                break
        if not py:
            self.skipTest("the Kubernetes Python client is not importable (Debian: "
                          "python3-kubernetes)")
        script = textwrap.dedent("""\
            import json, sys
            from kubernetes import client
            from kubernetes.client.rest import ApiException
            host, ca, token = sys.argv[1:4]
            cfg = client.Configuration()
            cfg.host = host
            cfg.ssl_ca_cert = ca
            cfg.api_key = {"authorization": "Bearer " + token}
            api = client.ApiClient(cfg)
            core = client.CoreV1Api(api)
            rbac = client.RbacAuthorizationV1Api(api)
            try:
                core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="py")))
            except ApiException as e:
                assert e.status == 409, e
            rbac.create_namespaced_role("py", client.V1Role(
                metadata=client.V1ObjectMeta(name="py-reader"),
                rules=[client.V1PolicyRule(api_groups=[""], resources=["pods"],
                                           verbs=["get", "list"])]))
            rbac.create_namespaced_role_binding("py", client.V1RoleBinding(
                metadata=client.V1ObjectMeta(name="py-reader"),
                role_ref=client.V1RoleRef(api_group="rbac.authorization.k8s.io", kind="Role",
                                          name="py-reader"),
                subjects=[client.V1Subject(kind="User", name="py-user",
                                           api_group="rbac.authorization.k8s.io")]))
            out = {"roles": [r.metadata.name for r in rbac.list_namespaced_role("py").items],
                   "crs": len(rbac.list_cluster_role().items)}
            api.set_default_header("Impersonate-User", "py-user")
            authz = client.AuthorizationV1Api(api)
            r = authz.create_self_subject_access_review(client.V1SelfSubjectAccessReview(
                spec=client.V1SelfSubjectAccessReviewSpec(resource_attributes=client.V1ResourceAttributes(
                    namespace="py", verb="list", resource="pods"))))
            out["allowed"] = r.status.allowed
            out["reason"] = r.status.reason
            core.list_namespaced_pod("py")
            try:
                core.list_namespaced_pod("default")
                out["default"] = "listed"
            except ApiException as e:
                out["default"] = e.status
                out["message"] = json.loads(e.body)["message"]
            rules = authz.create_self_subject_rules_review(client.V1SelfSubjectRulesReview(
                spec=client.V1SelfSubjectRulesReviewSpec(namespace="py")))
            out["rules"] = [r.resources for r in rules.status.resource_rules]
            print(json.dumps(out))
            """)
        path = os.path.join(self.home, "client.py")
        with open(path, "w") as f:
            f.write(script)
        p = subprocess.run([py, path, self.cluster["endpoint"], self.p.ca_file(), self.token()],
                           capture_output=True, text=True, timeout=120,
                           env={"PATH": os.environ.get("PATH", ""), "HOME": self.home})
        self.assertEqual(p.returncode, 0, p.stderr + self.p.logs()[-2000:])
        out = json.loads(p.stdout.strip().splitlines()[-1])
        self.assertEqual(out["roles"], ["py-reader"])
        self.assertGreater(out["crs"], 20)
        self.assertTrue(out["allowed"])
        self.assertEqual(out["reason"], 'RBAC: allowed by RoleBinding "py-reader/py" of Role '
                                        '"py-reader" to User "py-user"')
        self.assertEqual(out["default"], 403)
        self.assertEqual(out["message"], "pods is forbidden: " +
                         forbidden("py-user", "list", "pods", "default"))
        self.assertIn(["pods"], out["rules"])


if __name__ == "__main__":
    unittest.main()
