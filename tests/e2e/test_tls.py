"""The same calls over https, trusting podiam's CA from GET /_podiam/ca.pem: the aws CLI
with --ca-bundle, boto3 with verify=PATH, plain http.client; the refusal every client
gives when it does not trust that CA (certificate verify failed); and podiam's own refusal
of a TLS server name it does not serve.
"""
import http.client
import socket
import ssl
import subprocess
import unittest
import urllib.parse
import urllib.request

import botocore.exceptions

from podiam_harness import Podiam, signed_request

ACCOUNT = "000000000000"
GCI = {"Action": "GetCallerIdentity", "Version": "2011-06-15"}


class TlsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.p = Podiam.shared()
        if not cls.p.tls_endpoint:
            raise unittest.SkipTest("this podiam has no TLS listener")
        cls.ca = cls.p.ca_file()
        u = urllib.parse.urlsplit(cls.p.tls_endpoint)
        cls.host, cls.port = u.hostname, u.port

    def context(self):
        return ssl.create_default_context(cafile=self.ca)

    def test_ca_pem_is_a_ca_certificate(self):
        with open(self.ca) as f:
            pem = f.read()
        self.assertTrue(pem.startswith("-----BEGIN CERTIFICATE-----"), pem[:60])
        # The same CA over both listeners.
        c = http.client.HTTPSConnection(self.host, self.port, context=self.context(), timeout=10)
        c.request("GET", "/_podiam/ca.pem")
        r = c.getresponse()
        self.assertEqual(r.status, 200)
        self.assertEqual(r.read().decode(), pem)
        cert = c.sock.getpeercert()
        sans = [v for k, v in cert.get("subjectAltName", ())]
        self.assertIn("127.0.0.1", sans)
        self.assertIn("localhost", sans)
        c.close()

    def test_boto3_with_verify_path(self):
        sts = self.p.boto3("sts", tls=True)  # verify=ca.pem
        self.assertEqual(sts.get_caller_identity()["Arn"], "arn:aws:iam::%s:root" % ACCOUNT)
        iam = self.p.boto3("iam", tls=True)
        u = iam.create_user(UserName="tls-boto3", Path="/tls/")["User"]
        self.assertEqual(u["Arn"], "arn:aws:iam::%s:user/tls/tls-boto3" % ACCOUNT)
        k = iam.create_access_key(UserName="tls-boto3")["AccessKey"]
        usts = self.p.boto3("sts", key=k["AccessKeyId"], secret=k["SecretAccessKey"], tls=True)
        st = usts.get_session_token(DurationSeconds=900)["Credentials"]
        sess = self.p.boto3("sts", key=st["AccessKeyId"], secret=st["SecretAccessKey"],
                            token=st["SessionToken"], tls=True)
        self.assertEqual(sess.get_caller_identity()["UserId"], u["UserId"])
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            iam.get_user(UserName="nobody-here")
        self.assertEqual(cm.exception.response["Error"]["Code"], "NoSuchEntity")
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 404)
        iam.delete_access_key(UserName="tls-boto3", AccessKeyId=k["AccessKeyId"])
        iam.delete_user(UserName="tls-boto3")

    def test_cli_with_ca_bundle(self):
        me = self.p.aws("sts", "get-caller-identity", tls=True)[1]  # --ca-bundle ca.pem
        self.assertEqual(me["Arn"], "arn:aws:iam::%s:root" % ACCOUNT)
        u = self.p.aws("iam", "create-user", "--user-name", "tls-cli", tls=True)[1]["User"]
        self.assertRegex(u["UserId"], r"^AIDA[A-Z2-7]{17}$")
        names = [x["UserName"] for x in self.p.aws("iam", "list-users", tls=True)[1]["Users"]]
        self.assertIn("tls-cli", names)
        rc, _, err = self.p.aws("iam", "get-user", "--user-name", "ghost", tls=True, check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn("(NoSuchEntity)", err)
        # AWS_CA_BUNDLE is the environment form of --ca-bundle.
        endpoint = self.p.tls_endpoint
        out = subprocess.run(["aws", "--endpoint-url", endpoint, "--output", "json", "iam",
                              "delete-user", "--user-name", "tls-cli"],
                             env=self.p.client_env(extra={"AWS_CA_BUNDLE": self.ca}),
                             capture_output=True, text=True, timeout=120)
        self.assertEqual(out.returncode, 0, out.stderr)

    def test_http_client_keep_alive_and_presigned(self):
        c = http.client.HTTPSConnection(self.host, self.port, context=self.context(), timeout=10)
        for _ in range(3):
            h, b = signed_request(self.p.tls_endpoint + "/", "sts", GCI)
            c.request("POST", "/", body=b, headers=h)
            r = c.getresponse()
            self.assertEqual(r.status, 200)
            self.assertIn("<Arn>arn:aws:iam::%s:root</Arn>" % ACCOUNT, r.read().decode())
            self.assertFalse(r.will_close)
        c.close()
        url = self.p.boto3("sts", tls=True).generate_presigned_url(
            "get_caller_identity", HttpMethod="GET")
        self.assertTrue(url.startswith("https://"))
        with urllib.request.urlopen(url, context=self.context(), timeout=10) as r:
            self.assertIn("<Arn>arn:aws:iam::%s:root</Arn>" % ACCOUNT, r.read().decode())

    def test_clients_refuse_without_the_ca(self):
        # boto3 with its default trust store.
        sts = self.p.boto3("sts", tls=True, verify=True)
        with self.assertRaises(botocore.exceptions.SSLError) as cm:
            sts.get_caller_identity()
        self.assertIn("certificate verify failed", str(cm.exception))
        # The CLI without --ca-bundle.
        out = subprocess.run(["aws", "--endpoint-url", self.p.tls_endpoint, "sts",
                              "get-caller-identity"],
                             env=self.p.client_env(extra={"AWS_MAX_ATTEMPTS": "1"}),
                             capture_output=True, text=True, timeout=120)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("certificate verify failed", out.stderr)
        # Python's ssl with the system store.
        c = http.client.HTTPSConnection(self.host, self.port,
                                         context=ssl.create_default_context(), timeout=10)
        with self.assertRaises(ssl.SSLCertVerificationError):
            c.request("GET", "/_podiam/health")
        c.close()
        # Trusting the CA but naming a host podiam does not serve: podiam refuses the
        # handshake (it mints certificates only for names it serves), even for a client that
        # checks nothing.
        for ctx in (self.context(), ssl._create_unverified_context()):
            raw = ctx.wrap_socket(socket.create_connection((self.host, self.port)),
                                  server_hostname="not-podiam.example.com",
                                  do_handshake_on_connect=False)
            with self.assertRaises(ssl.SSLError) as cm:
                raw.do_handshake()
            self.assertNotIsInstance(cm.exception, ssl.SSLCertVerificationError)
            raw.close()


if __name__ == "__main__":
    unittest.main()
