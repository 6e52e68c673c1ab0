"""The admin API and the process life: health, --help, ready line, clean stop."""
import os
import signal
import subprocess
import unittest
import urllib.error
import urllib.parse
import urllib.request

import botocore.exceptions

from podiam_harness import Podiam, podiam_binary


class AdminTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.p = Podiam.start()

    @classmethod
    def tearDownClass(cls):
        cls.p.stop()

    def test_health(self):
        h = self.p.admin("GET", "health")
        self.assertEqual(h["status"], "ok")
        self.assertRegex(h["version"], r"^\d+\.\d+\.\d+$")
        # where every listener is, with its bound port (all three started on port 0)
        self.assertEqual(h["endpoints"], {"http": self.p.endpoint, "https": self.p.tls_endpoint,
                                          "proxy": self.p.proxy})
        self.assertRegex(self.p.proxy, r"^http://127\.0\.0\.1:[1-9][0-9]*$")

    def test_unknown_admin_path_is_404(self):
        with self.assertRaises(urllib.error.HTTPError) as cm:
            self.p.admin("GET", "nope")
        self.assertEqual(cm.exception.code, 404)

    def test_request_id_header(self):
        with urllib.request.urlopen(self.p.endpoint + "/_podiam/health") as r:
            self.assertRegex(r.headers["x-amzn-RequestId"], r"^[0-9a-f-]{36}$")

    def test_clock_ages_sessions_but_not_signatures(self):
        sts = self.p.boto3("sts")
        creds = sts.get_session_token(DurationSeconds=900)["Credentials"]
        sess = self.p.boto3("sts", key=creds["AccessKeyId"], secret=creds["SecretAccessKey"],
                            token=creds["SessionToken"])
        self.assertIn("Arn", sess.get_caller_identity())
        before = self.p.admin("GET", "clock")
        moved = self.p.admin("POST", "clock", {"advance_ms": 901000})
        try:
            self.assertEqual(moved["offset_ms"], before["offset_ms"] + 901000)
            self.assertGreaterEqual(moved["time_ms"] - before["time_ms"], 901000)
            # The session has expired; requests signed with the client's clock still verify.
            with self.assertRaises(botocore.exceptions.ClientError) as cm:
                sess.get_caller_identity()
            self.assertEqual(cm.exception.response["Error"]["Code"], "ExpiredToken")
            self.assertIn("Arn", sts.get_caller_identity())
        finally:
            self.p.admin("POST", "clock", {"offset_ms": 0})
        self.assertIn("Arn", sess.get_caller_identity())

    # --- no web page can drive the admin API (docs/usage.md) ---------------------------
    def raw(self, method, path, headers, body=b""):
        """One request with exactly these headers (http.client sends no others but
        Host, Accept-Encoding and Content-Length); returns (status, JSON body or None)."""
        import http.client
        import json
        u = urllib.parse.urlparse(self.p.endpoint)
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
        c.putrequest(method, path, skip_host="Host" in headers, skip_accept_encoding=True)
        for k, v in headers.items():
            c.putheader(k, v)
        c.putheader("Content-Length", str(len(body)))
        c.endheaders(body)
        resp = c.getresponse()
        raw = resp.read()
        c.close()
        try:
            return resp.status, json.loads(raw)
        except ValueError:
            return resp.status, None

    def test_reset_from_a_web_page_is_refused(self):
        self.p.boto3("iam").create_user(UserName="survivor")
        host = urllib.parse.urlparse(self.p.endpoint).netloc
        hostile = [
            # the probe's request: a page's form POST through DNS rebinding
            {"Host": "evil.example", "Origin": "http://evil.example", "Content-Type": "text/plain"},
            # a page on another origin (a simple request: no preflight)
            {"Host": host, "Origin": "http://evil.example", "Content-Type": "text/plain"},
            {"Host": host, "Origin": "http://localhost:1", "Content-Type": "application/json"},
            # simple requests from podiam's own origin still need the marker
            {"Host": host, "Content-Type": "text/plain"},
            {"Host": host, "Content-Type": "application/x-www-form-urlencoded"},
            {"Host": host},
            # an AWS host name, as through the proxy
            {"Host": "s3.amazonaws.com", "X-Podiam-Admin": "1"},
            {"Host": "evil.example", "X-Podiam-Admin": "1"},
            {"Host": "127.0.0.1.evil.example", "X-Podiam-Admin": "1"},
        ]
        for h in hostile:
            for path in ("/_podiam/reset", "/_podiam/clock", "/_podiam/oidc/token",
                         "/_podiam/oidc/issuers", "/_podiam/oidc/rotate"):
                st, body = self.raw("POST", path, h, b'{"advance_ms": 1000000}')
                self.assertEqual(st, 403, (path, h, body))
                self.assertEqual(body["error"], "Forbidden")
        for h in hostile[:1] + hostile[3:]:
            st, body = self.raw("GET", "/_podiam/state", {k: v for k, v in h.items()
                                                          if k != "Content-Type"})
            if "X-Podiam-Admin" not in h:
                self.assertEqual(st, 403, (h, body))
        self.assertEqual(self.p.admin("GET", "clock")["offset_ms"], 0, "the clock moved")
        names = [u["UserName"] for u in self.p.boto3("iam").list_users()["Users"]]
        self.assertIn("survivor", names, "the state was wiped")
        # a preflight gets no CORS grant
        st, _ = self.raw("OPTIONS", "/_podiam/reset",
                         {"Host": host, "Origin": "http://evil.example",
                          "Access-Control-Request-Method": "POST"})
        self.assertGreaterEqual(st, 400)

    def test_admin_calls_of_the_local_user_pass(self):
        host = urllib.parse.urlparse(self.p.endpoint).netloc
        port = urllib.parse.urlparse(self.p.endpoint).port
        for h in ({"Host": host, "X-Podiam-Admin": "1"},
                  {"Host": "localhost:%d" % port, "Content-Type": "application/json"},
                  {"Host": host, "Origin": self.p.endpoint, "Content-Type": "application/json"}):
            st, body = self.raw("POST", "/_podiam/clock", h, b'{"advance_ms": 0}')
            self.assertEqual(st, 200, (h, body))
        st, body = self.raw("GET", "/_podiam/state", {"Host": host, "X-Podiam-Admin": "1"})
        self.assertEqual(st, 200)
        self.assertIn("iam", body)
        # reads need no marker, only a loopback Host; health and the CA are public
        st, _ = self.raw("GET", "/_podiam/decisions", {"Host": host})
        self.assertEqual(st, 200)
        st, _ = self.raw("GET", "/_podiam/decisions", {"Host": "evil.example"})
        self.assertEqual(st, 403)
        st, _ = self.raw("GET", "/_podiam/health", {"Host": "sts.amazonaws.com"})
        self.assertEqual(st, 200)

    def test_clock_refuses_bad_input(self):
        for body in ({}, {"offset_ms": "1"}, {"offset_ms": 1, "advance_ms": 1},
                     {"offset_ms": 10 ** 15}):
            with self.assertRaises(urllib.error.HTTPError) as cm:
                self.p.admin("POST", "clock", body)
            self.assertEqual(cm.exception.code, 400)
        self.assertEqual(self.p.admin("GET", "clock")["offset_ms"], 0)


class ProcessTest(unittest.TestCase):
    def test_help_is_complete(self):
        out = subprocess.run([podiam_binary(), "serve", "--help"], capture_output=True,
                             text=True, check=True).stdout
        for flag in ["--listen", "--listen-tls", "--listen-proxy", "--state", "--fixtures",
                     "--seed", "--iam-mode", "--log-level", "--log-format"]:
            self.assertIn(flag, out)

    def test_bad_flag_value_is_refused(self):
        p = subprocess.run([podiam_binary(), "serve", "--iam-mode", "sometimes"],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)
        self.assertIn("enforce, audit or off", p.stderr)

    def test_ready_line_and_sigint(self):
        p = Podiam.start()
        try:
            self.assertTrue(p.endpoint.startswith("http://127.0.0.1:"))
            p.proc.send_signal(signal.SIGINT)
            self.assertEqual(p.proc.wait(timeout=10), 0)
        finally:
            p.stop()

    def test_state_files_are_private(self):
        """The state holds every secret: 0600 files and 0700 directories whatever the umask
        and the directory; an existing state readable by others is warned about."""
        import stat
        import tempfile
        shared = tempfile.mkdtemp(prefix="podiam-shared-")
        os.chmod(shared, 0o755)
        path = os.path.join(shared, "sub", "state.db")
        old = os.umask(0o022)
        try:
            p = Podiam.start("--state", path)
            try:
                p.boto3("iam").create_user(UserName="u")  # a write: -wal and -shm exist
                for f in (path, path + "-wal", path + "-shm"):
                    self.assertEqual(stat.S_IMODE(os.stat(f).st_mode), 0o600, f)
                for d in (os.path.dirname(path), path + ".objects"):
                    self.assertEqual(stat.S_IMODE(os.stat(d).st_mode), 0o700, d)
            finally:
                p.stop()
            os.chmod(path, 0o644)
            p = Podiam.start("--state", path)
            try:
                self.assertIn("readable by others", p.logs())
            finally:
                p.stop()
        finally:
            os.umask(old)
            import shutil
            shutil.rmtree(shared, ignore_errors=True)

    def test_env_equivalents(self):
        p = Podiam.start(env={"PODIAM_REGION": "eu-west-1"})
        try:
            self.assertEqual(p.admin("GET", "health")["region"], "eu-west-1")
        finally:
            p.stop()


if __name__ == "__main__":
    unittest.main()
