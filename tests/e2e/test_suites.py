"""podiam made for test suites (issue 18), driven by the aws CLI, boto3 and podiamctl:
many instances at once with only `--listen 127.0.0.1:0`, the ready object, snapshots (whole
state, restart, bad input, restore racing requests), accounts, decision marks, and
`podiamctl mark / report / snapshot` with the least-privilege policy it writes."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.error

from podiam_harness import Podiam, podiam_binary
from test_k8s_kubectl import find_kubectl

ACCOUNT = "000000000000"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % ACCOUNT},
    "Action": "sts:AssumeRole"}]})


def start_bare(tmp, *args):
    """podiam with nothing but --listen 127.0.0.1:0 (and the ready object to a file):
    (Popen, ready dict, seconds from exec to the ready file)."""
    ready = os.path.join(tmp, "ready.json")
    t0 = time.monotonic()
    proc = subprocess.Popen([podiam_binary(), "serve", "--listen", "127.0.0.1:0", "--state",
                             ":memory:", "--ready-file", ready, "--ready-format", "json"] +
                            list(args), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    while not os.path.exists(ready):
        if proc.poll() is not None or time.monotonic() - t0 > 30:
            proc.kill()
            raise AssertionError("podiam did not start")
        time.sleep(0.002)
    took = time.monotonic() - t0
    with open(ready) as f:
        return proc, json.load(f), took


class ManyAtOnce(unittest.TestCase):
    def test_parallel_instances_need_only_port_0(self):
        n, out, threads = 4, [None] * 4, []
        tmps = [tempfile.mkdtemp(prefix="podiam-many-") for _ in range(n)]
        try:
            for i in range(n):
                t = threading.Thread(target=lambda i=i: out.__setitem__(i, start_bare(tmps[i])))
                t.start()
                threads.append(t)
            for t in threads:
                t.join()
            ports = set()
            for proc, ready, took in out:
                self.assertEqual(ready["podiam"], "ready")
                self.assertEqual(ready["pid"], proc.pid)
                for k in ("http", "https", "proxy"):
                    ports.add(ready["ports"][k])
                    self.assertIn(str(ready["ports"][k]), ready["endpoints"][k])
                self.assertTrue(os.path.exists(ready["ca_file"]), ready)
                self.assertEqual(ready["env"]["AWS_ENDPOINT_URL"], ready["endpoints"]["http"])
                # stdout has the same object, alone (--ready-format json)
                self.assertEqual(json.loads(proc.stdout.readline()), ready)
                self.assertLess(took, 5.0)
            self.assertEqual(len(ports), 3 * n, "every listener its own port")
            print("\n%d podiams at once, exec to ready: %s ms" % (
                n, ", ".join("%.0f" % (o[2] * 1000) for o in out)))
            for proc, ready, _ in out:
                p = Podiam(ready["endpoints"]["http"], home=tempfile.mkdtemp())
                self.assertEqual(p.boto3("s3").list_buckets()["Buckets"], [])
                shutil.rmtree(p.home)
        finally:
            for o in out:
                if o:
                    o[0].send_signal(signal.SIGTERM)
                    self.assertEqual(o[0].wait(timeout=30), 0)
                    o[0].stdout.close()
            for i, t in enumerate(tmps):
                # the ready file goes with the process
                self.assertFalse(os.path.exists(os.path.join(t, "ready.json")))
                shutil.rmtree(t, ignore_errors=True)


class Snapshots(unittest.TestCase):
    def setUp(self):
        self.p = Podiam.start()
        self.addCleanup(self.p.stop)

    def admin_error(self, method, path, body=None):
        with self.assertRaises(urllib.error.HTTPError) as e:
            self.p.admin(method, path, body)
        return e.exception.code, json.loads(e.exception.read() or b"{}")

    def test_whole_state_with_keys_and_objects(self):
        """Regression: a state holding a user's access key could not be restored (500
        'cannot commit the restore', SQLite's foreign-key bookkeeping)."""
        p = self.p
        p.aws("iam", "create-user", "--user-name", "ci")
        key = p.aws("iam", "create-access-key", "--user-name", "ci")[1]["AccessKey"]
        p.aws("iam", "attach-user-policy", "--user-name", "ci", "--policy-arn",
              "arn:aws:iam::aws:policy/AdministratorAccess")
        p.aws("s3api", "create-bucket", "--bucket", "data")
        body = os.path.join(p.home, "body")
        with open(body, "wb") as f:
            f.write(b"v1" * 1000)
        p.aws("s3api", "put-object", "--bucket", "data", "--key", "a", "--body", body)
        saved = p.podiamctl("snapshot", "save", "base").stdout
        self.assertRegex(saved, r"^base saved in [0-9.]+ ms")
        # change everything: object body, a new object, the user's keys, a role
        with open(body, "wb") as f:
            f.write(b"v2")
        p.aws("s3api", "put-object", "--bucket", "data", "--key", "a", "--body", body)
        p.aws("s3api", "put-object", "--bucket", "data", "--key", "b", "--body", body)
        p.aws("iam", "delete-access-key", "--user-name", "ci", "--access-key-id",
              key["AccessKeyId"])
        p.aws("iam", "create-role", "--role-name", "later", "--assume-role-policy-document",
              TRUST)
        restored = p.podiamctl("snapshot", "restore", "base").stdout
        self.assertRegex(restored, r"^base restored in [0-9.]+ ms")
        keys = [o["Key"] for o in p.aws("s3api", "list-objects-v2", "--bucket", "data")[1]
                ["Contents"]]
        self.assertEqual(keys, ["a"])
        out = os.path.join(p.home, "out")
        p.aws("s3api", "get-object", "--bucket", "data", "--key", "a", out)
        with open(out, "rb") as f:
            self.assertEqual(f.read(), b"v1" * 1000)
        # the deleted key works again; the later role is gone
        who = p.aws("sts", "get-caller-identity", key=key["AccessKeyId"],
                    secret=key["SecretAccessKey"])[1]
        self.assertTrue(who["Arn"].endswith(":user/ci"))
        rc, _, err = p.aws("iam", "get-role", "--role-name", "later", check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn("NoSuchEntity", err)
        listed = p.podiamctl("snapshot", "list").stdout
        self.assertRegex(listed, r"(?m)^base\t")
        p.podiamctl("snapshot", "delete", "base")
        self.assertNotIn("base", p.podiamctl("snapshot", "list").stdout)

    def test_clusters_and_clock(self):
        """EKS clusters and podiam's clock offset are part of the snapshot too."""
        p = self.p
        iam, eks = p.boto3("iam"), p.boto3("eks")
        role = iam.create_role(RoleName="eks", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"},
                "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
        eks.create_cluster(name="kept", roleArn=role, resourcesVpcConfig={})
        p.admin("POST", "clock", {"offset_ms": 3600000})
        p.admin("POST", "snapshots", {"name": "k"})
        eks.delete_cluster(name="kept")
        eks.create_cluster(name="later", roleArn=role, resourcesVpcConfig={})
        p.admin("POST", "clock", {"offset_ms": 7200000})
        p.admin("POST", "snapshots/k/restore", {})
        self.assertEqual(eks.list_clusters()["clusters"], ["kept"])
        self.assertEqual(eks.describe_cluster(name="kept")["cluster"]["status"], "ACTIVE")
        self.assertEqual(p.admin("GET", "clock")["offset_ms"], 3600000)

    def test_kubernetes_objects(self):
        """A cluster's Kubernetes objects (kubectl through the aws CLI's tokens) too."""
        kubectl = find_kubectl(32) or find_kubectl(20)
        if not kubectl:
            self.skipTest("no kubectl (set KUBECTL_1_32)")
        p = self.p
        p.boto3("iam").create_role(RoleName="eks", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"},
                "Action": "sts:AssumeRole"}]}))
        p.boto3("eks").create_cluster(name="k", roleArn="arn:aws:iam::%s:role/eks" % ACCOUNT,
                                      resourcesVpcConfig={})
        kc = os.path.join(p.home, "kubeconfig")
        p.aws("eks", "update-kubeconfig", "--name", "k", "--kubeconfig", kc)
        env = p.client_env(extra={"AWS_ENDPOINT_URL": p.endpoint})

        def k(*args):
            r = subprocess.run([kubectl, "--kubeconfig", kc, "--cache-dir",
                                os.path.join(p.home, "kcache")] + list(args),
                               capture_output=True, text=True, env=env, timeout=180)
            self.assertEqual(r.returncode, 0, r.stderr)
            return r.stdout

        k("create", "namespace", "snapped")
        p.podiamctl("snapshot", "save", "k8s")
        k("delete", "namespace", "snapped")
        k("create", "namespace", "later")
        p.podiamctl("snapshot", "restore", "k8s")
        names = k("get", "namespaces", "-o", "name").split()
        self.assertIn("namespace/snapped", names)
        self.assertNotIn("namespace/later", names)

    def test_bad_input_changes_nothing(self):
        p = self.p
        p.aws("s3api", "create-bucket", "--bucket", "keep")
        for name in ("../x", "a/b", ".x", "x" * 65, "a b", "\u00e9"):
            code, err = self.admin_error("POST", "snapshots", {"name": name})
            self.assertEqual(code, 400, name)
            self.assertEqual(err.get("error"), "InvalidName", err)
        for body in (None, {}, {"name": 5}, [1]):
            self.assertEqual(self.admin_error("POST", "snapshots", body)[0], 400, body)
        code, err = self.admin_error("POST", "snapshots/nope/restore", {})
        self.assertEqual((code, err.get("error")), (404, "NoSuchSnapshot"))
        self.assertEqual(self.admin_error("DELETE", "snapshots/nope")[0], 404)
        self.assertEqual(self.admin_error("POST", "snapshots/..%2Fx/restore", {})[0], 400)
        self.assertEqual(p.admin("GET", "snapshots")["snapshots"], [])
        r = p.podiamctl("snapshot", "restore", "nope", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no snapshot named nope", r.stderr)
        r = p.podiamctl("snapshot", "save", "../x", check=False)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(p.podiamctl("snapshot", check=False).returncode, 2)
        self.assertEqual(p.podiamctl("snapshot", "restore", check=False).returncode, 2)
        self.assertEqual(p.podiamctl("snapshot", "list", "x", check=False).returncode, 2)
        names = [b["Name"] for b in p.aws("s3api", "list-buckets")[1]["Buckets"]]
        self.assertEqual(names, ["keep"])

    def test_restore_racing_requests_sees_one_state(self):
        """Listings made while restores run see snapshot A's objects or B's, never a mix."""
        p = self.p
        s3 = p.boto3("s3")
        s3.create_bucket(Bucket="race")
        for i in range(30):
            s3.put_object(Bucket="race", Key="a-%02d" % i, Body=b"a")
        p.admin("POST", "snapshots", {"name": "A"})
        for i in range(30):
            s3.delete_object(Bucket="race", Key="a-%02d" % i)
            s3.put_object(Bucket="race", Key="b-%02d" % i, Body=b"b")
        p.admin("POST", "snapshots", {"name": "B"})
        stop, seen, errors = threading.Event(), [], []

        def restorer():
            i = 0
            while not stop.is_set():
                p.admin("POST", "snapshots/%s/restore" % "AB"[i % 2], {})
                i += 1

        def lister():
            c = p.boto3("s3")
            while not stop.is_set():
                try:
                    keys = [o["Key"] for o in c.list_objects_v2(Bucket="race")["Contents"]]
                    seen.append({k[0] for k in keys} if len(keys) == 30 else ("count", len(keys)))
                except Exception as e:  # noqa: BLE001 (collected, asserted below)
                    errors.append(repr(e))

        ts = [threading.Thread(target=restorer)] + [threading.Thread(target=lister)
                                                   for _ in range(3)]
        for t in ts:
            t.start()
        time.sleep(3)
        stop.set()
        for t in ts:
            t.join()
        self.assertEqual(errors, [])
        self.assertGreater(len(seen), 10)
        bad = [s for s in seen if s not in ({"a"}, {"b"})]
        self.assertEqual(bad, [], "mixed states seen")
        self.assertEqual({frozenset(s) for s in seen}, {frozenset("a"), frozenset("b")})

    def test_restore_is_faster_than_rebuilding(self):
        """Numbers for docs/testing-with-podiam.md: restore of a test-sized state vs reset."""
        p = self.p
        s3 = p.boto3("s3")
        iam = p.boto3("iam")
        for i in range(20):
            iam.create_role(RoleName="r%d" % i, AssumeRolePolicyDocument=TRUST)
        s3.create_bucket(Bucket="sized")
        for i in range(50):
            s3.put_object(Bucket="sized", Key="k%d" % i, Body=b"x" * 1024)
        p.admin("POST", "snapshots", {"name": "sized"})
        restore, reset = [], []
        for _ in range(10):
            restore.append(p.admin("POST", "snapshots/sized/restore", {})["ms"])
        for _ in range(10):
            t0 = time.monotonic()
            p.admin("POST", "reset", {})
            reset.append((time.monotonic() - t0) * 1000)
        restore.sort()
        reset.sort()
        print("\nrestore of 20 roles + 50 objects: median %.1f ms (max %.1f); reset: median "
              "%.1f ms" % (restore[5], restore[-1], reset[5]))
        self.assertLess(restore[5], 500)


class SnapshotsOnDisk(unittest.TestCase):
    def test_survive_restart(self):
        tmp = tempfile.mkdtemp(prefix="podiam-snapdisk-")
        self.addCleanup(shutil.rmtree, tmp, True)
        state = os.path.join(tmp, "state.db")
        p = Podiam.start("--state", state)
        try:
            p.aws("s3api", "create-bucket", "--bucket", "kept")
            p.aws("iam", "create-user", "--user-name", "u")
            p.aws("iam", "create-access-key", "--user-name", "u")
            p.podiamctl("snapshot", "save", "disk")
            p.aws("s3api", "delete-bucket", "--bucket", "kept")
        finally:
            p.stop()
        p = Podiam.start("--state", state)
        try:
            self.assertEqual(p.aws("s3api", "list-buckets")[1]["Buckets"], [])
            self.assertIn("disk\t", p.podiamctl("snapshot", "list").stdout)
            p.podiamctl("snapshot", "restore", "disk")
            names = [b["Name"] for b in p.aws("s3api", "list-buckets")[1]["Buckets"]]
            self.assertEqual(names, ["kept"])
        finally:
            p.stop()


class Accounts(unittest.TestCase):
    def setUp(self):
        self.p = Podiam.start()
        self.addCleanup(self.p.stop)

    def test_create_isolate_delete(self):
        p = self.p
        a = p.admin("POST", "accounts", {})
        b = p.admin("POST", "accounts", {})
        self.assertNotEqual(a["account_id"], b["account_id"])
        ka = dict(key=a["access_key_id"], secret=a["secret_access_key"])
        kb = dict(key=b["access_key_id"], secret=b["secret_access_key"])
        who = p.aws("sts", "get-caller-identity", **ka)[1]
        self.assertEqual(who["Arn"], "arn:aws:iam::%s:root" % a["account_id"])
        p.aws("iam", "create-role", "--role-name", "mine", "--assume-role-policy-document",
              TRUST, **ka)
        self.assertEqual(p.aws("iam", "list-roles", **kb)[1]["Roles"], [])
        p.aws("s3api", "create-bucket", "--bucket", "bucket-of-a", **ka)
        self.assertEqual(p.aws("s3api", "list-buckets", **kb)[1]["Buckets"], [])
        # another account's bucket: denied, not visible
        rc, _, err = p.aws("s3api", "list-objects-v2", "--bucket", "bucket-of-a", check=False,
                           **kb)
        self.assertNotEqual(rc, 0)
        self.assertIn("AccessDenied", err)
        p.admin("DELETE", "accounts/%s" % a["account_id"])
        rc, _, err = p.aws("sts", "get-caller-identity", check=False, **ka)
        self.assertNotEqual(rc, 0)
        self.assertIn("InvalidClientTokenId", err)
        # its bucket went with it: the name is free again
        p.aws("s3api", "create-bucket", "--bucket", "bucket-of-a", **kb)

    def test_bad_input(self):
        p = self.p
        for body in ({"id": "12"}, {"id": "abcdefghijkl"}, {"id": 5}, [1]):
            with self.assertRaises(urllib.error.HTTPError) as e:
                p.admin("POST", "accounts", body)
            self.assertEqual(e.exception.code, 400, body)
        for bad in ("nope", "999999999999", "..%2F"):
            with self.assertRaises(urllib.error.HTTPError) as e:
                p.admin("DELETE", "accounts/" + bad)
            self.assertIn(e.exception.code, (400, 404), bad)


class MarksAndReports(unittest.TestCase):
    def test_report_and_least_privilege_policy_with_the_cli(self):
        """podiamctl mark / report / report --policy; the generated policy, created with the
        aws CLI and attached to a fresh role, lets the same run pass and denies a call
        outside it."""
        p = Podiam.start()
        self.addCleanup(p.stop)
        iam = p.boto3("iam")
        iam.create_user(UserName="ci")
        iam.attach_user_policy(UserName="ci",
                               PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
        k = iam.create_access_key(UserName="ci")["AccessKey"]
        ci = dict(key=k["AccessKeyId"], secret=k["SecretAccessKey"])
        broad = json.dumps({"Version": "2012-10-17", "Statement": [
            {"Sid": "All", "Effect": "Allow", "Action": ["s3:*", "iam:Get*"], "Resource": "*"}]})
        arn = iam.create_policy(PolicyName="broad", PolicyDocument=broad)["Policy"]["Arn"]
        p.boto3("s3").create_bucket(Bucket="work")
        body = os.path.join(p.home, "b")
        with open(body, "w") as f:
            f.write("x")

        def run(role):
            c = p.boto3("sts", **ci).assume_role(
                RoleArn="arn:aws:iam::%s:role/%s" % (ACCOUNT, role),
                RoleSessionName="run")["Credentials"]
            cr = dict(key=c["AccessKeyId"], secret=c["SecretAccessKey"],
                      token=c["SessionToken"])
            s3 = p.boto3("s3", **cr)
            s3.put_object(Bucket="work", Key="out/1", Body=b"x")
            s3.head_object(Bucket="work", Key="out/1")
            return cr

        iam.create_role(RoleName="app", AssumeRolePolicyDocument=TRUST)
        iam.attach_role_policy(RoleName="app", PolicyArn=arn)
        mark = p.podiamctl("mark").stdout.strip()
        self.assertRegex(mark, r"^d-[0-9]+$")
        run("app")
        text = p.podiamctl("report", "--since", mark).stdout
        self.assertIn("arn:aws:iam::%s:role/app (role)" % ACCOUNT, text)
        self.assertRegex(text, r"allowed  s3:PutObject +arn:aws:s3:::work/out/1  x1  by "
                               r"arn:aws:iam::0+:policy/broad#0 \(All\)")
        self.assertIn("+ used only", text)
        rep = json.loads(p.podiamctl("report", "--since", mark, "--json").stdout)
        self.assertTrue(rep["complete"])
        pol = p.podiamctl("report", "--since", mark, "--policy",
                          "arn:aws:iam::%s:role/app" % ACCOUNT).stdout
        doc = json.loads(pol)
        self.assertEqual(doc["Version"], "2012-10-17")
        narrow = p.aws("iam", "create-policy", "--policy-name", "generated",
                       "--policy-document", pol)[1]["Policy"]["Arn"]
        iam.create_role(RoleName="app2", AssumeRolePolicyDocument=TRUST)
        iam.attach_role_policy(RoleName="app2", PolicyArn=narrow)
        mark2 = p.podiamctl("mark").stdout.strip()
        cr = run("app2")
        denials = [d for d in p.admin("GET", "decisions?since=" + mark2)["decisions"]
                   if d["decision"] != "allowed"]
        self.assertEqual(denials, [])
        rc, _, err = p.aws("s3api", "put-object", "--bucket", "work", "--key", "elsewhere",
                           "--body", body, check=False, **cr)
        self.assertNotEqual(rc, 0)
        self.assertIn("AccessDenied", err)
        # a principal that did nothing has no policy to write
        r = p.podiamctl("report", "--since", mark2, "--policy",
                        "arn:aws:iam::%s:role/nobody" % ACCOUNT, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("allowed nothing", r.stderr)

    def test_evicted_mark_is_refused(self):
        p = Podiam.start("--decision-log-size", "100")
        self.addCleanup(p.stop)
        mark = p.podiamctl("mark").stdout.strip()
        s3 = p.boto3("s3")
        for _ in range(120):
            s3.list_buckets()
        for path in ("decisions?since=" + mark, "decisions/report?since=" + mark):
            with self.assertRaises(urllib.error.HTTPError) as e:
                p.admin("GET", path)
            self.assertEqual(e.exception.code, 410, path)
        r = p.podiamctl("report", "--since", mark, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("dropped", r.stderr)
        r = p.podiamctl("report", "--since", mark, "--allow-partial")
        self.assertIn("INCOMPLETE", r.stdout)
        for bad in ("x", "d-", "d-abc", "-1", "d-99999999999999999999"):
            with self.assertRaises(urllib.error.HTTPError) as e:
                p.admin("GET", "decisions/report?since=" + bad)
            self.assertEqual(e.exception.code, 400, bad)


if __name__ == "__main__":
    unittest.main()
