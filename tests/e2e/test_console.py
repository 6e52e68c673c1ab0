"""The workshop console (issue 15, docs/console.md) in a real browser: Debian's chromium,
headless, driven over the DevTools pipe (browser.py), against a real podiam with the seed
fixtures after the seed scenario ran (podiamctl scenario, real aws CLI, kubectl, boto3 and
JS SDK where present).

Checked: the live decision stream shows the AssumeRoleWithWebIdentity row with its trace
(token steps and the trust policy's statement), a row appears while the page is open (the
long poll), a failed client call's x-podiam-decision-id opens its row and shows the denying
policy, the handshake is drawn with every step green (and a refused token red, with its
reason), the playground answers what iam:SimulateCustomPolicy answers, the state views, the
clock and reset, the display switches, the scenario player (podiamctl scenario --console
running the seed scenario's first steps asked from the page). A screenshot of each view is written to
PODIAM_E2E_BUILD_DIR/console-screenshots (CTest's build folder), else a temporary folder.
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

import boto3
import botocore.exceptions
from botocore.config import Config

import browser
from podiam_harness import Podiam, ROOT, podiamctl_binary, signed_request

SEED = os.path.join(ROOT, "fixtures", "seed.json")
SCENARIO = os.path.join(ROOT, "scenarios", "seed-walkthrough.json")
ISSUER = "https://oidc.eks.us-east-1.amazonaws.com/id/DE7A11ED0E5A11ED0E5A11ED0E5A1101"
ROLE = "arn:aws:iam::000000000000:role/s3-echoer"
SUB = "system:serviceaccount:default:s3-echoer"


def shots_dir():
    base = os.environ.get("PODIAM_E2E_BUILD_DIR")
    d = os.path.join(base, "console-screenshots") if base else tempfile.mkdtemp(
        prefix="podiam-console-shots-")
    os.makedirs(d, exist_ok=True)
    return d


@unittest.skipUnless(browser.find(), "no chromium on PATH (.ci/setup installs Debian's)")
class ConsoleInBrowser(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.p = Podiam.start("--fixtures", SEED)
        cls.shots = shots_dir()
        # the seed scenario, against this podiam, with the real clients
        env = cls.p.client_env(extra={"AWS_ENDPOINT_URL": cls.p.endpoint})
        t0 = time.monotonic()
        run = subprocess.run([podiamctl_binary(), "scenario", "--endpoint", cls.p.endpoint,
                              "--tls-endpoint", cls.p.tls_endpoint, SCENARIO],
                             capture_output=True, text=True, env=env, timeout=600)
        cls.scenario_seconds = time.monotonic() - t0
        cls.scenario_out = run.stdout + run.stderr
        summary = [l for l in cls.scenario_out.splitlines() if l.startswith("== ") and "passed" in l]
        print("\nseed scenario in %.0f s: %s" % (cls.scenario_seconds,
                                                 summary[-1] if summary else "(no summary)"),
              file=sys.stderr)
        if run.returncode != 0:
            cls.p.stop()
            raise AssertionError("the seed scenario failed:\n" + cls.scenario_out[-6000:])
        cls.b = browser.Browser(width=1400, height=1000, timeout=60)
        cls.url = cls.p.endpoint + "/_podiam/console"

    @classmethod
    def tearDownClass(cls):
        cls.b.close()
        cls.p.stop()

    # --- helpers ------------------------------------------------------------------------
    def shot(self, name, full_page=True):
        self.b.screenshot(os.path.join(self.shots, name + ".png"), full_page=full_page)

    def open(self, hash_=""):
        if self.b.eval("location.href").split("#")[0] != self.url:
            self.b.goto(self.url + hash_)
        else:
            self.b.eval("location.hash = %s" % json.dumps(hash_ or "#decisions"))
        self.b.wait_for("document.querySelector('#d-count').textContent.includes('live')",
                        what="the decision stream")

    def text(self, selector):
        return self.b.eval("(document.querySelector(%s) || {}).innerText || ''" %
                           json.dumps(selector))

    def client(self, service, **kw):
        return boto3.client(service, endpoint_url=self.p.endpoint, region_name="us-east-1",
                            config=Config(retries={"max_attempts": 1}), **kw)

    def web_identity(self, session, **claims):
        """AssumeRoleWithWebIdentity with a token of the seed cluster's issuer; returns the
        response (credentials and headers)."""
        body = {"issuer": ISSUER, "claims": dict({"sub": SUB, "aud": "sts.amazonaws.com"},
                                                 **claims)}
        token = self.p.admin("POST", "oidc/token", body)["token"]
        sts = self.client("sts", aws_access_key_id="x", aws_secret_access_key="x")
        return sts.assume_role_with_web_identity(RoleArn=ROLE, RoleSessionName=session,
                                                 WebIdentityToken=token)

    def as_role(self, creds, service):
        c = creds["Credentials"]
        return self.client(service, aws_access_key_id=c["AccessKeyId"],
                           aws_secret_access_key=c["SecretAccessKey"],
                           aws_session_token=c["SessionToken"])

    @staticmethod
    def decision_id(resp_or_err):
        meta = resp_or_err["ResponseMetadata"] if isinstance(resp_or_err, dict) else \
            resp_or_err.response["ResponseMetadata"]
        return meta["HTTPHeaders"]["x-podiam-decision-id"]

    # --- the page itself, over HTTP -------------------------------------------------------
    def test_a_served_from_the_binary_with_its_guards(self):
        with urllib.request.urlopen(self.url, timeout=10) as r:
            page = r.read().decode()
            self.assertIn("text/html", r.headers["Content-Type"])
            self.assertIn("frame-ancestors 'none'", r.headers["Content-Security-Policy"])
        self.assertIn('<script src="/_podiam/console/console.js">', page)
        for name, ctype in (("console.js", "javascript"), ("console.css", "text/css")):
            with urllib.request.urlopen(self.url + "/" + name, timeout=10) as r:
                self.assertIn(ctype, r.headers["Content-Type"])
                self.assertGreater(len(r.read()), 1000)
        with self.assertRaises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(self.url + "/../../etc/passwd", timeout=10)
        self.assertEqual(e.exception.code, 404)
        # another Host (DNS rebinding), another Origin, a form post: refused, as the admin API
        for headers, method, body in (({"Host": "evil.example"}, "GET", None),
                                      ({"Origin": "http://evil.example"}, "GET", None),
                                      ({"Content-Type": "text/plain"}, "POST", b"{}")):
            path = "/api/simulate" if method == "POST" else "/api/state"
            req = urllib.request.Request(self.url + path, data=body, method=method,
                                         headers=headers)
            with self.assertRaises(urllib.error.HTTPError) as e:
                urllib.request.urlopen(req, timeout=10)
            self.assertEqual(e.exception.code, 403, headers)

    def test_a_state_view_has_no_secrets(self):
        with urllib.request.urlopen(self.url + "/api/state", timeout=10) as r:
            text = r.read().decode()
        state = json.loads(text)
        self.assertIn("s3-echoer", [r["name"] for r in state["iam"]["accounts"][0]["roles"]])
        # (the CA certificate is public: kube-root-ca.crt carries it, as in Kubernetes)
        for word in ("secret_access_key", "SecretAccessKey", "private_key", "PRIVATE KEY",
                     "session_token", '"token":'):
            self.assertFalse(word in text, word)
        # objects by size, never their bytes
        other = [b for b in state["s3"]["buckets"] if b["name"] == "other-team"][0]
        self.assertTrue(all("size" in o and "text" not in o for o in other["objects"]))

    # --- decisions --------------------------------------------------------------------
    def test_b_decision_stream_shows_assume_role_with_trace(self):
        self.open("#decisions")
        self.b.wait_for("[...document.querySelectorAll('#d-rows tr')].some(r => "
                        "r.innerText.includes('AssumeRoleWithWebIdentity'))",
                        what="an AssumeRoleWithWebIdentity row")
        rid = self.b.eval("[...document.querySelectorAll('#d-rows tr[data-id]')].find(r => "
                          "r.innerText.includes('AssumeRoleWithWebIdentity')).dataset.id")
        self.b.eval("document.querySelector('#row-%s button.rowid').click()" % rid)
        self.b.wait_for("document.querySelector('#detail-%s')" % rid)
        detail = self.text("#detail-" + rid)
        self.assertIn("Web identity token checks", detail)
        for step in ("token", "provider", "discovery", "jwks", "signature", "audience",
                     "subject"):
            self.assertIn(step, detail)
        self.assertEqual(self.b.eval("document.querySelectorAll('#detail-%s ol.steps li.ok')"
                                     ".length" % rid), 8)
        self.assertIn("sts:AssumeRoleWithWebIdentity on arn:aws:iam::000000000000:role/s3-echoer",
                      detail)
        self.assertIn("role trust: arn:aws:iam::000000000000:role/s3-echoer", detail)
        self.assertIn("Statement 0 Allow — matched: allows", detail)
        self.assertEqual(self.b.eval("document.querySelector('#row-%s button').getAttribute("
                                     "'aria-expanded')" % rid), "true")
        self.b.eval("document.querySelector('#row-%s').scrollIntoView({block: 'center'})" % rid)
        self.shot("decisions", full_page=False)  # the long table: the opened row's part

    def test_c_rows_arrive_live(self):
        self.open("#decisions")
        before = self.b.eval("document.querySelectorAll('#d-rows tr[data-id]').length")
        resp = self.client("s3", aws_access_key_id="test",
                           aws_secret_access_key="test").list_objects_v2(Bucket="other-team")
        rid = self.decision_id(resp)
        # no reload: the long poll brings the row
        self.b.wait_for("document.querySelector('#row-%s')" % rid, timeout=20,
                        what="the new row " + rid)
        self.assertGreater(self.b.eval("document.querySelectorAll('#d-rows tr[data-id]').length"),
                           before)

    def test_d_failed_call_links_to_its_row_with_the_denying_policy(self):
        creds = self.web_identity("console-denied")
        s3 = self.as_role(creds, "s3")
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            s3.put_object(Bucket="other-team", Key="from-console-test.txt", Body=b"x")
        self.assertEqual(e.exception.response["Error"]["Code"], "AccessDenied")
        rid = self.decision_id(e.exception)
        self.open("#decision/" + rid)
        self.b.wait_for("document.querySelector('#detail-%s')" % rid, what="the row " + rid)
        detail = self.text("#detail-" + rid)
        self.assertIn("no identity-based policy allows the s3:PutObject action", detail)
        self.assertIn("identity-based: role/s3-echoer/s3-echoer-demo-access", detail)
        self.assertIn("Statement 0 (Objects) Allow — does not match: resource", detail)
        self.assertEqual(self.b.eval("document.querySelector('#row-%s').dataset.outcome" % rid),
                         "implicitDeny")
        # the filters: denied S3 only, then this principal
        self.b.eval("document.querySelector('#f-outcome').value = 'denied';"
                    "document.querySelector('#f-outcome').dispatchEvent(new Event('change'))")
        outcomes = self.b.eval("[...document.querySelectorAll('#d-rows tr[data-id]')]"
                               ".map(r => r.dataset.outcome)")
        self.assertTrue(outcomes and all(o != "allowed" for o in outcomes), outcomes)
        self.b.eval("document.querySelector('#f-principal').value = 'console-denied';"
                    "document.querySelector('#f-principal').dispatchEvent(new Event('input'))")
        rows = self.b.eval("[...document.querySelectorAll('#d-rows tr[data-id]')].map(r => r.dataset.id)")
        self.assertEqual(rows, [rid])
        self.shot("decision-denied")
        self.b.eval("document.querySelector('#f-outcome').value = '';"
                    "document.querySelector('#f-principal').value = '';"
                    "document.querySelector('#f-outcome').dispatchEvent(new Event('change'))")

    def test_d_bucket_policy_deny_shows_the_bucket_policy(self):
        """An explicit deny by the bucket policy: the row names that policy and the statement
        that denied."""
        root = self.client("s3", aws_access_key_id="test", aws_secret_access_key="test")
        policy = {"Version": "2012-10-17", "Statement": [
            {"Sid": "NoReadsByTheApp", "Effect": "Deny", "Principal": {"AWS": ROLE},
             "Action": "s3:GetObject", "Resource": "arn:aws:s3:::s3-echoer-demo/locked/*"}]}
        root.put_bucket_policy(Bucket="s3-echoer-demo", Policy=json.dumps(policy))
        try:
            root.put_object(Bucket="s3-echoer-demo", Key="locked/a.txt", Body=b"x")
            s3 = self.as_role(self.web_identity("console-bucket-policy"), "s3")
            with self.assertRaises(botocore.exceptions.ClientError) as e:
                s3.get_object(Bucket="s3-echoer-demo", Key="locked/a.txt")
        finally:
            root.delete_bucket_policy(Bucket="s3-echoer-demo")
        rid = self.decision_id(e.exception)
        self.open("#decision/" + rid)
        self.b.wait_for("document.querySelector('#detail-%s')" % rid, what="the row " + rid)
        detail = self.text("#detail-" + rid)
        self.assertEqual(self.b.eval("document.querySelector('#row-%s').dataset.outcome" % rid),
                         "explicitDeny")
        self.assertIn("with an explicit deny in a resource-based policy", detail)
        self.assertIn("arn:aws:s3:::s3-echoer-demo", detail)
        self.assertIn("Statement 0 (NoReadsByTheApp) Deny — matched: denies", detail)
        self.shot("decision-bucket-policy", full_page=False)

    # --- the handshake ------------------------------------------------------------------
    def test_e_handshake_drawn_every_step_green(self):
        creds = self.web_identity("console-green")
        rid = self.decision_id(creds)
        s3 = self.as_role(creds, "s3")
        s3.put_object(Bucket="s3-echoer-demo", Key="console.txt", Body=b"hello")
        self.open("#handshake/" + rid)
        self.b.wait_for("document.querySelector('#hs-diagram svg') && "
                        "document.querySelector('#hs-list').value === %s && "
                        "[...document.querySelectorAll('#hs-diagram ol.steps li')].some(l => "
                        "l.innerText.includes('PutObject'))" % json.dumps(rid),
                        what="the diagram of " + rid)
        states = self.b.eval("[...document.querySelectorAll('#hs-diagram ol.steps li')]"
                             ".map(l => l.dataset.state + ' ' + l.innerText)")
        self.assertGreaterEqual(len(states), 11, states)
        self.assertTrue(all(s.startswith("ok ") for s in states), states)
        for what in ("Pod → STS", "discovery document", "JWKS", "trust policy",
                     "temporary credentials", "Pod → S3: PutObject s3-echoer-demo/console.txt"):
            self.assertTrue(any(what in s for s in states), (what, states))
        self.assertEqual(self.b.eval("document.querySelectorAll('#hs-diagram svg g.arrow.ok')"
                                     ".length"), len(states))
        self.assertEqual(self.b.eval("document.querySelectorAll('#hs-diagram svg g.arrow.bad')"
                                     ".length"), 0)
        self.shot("handshake")

    def test_f_handshake_refused_token_red_with_reason(self):
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.web_identity("console-red", aud="not-sts")
        rid = self.decision_id(e.exception)
        self.open("#handshake/" + rid)
        self.b.wait_for("document.querySelector('#hs-list').value === %s && "
                        "document.querySelector('#hs-diagram ol.steps li.bad')" % json.dumps(rid),
                        what="the refused exchange " + rid)
        bad = self.b.eval("[...document.querySelectorAll('#hs-diagram ol.steps li.bad')]"
                          ".map(l => l.innerText)")
        self.assertEqual(len(bad), 1, bad)
        self.assertIn("audience", bad[0])
        self.assertIn("Incorrect token audience", bad[0])
        self.assertIn("Incorrect token audience",
                      self.b.eval("document.querySelector('#hs-diagram svg g.arrow.bad text.reason')"
                                  ".textContent"))
        # the steps after it were not reached; before it all passed
        states = self.b.eval("[...document.querySelectorAll('#hs-diagram ol.steps li')]"
                             ".map(l => l.dataset.state)")
        i = states.index("bad")
        self.assertTrue(all(s == "ok" for s in states[:i]), states)
        self.assertTrue(all(s == "idle" for s in states[i + 1:]), states)
        self.shot("handshake-refused")

    def test_f_handshake_trust_policy_red_with_the_condition(self):
        """A token of another service account: every token check passes, the trust policy's
        condition on :sub refuses it, and the red arrow says which values differed."""
        other = "system:serviceaccount:default:other"
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.web_identity("console-trust", sub=other)
        self.assertEqual(e.exception.response["Error"]["Code"], "AccessDenied")
        rid = self.decision_id(e.exception)
        self.open("#handshake/" + rid)
        self.b.wait_for("document.querySelector('#hs-list').value === %s && "
                        "document.querySelector('#hs-diagram ol.steps li.bad')" % json.dumps(rid),
                        what="the exchange " + rid)
        states = self.b.eval("[...document.querySelectorAll('#hs-diagram ol.steps li')]"
                             ".map(l => l.dataset.state)")
        self.assertEqual(states[:8], ["ok"] * 8, states)  # the token itself was fine
        bad = self.b.eval("document.querySelector('#hs-diagram ol.steps li.bad').innerText")
        self.assertIn("trust policy", bad)
        self.assertIn(":sub", bad)
        self.assertIn(SUB, bad)
        self.assertIn(other, bad)
        self.assertTrue(all(s == "idle" for s in states[9:]), states)
        self.shot("handshake-trust-refused")

    def test_g_kubectl_request_drawn(self):
        self.open("#handshake")
        rid = self.b.eval("(([...document.querySelectorAll('#hs-list option')].find(o => "
                          "o.textContent.includes('kubectl')) || {}).value) || ''")
        if not rid:
            self.skipTest("no Kubernetes request in the log (kubectl missing for the scenario)")
        self.open("#handshake/" + rid)
        self.b.wait_for("document.querySelector('#hs-list').value === %s && "
                        "document.querySelector('#hs-diagram svg')" % json.dumps(rid))
        text = self.text("#hs-diagram")
        self.assertIn("authentication", text)
        self.assertIn("identity mapping", text)
        self.assertIn("RBAC", text)
        self.shot("handshake-kubectl")

    def pod_identity_exchange(self, sa, aud="pods.eks.amazonaws.com"):
        """The agent's exchange for a pod of default/SA (a token of the seed cluster's issuer
        bound to a pod, as the kubelet projects it): (status, body, the first decision of
        the request)."""
        claims = {"aud": [aud], "sub": "system:serviceaccount:default:" + sa,
                  "kubernetes.io": {"namespace": "default",
                                    "serviceaccount": {"name": sa, "uid": "sa-uid-" + sa},
                                    "pod": {"name": sa + "-0", "uid": "pod-uid-" + sa}}}
        token = self.p.admin("POST", "oidc/token", {"issuer": ISSUER, "claims": claims})["token"]
        before = self.p.admin("GET", "decisions?limit=1")["last"]
        req = urllib.request.Request(self.p.endpoint + "/_podiam/pod-identity/v1/credentials",
                                     headers={"Authorization": token})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                status, body = r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            status, body = e.code, e.read().decode()
        ours = [d for d in self.p.admin("GET", "decisions?limit=50&after=%d" % before)["decisions"]
                if d["service"] == "pod-identity-agent"]
        self.assertTrue(ours, "no decision logged for the exchange")
        first = min(ours, key=lambda d: int(d["id"][2:]))
        if status == 200:  # the role's trust is checked for the service, named as such
            self.assertEqual(first["principal"], "pods.eks.amazonaws.com")
            self.assertEqual(first["pod_identity"]["subject"]["service_account"], sa)
        return status, body, first["id"]

    def test_g_pod_identity_drawn(self):
        """EKS Pod Identity: pod -> agent -> eks-auth -> token against the cluster's issuer ->
        association -> the role's trust for pods.eks.amazonaws.com (sts:AssumeRole and
        sts:TagSession) -> session tags -> credentials -> S3, every step green; a token for
        another audience red at the token with its reason."""
        iam = self.client("iam", aws_access_key_id="test", aws_secret_access_key="test")
        iam.create_role(RoleName="console-pods", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"},
                "Action": ["sts:AssumeRole", "sts:TagSession"]}]}))
        iam.put_role_policy(RoleName="console-pods", PolicyName="put", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": "s3:PutObject",
                "Resource": "arn:aws:s3:::s3-echoer-demo/pods/*",
                "Condition": {"StringEquals": {
                    "aws:PrincipalTag/kubernetes-service-account": "console-pods"}}}]}))
        # CreatePodIdentityAssociation signed by hand: Debian 12's botocore predates it
        url = self.p.endpoint + "/clusters/demo/pod-identity-associations"
        h, data = signed_request(url, "eks", json.dumps({
            "namespace": "default", "serviceAccount": "console-pods",
            "roleArn": "arn:aws:iam::000000000000:role/console-pods"}),
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=h,
                                                           method="POST"), timeout=10) as r:
            assoc = json.loads(r.read())["association"]["associationId"]
        status, creds, rid = self.pod_identity_exchange("console-pods")
        self.assertEqual(status, 200, creds)
        s3 = self.client("s3", aws_access_key_id=creds["AccessKeyId"],
                         aws_secret_access_key=creds["SecretAccessKey"],
                         aws_session_token=creds["Token"])
        s3.put_object(Bucket="s3-echoer-demo", Key="pods/hello.txt", Body=b"from a pod")
        self.open("#handshake/" + rid)
        self.b.wait_for("document.querySelector('#hs-list').value === %s && "
                        "[...document.querySelectorAll('#hs-diagram ol.steps li')].some(l => "
                        "l.innerText.includes('PutObject'))" % json.dumps(rid),
                        what="the pod identity diagram of " + rid)
        self.assertIn("pod identity → role/console-pods default/console-pods",
                      self.b.eval("document.querySelector('#hs-list option:checked').textContent"))
        states = self.b.eval("[...document.querySelectorAll('#hs-diagram ol.steps li')]"
                             ".map(l => l.dataset.state + ' ' + l.innerText)")
        self.assertTrue(all(s.startswith("ok ") for s in states), states)
        for what in ("Pod → Agent", "Agent → eks-auth: AssumeRoleForPodIdentity",
                     "the token against the cluster's OIDC issuer", ISSUER,
                     "the association for default/console-pods", assoc,
                     "pods.eks.amazonaws.com may sts:AssumeRole", "sts:TagSession",
                     "kubernetes-service-account=console-pods",
                     "temporary credentials", "role/console-pods session eks-demo-console-pods-0-",
                     "Pod → S3: PutObject s3-echoer-demo/pods/hello.txt"):
            self.assertTrue(any(what in s for s in states), (what, states))
        self.assertEqual(self.b.eval("document.querySelectorAll('#hs-diagram svg g.arrow.ok')"
                                     ".length"), len(states))
        self.shot("handshake-pod-identity")

        # a token for another audience: refused at the token, the rest not reached
        status, body, rid = self.pod_identity_exchange("console-pods", aud="sts.amazonaws.com")
        self.assertEqual(status, 400, body)
        self.open("#handshake/" + rid)
        self.b.wait_for("document.querySelector('#hs-list').value === %s && "
                        "document.querySelector('#hs-diagram ol.steps li.bad')" % json.dumps(rid),
                        what="the refused exchange " + rid)
        states = self.b.eval("[...document.querySelectorAll('#hs-diagram ol.steps li')]"
                             ".map(l => l.dataset.state)")
        bad = self.b.eval("document.querySelector('#hs-diagram ol.steps li.bad').innerText")
        self.assertIn("the token against the cluster's OIDC issuer", bad)
        self.assertIn("InvalidTokenException", bad)
        self.assertIn("pods.eks.amazonaws.com", bad)
        self.assertEqual(states[:2], ["ok", "ok"], states)
        self.assertEqual(states[2], "bad", states)
        self.assertTrue(all(s == "idle" for s in states[3:]), states)

    # --- the playground -------------------------------------------------------------------
    def test_h_playground_answers_as_the_simulator(self):
        policy = {"Version": "2012-10-17", "Statement": [
            {"Sid": "Objects", "Effect": "Allow", "Action": "s3:GetObject",
             "Resource": "arn:aws:s3:::s3-echoer-demo/*",
             "Condition": {"StringEquals": {"aws:PrincipalTag/team": "echo"}}}]}
        self.open("#playground")
        self.b.wait_for("!document.querySelector('#view-playground').hidden")
        for resource, ctx in (("arn:aws:s3:::s3-echoer-demo/a.txt", "aws:PrincipalTag/team=echo"),
                              ("arn:aws:s3:::s3-echoer-demo/a.txt", "aws:PrincipalTag/team=other"),
                              ("arn:aws:s3:::other-team/a.txt", "aws:PrincipalTag/team=echo")):
            self.b.eval("""(() => {
                document.querySelector('#pg-policy').value = %s;
                document.querySelector('#pg-action').value = 's3:GetObject';
                document.querySelector('#pg-resource').value = %s;
                document.querySelector('#pg-context').value = %s;
                document.querySelector('#pg-result').replaceChildren();
                document.querySelector('#pg button[type=submit]').click(); })()""" % (
                json.dumps(json.dumps(policy, indent=2)), json.dumps(resource), json.dumps(ctx)))
            self.b.wait_for("document.querySelector('#pg-result .result-head')",
                            what="the simulator's answer")
            shown = self.b.eval("document.querySelector('#pg-result .result-head').dataset.decision")
            iam = self.client("iam", aws_access_key_id="test", aws_secret_access_key="test")
            key, value = ctx.split("=")
            want = iam.simulate_custom_policy(
                PolicyInputList=[json.dumps(policy)], ActionNames=["s3:GetObject"],
                ResourceArns=[resource], ContextEntries=[{
                    "ContextKeyName": key, "ContextKeyValues": [value],
                    "ContextKeyType": "string"}])["EvaluationResults"][0]["EvalDecision"]
            self.assertEqual(shown, want, (resource, ctx))
            self.assertIn("Trace", self.text("#pg-result"))
            if ctx.endswith("other"):
                self.assertIn('policy wants ["echo"], request has ["other"]',
                              self.text("#pg-result"))
        self.b.eval("document.querySelector('#pg-context').value = 'aws:PrincipalTag/team=echo';"
                    "document.querySelector('#pg-resource').value = 'arn:aws:s3:::s3-echoer-demo/a.txt';"
                    "document.querySelector('#pg button[type=submit]').click()")
        self.b.wait_for("document.querySelector('#pg-result .result-head') && "
                        "document.querySelector('#pg-result .result-head').dataset.decision === 'allowed'")
        self.shot("playground")
        # a broken policy: the simulator's own error, shown
        self.b.eval("document.querySelector('#pg-policy').value = '{\"Version\": 1';"
                    "document.querySelector('#pg-result').replaceChildren();"
                    "document.querySelector('#pg button[type=submit]').click()")
        self.b.wait_for("document.querySelector('#pg-result .message')")
        self.assertIn("Syntax errors in policy", self.text("#pg-result"))

    # --- state -------------------------------------------------------------------------
    def test_i_state_views(self):
        self.open("#state/iam")
        self.b.wait_for("document.querySelector('#state-body .card')")
        iam = self.text("#state-body")
        self.assertIn("Role s3-echoer", iam)
        self.assertIn("Trust policy", iam)
        self.assertIn("system:serviceaccount:default:s3-echoer", iam)
        # the trust policy's federated principal links to the provider's card
        href = self.b.eval("[...document.querySelectorAll('#state-body a')].find(a => "
                           "a.textContent.includes('oidc-provider/')).getAttribute('href')")
        self.assertTrue(href.startswith("#state/state-oidc-"), href)
        self.shot("state-iam")
        self.b.eval("location.hash = %s" % json.dumps(href))
        self.b.wait_for("document.activeElement && document.activeElement.id === %s" %
                        json.dumps(href[len("#state/"):]), what="the provider's card")

        self.open("#state/issuers")
        self.b.wait_for("document.querySelector('#state-body .card') && "
                        "document.querySelector('#state-body').innerText.includes('jwks_uri')")
        self.assertIn(ISSUER, self.text("#state-body"))
        self.assertIn('"kty"', self.text("#state-body"))
        self.shot("state-issuers")

        self.open("#state/clusters")
        self.b.wait_for("document.querySelector('#state-body .card')")
        text = self.text("#state-body")
        self.assertIn("Cluster demo", text)
        self.assertIn("default/s3-echoer", text)
        if "Pods (0)" not in text:  # the scenario's pod, as the webhook mutated it
            self.b.eval("document.querySelectorAll('#state-body details').forEach(d => "
                        "d.open = d.querySelector('summary').textContent.includes('service account'))")
            text = self.text("#state-body")
            self.assertIn("AWS_ROLE_ARN", text)
            self.assertIn("AWS_WEB_IDENTITY_TOKEN_FILE", text)
        self.shot("state-clusters")

        self.open("#state/buckets")
        self.b.wait_for("document.querySelector('#state-body .card')")
        text = self.text("#state-body")
        self.assertIn("Bucket s3-echoer-demo", text)
        self.assertIn("secret.txt", text)
        self.shot("state-buckets")

    def test_j_scenario_player(self):
        """The scenario player: without one the page says how to start it; with
        `podiamctl scenario --console` offering scenarios/, the page runs the seed scenario's
        first steps (Run next step, a step's own Run button), each passing with its output;
        Reset scenario; the player stopped is shown as gone."""
        self.open("#scenarios")
        self.b.wait_for("document.querySelector('#sc-status')", what="the player's status")
        if "No player connected" in self.text("#sc-status"):
            self.assertIn("podiamctl scenario --console --endpoint " + self.p.endpoint,
                          self.text("#sc-howto"))
        env = self.p.client_env(extra={"AWS_ENDPOINT_URL": self.p.endpoint})
        log = tempfile.TemporaryFile(mode="w+")
        player = subprocess.Popen([podiamctl_binary(), "scenario", "--console", "--endpoint",
                                   self.p.endpoint, "--tls-endpoint", self.p.tls_endpoint,
                                   os.path.join(ROOT, "scenarios")],
                                  stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            self.b.wait_for("document.querySelector('#sc-status').className.includes('connected')"
                            " && document.querySelector('#sc-pick').value === "
                            "'seed-walkthrough.json'", timeout=30, what="the player")
            self.assertIn("scenario(s) offered", self.text("#sc-status"))
            self.assertEqual(self.b.eval("document.querySelectorAll('#sc-steps li')[3]"
                                         ".dataset.state"), "pending")

            def passed(n):
                self.b.wait_for("(document.querySelectorAll('#sc-steps li')[%d] || {dataset: {}})"
                                ".dataset.state === 'passed' || (document.querySelectorAll("
                                "'#sc-steps li')[%d] || {dataset: {}}).dataset.state === 'failed'"
                                % (n - 1, n - 1), timeout=120, what="step %d" % n)
                li = "document.querySelectorAll('#sc-steps li')[%d]" % (n - 1)
                state = self.b.eval(li + ".dataset.state")
                self.assertEqual(state, "passed", self.b.eval(li + ".innerText"))
                self.assertEqual(self.b.eval(li + ".querySelector('.sc-mark').textContent"), "✓")
                self.b.eval(li + ".querySelector('details').open = true")
                return self.b.eval(li + ".querySelector('.sc-output').textContent")

            self.b.eval("document.querySelector('#sc-next').click()")
            out = passed(1)
            self.assertIn("$ aws --endpoint-url " + self.p.endpoint, out)
            self.assertIn('"status": "ACTIVE"', out)
            # step 2 by its own button, step 3 as the next one (it uses what step 2 captured)
            self.b.eval("document.querySelectorAll('#sc-steps li')[1]"
                        ".querySelector('button.sc-run').click()")
            self.assertIn("DE7A11ED0E5A11ED0E5A11ED0E5A1101", passed(2))
            # the keyboard alone: Tab from the scenario picker to Run next step, Enter
            self.b.eval("document.querySelector('#sc-pick').focus()")
            self.b.press("Tab")
            self.assertEqual(self.b.eval("document.activeElement.id"), "sc-next")
            self.b.press("Enter")
            out = passed(3)
            self.assertIn("jwks_uri", out)
            self.assertIn("3 of 19 step(s) done, 0 failed", self.text("#sc-count"))
            self.assertEqual(self.b.eval("document.querySelectorAll('#sc-steps li')[3]"
                                         ".dataset.state"), "pending")
            self.b.eval("document.querySelector('#sc-steps li details').open = false;"
                        "window.scrollTo(0, 0)")
            self.shot("scenario-player")
            # the scenario reset: every step back to not run
            self.b.eval("document.querySelector('#sc-reset').click()")
            self.b.wait_for("[...document.querySelectorAll('#sc-steps li')].every(l => "
                            "l.dataset.state === 'pending')", timeout=30, what="the reset")
            # the player stops: shown as gone, its last results kept, the page says so
            player.terminate()
            self.assertEqual(player.wait(timeout=30), 0)  # it said goodbye (and, under ASan,
            # left nothing behind)
            self.b.wait_for("document.querySelector('#sc-status').className.includes('gone')",
                            timeout=30, what="the player gone")
            self.assertIn("podiamctl scenario --console", self.text("#sc-howto"))
            self.assertTrue(self.b.eval("document.querySelector('#sc-next').disabled"))
        finally:
            if player.poll() is None:
                player.kill()
                player.wait()
            log.seek(0)
            print("\nplayer:\n" + log.read()[-3000:], file=sys.stderr)
            log.close()

    # --- clock, display, reset ----------------------------------------------------------
    def test_k_clock_and_display(self):
        self.open("#decisions")
        self.b.eval("document.querySelector('[data-advance=\"3600000\"]').click()")
        self.b.wait_for("document.querySelector('#clock').classList.contains('shifted')")
        self.assertEqual(self.p.admin("GET", "clock")["offset_ms"], 3600000)
        self.b.eval("document.querySelector('#clock-zero').click()")
        self.b.wait_for("!document.querySelector('#clock').classList.contains('shifted')")
        self.assertEqual(self.p.admin("GET", "clock")["offset_ms"], 0)
        # projector mode: large type, high contrast; every control has a name
        self.b.eval("document.querySelector('#large').click(); document.querySelector('#contrast').click()")
        self.assertEqual(self.b.eval("document.documentElement.className"), "large hc")
        self.assertEqual(self.b.eval("document.querySelector('#large').getAttribute('aria-pressed')"),
                         "true")
        self.assertEqual(self.b.eval("getComputedStyle(document.documentElement).fontSize"), "24px")
        # the keyboard, on a fresh page: the first Tab reaches the skip link, Enter on it
        # moves the focus to the view, which stays the one shown
        self.b.goto(self.url + "?fresh#playground")  # another URL: a new page, not a hash change
        self.b.wait_for("document.querySelector('#d-count').textContent.includes('live')")
        self.b.press("Tab")
        self.assertEqual(self.b.eval("document.activeElement.className"), "skip")
        self.b.press("Enter")
        self.b.wait_for("document.activeElement && document.activeElement.id === 'main'",
                        what="the focus on the view after the skip link")
        self.assertFalse(self.b.eval("document.querySelector('#view-playground').hidden"))
        self.assertEqual(self.b.eval("location.hash"), "#playground")
        unnamed = self.b.eval("""[...document.querySelectorAll('button, input, select, textarea')]
            .filter(n => !(n.getAttribute('aria-label') || n.textContent.trim() || (n.labels && n.labels.length)))
            .map(n => n.outerHTML.slice(0, 80))""")
        self.assertEqual(unnamed, [])
        self.open("#handshake")
        self.b.wait_for("document.querySelector('#hs-diagram svg')")
        self.shot("projector-handshake")
        self.b.eval("document.querySelector('#large').click(); document.querySelector('#contrast').click()")
        self.assertEqual(self.b.eval("document.documentElement.className"), "")

    def test_z_reset(self):
        self.open("#decisions")
        self.p.admin("POST", "clock", {"advance_ms": 60000})
        self.b.eval("window.confirm = () => true; document.querySelector('#reset').click()")
        self.b.wait_for("document.querySelector('#toast').textContent.includes('reset')")
        self.assertEqual(self.p.admin("GET", "clock")["offset_ms"], 0)
        # back to the fixtures: the object the test wrote is gone
        s3 = self.client("s3", aws_access_key_id="test", aws_secret_access_key="test")
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket="s3-echoer-demo").get("Contents", [])]
        self.assertNotIn("console.txt", keys)


if __name__ == "__main__":
    unittest.main()
