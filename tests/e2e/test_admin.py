"""The admin API and the process life: health, --help, ready line, clean stop."""
import os
import signal
import subprocess
import unittest
import urllib.error
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

    def test_env_equivalents(self):
        p = Podiam.start(env={"PODIAM_REGION": "eu-west-1"})
        try:
            self.assertEqual(p.admin("GET", "health")["region"], "eu-west-1")
        finally:
            p.stop()


if __name__ == "__main__":
    unittest.main()
