"""Clients that know nothing of podiam: no endpoint setting, only a proxy and a CA.

podiam's forward proxy (--listen-proxy) terminates CONNECT tunnels to the names podiam serves
with certificates its CA mints per name, and takes absolute-form http:// requests; the
requests are then routed as requests to that host. Checked with boto3 (proxies config and
HTTPS_PROXY + AWS_CA_BUNDLE, no endpoint_url) against the global and regional STS names and
S3 virtual-hosted style on a bucket named s3-…; with curl and urllib fetching an EKS
cluster's issuer documents from https://oidc.eks.REGION.amazonaws.com and verifying a token
with them; and with raw sockets for everything it must refuse (CONNECT to other hosts,
malformed heads, unknown TLS server names, silent and trickling connections).
"""
import base64
import json
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

from podiam_harness import Podiam, wait_until

ACCT = "000000000000"
BUCKET = "s3-echoer-demo"
EKS_TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"},
    "Action": "sts:AssumeRole"}]}


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def hostport(url):
    u = urllib.parse.urlsplit(url)
    return u.hostname, u.port


def read_head(sock, limit=65536):
    """Bytes up to and including the end of an HTTP response head (and no further)."""
    data = b""
    while b"\r\n\r\n" not in data and len(data) < limit:
        c = sock.recv(1)
        if not c:
            break
        data += c
    return data


def read_all(sock, timeout=10):
    sock.settimeout(timeout)
    data = b""
    while True:
        try:
            c = sock.recv(65536)
        except (ConnectionResetError, socket.timeout):
            break
        if not c:
            break
        data += c
    return data


def closed_within(sock, seconds):
    """Seconds until the peer closed sock (EOF or reset), or None if it stayed open."""
    t0 = time.monotonic()
    sock.settimeout(seconds)
    try:
        while True:
            c = sock.recv(4096)
            if not c:
                return time.monotonic() - t0
    except (ConnectionResetError, BrokenPipeError):
        return time.monotonic() - t0
    except socket.timeout:
        return None


def rsa_verify(n, e, signed, sig):
    """RS256 verification: with the cryptography module when there is one, else openssl."""
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding, rsa
        key = rsa.RSAPublicNumbers(e, n).public_key()
        try:
            key.verify(sig, signed, padding.PKCS1v15(), hashes.SHA256())
            return True
        except InvalidSignature:
            return False
    except ImportError:
        pass

    def der_len(n_):
        if n_ < 128:
            return bytes([n_])
        b = n_.to_bytes((n_.bit_length() + 7) // 8, "big")
        return bytes([0x80 | len(b)]) + b

    def der_int(v):
        b = v.to_bytes((v.bit_length() + 8) // 8, "big")
        return b"\x02" + der_len(len(b)) + b

    def der_seq(body):
        return b"\x30" + der_len(len(body)) + body

    rsakey = der_seq(der_int(n) + der_int(e))
    algo = der_seq(b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01\x05\x00")
    spki = der_seq(algo + b"\x03" + der_len(len(rsakey) + 1) + b"\x00" + rsakey)
    with tempfile.TemporaryDirectory() as d:
        pem = os.path.join(d, "k.pem")
        with open(pem, "w") as f:
            f.write("-----BEGIN PUBLIC KEY-----\n" + base64.encodebytes(spki).decode() +
                    "-----END PUBLIC KEY-----\n")
        with open(os.path.join(d, "sig"), "wb") as f:
            f.write(sig)
        with open(os.path.join(d, "data"), "wb") as f:
            f.write(signed)
        p = subprocess.run(["openssl", "dgst", "-sha256", "-verify", pem, "-signature",
                            os.path.join(d, "sig"), os.path.join(d, "data")],
                           capture_output=True)
        return p.returncode == 0


class ProxyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.p = Podiam.start()
        if not cls.p.proxy:
            raise AssertionError("the ready line names no proxy")
        cls.ca = cls.p.ca_file()
        cls.proxy_host, cls.proxy_port = hostport(cls.p.proxy)
        cls.tls_port = hostport(cls.p.tls_endpoint)[1]

    @classmethod
    def tearDownClass(cls):
        cls.p.stop()

    # ---- helpers ------------------------------------------------------------------------
    def session(self, key="test", secret="test", sts_legacy=False, sts_regional=False):
        import boto3
        import botocore.session
        bs = botocore.session.Session()
        bs.set_config_variable("credentials_file", os.path.join(self.p.home, "none"))
        bs.set_config_variable("config_file", os.path.join(self.p.home, "none"))
        if sts_legacy:  # the global endpoint https://sts.amazonaws.com
            bs.set_config_variable("sts_regional_endpoints", "legacy")
        if sts_regional:  # newer botocore's default; Debian 12's botocore 1.29 defaults to legacy
            bs.set_config_variable("sts_regional_endpoints", "regional")
        return boto3.session.Session(aws_access_key_id=key, aws_secret_access_key=secret,
                                     region_name="us-east-1", botocore_session=bs)

    def client(self, service, session=None, use_ssl=True, **s3cfg):
        """A client with no endpoint_url: it dials AWS's own host names via the proxy."""
        import botocore.config
        cfg = botocore.config.Config(proxies={"https": self.p.proxy, "http": self.p.proxy},
                                     retries={"max_attempts": 1}, s3=s3cfg or None)
        c = (session or self.session()).client(service, config=cfg, verify=self.ca,
                                               use_ssl=use_ssl)
        urls = []
        c.meta.events.register("before-send", lambda request, **kw: urls.append(request.url))
        return c, urls

    def connect(self, target, headers=b""):
        """Send CONNECT target through the proxy; (socket, response head)."""
        s = socket.create_connection((self.proxy_host, self.proxy_port), timeout=10)
        s.sendall(b"CONNECT " + target.encode() + b" HTTP/1.1\r\nHost: " + target.encode() +
                  b"\r\n" + headers + b"\r\n")
        return s, read_head(s)

    def raw(self, data, timeout=10):
        """Send bytes to the proxy; everything it answers until it closes."""
        s = socket.create_connection((self.proxy_host, self.proxy_port), timeout=timeout)
        s.sendall(data)
        out = read_all(s, timeout)
        s.close()
        return out

    # ---- (a) boto3 with no endpoint -----------------------------------------------------
    def test_boto3_sts_global_and_regional(self):
        sts, urls = self.client("sts", self.session(sts_legacy=True))
        self.assertEqual(sts.meta.endpoint_url, "https://sts.amazonaws.com")
        me = sts.get_caller_identity()
        self.assertEqual(me["Arn"], "arn:aws:iam::%s:root" % ACCT)
        self.assertEqual(urls, ["https://sts.amazonaws.com/"])
        sts, urls = self.client("sts", self.session(sts_regional=True))
        self.assertEqual(sts.get_caller_identity()["Account"], ACCT)
        self.assertTrue(urls[0].startswith("https://sts.us-east-1.amazonaws.com/"), urls)
        # IAM's global name too, and a signature still has to be right
        iam, urls = self.client("iam")
        iam.create_user(UserName="proxied-user")
        self.assertEqual(urls[-1], "https://iam.amazonaws.com/")
        bad, _ = self.client("sts", self.session(secret="wrong"))
        import botocore.exceptions
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            bad.get_caller_identity()
        self.assertEqual(cm.exception.response["Error"]["Code"], "SignatureDoesNotMatch")

    def test_boto3_s3_virtual_hosted_bucket_named_s3_dash(self):
        s3, urls = self.client("s3", addressing_style="virtual")
        s3.create_bucket(Bucket=BUCKET)
        self.assertEqual(urls[-1], "https://%s.s3.amazonaws.com/" % BUCKET)
        # was routed path-style: PutObject became CreateBucket and failed with MalformedXML
        put = s3.put_object(Bucket=BUCKET, Key="hello.txt", Body=b"hello from a pod")
        self.assertEqual(urls[-1], "https://%s.s3.amazonaws.com/hello.txt" % BUCKET)
        self.assertIn("ETag", put)
        got = s3.get_object(Bucket=BUCKET, Key="hello.txt")
        self.assertEqual(got["Body"].read(), b"hello from a pod")
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
        self.assertEqual(keys, ["hello.txt"])
        # the object is where an endpoint client sees it, path style
        direct = self.p.boto3("s3")
        self.assertEqual(direct.get_object(Bucket=BUCKET, Key="hello.txt")["Body"].read(),
                         b"hello from a pod")
        # regional virtual-hosted name
        s3r, urls = self.client("s3", addressing_style="virtual",
                                us_east_1_regional_endpoint="regional")
        self.assertEqual(s3r.get_object(Bucket=BUCKET, Key="hello.txt")["Body"].read(),
                         b"hello from a pod")
        self.assertEqual(urls[-1], "https://%s.s3.us-east-1.amazonaws.com/hello.txt" % BUCKET)

    def test_https_proxy_and_ca_bundle_from_the_environment(self):
        """A separate process configured the way podiamctl env configures one: HTTPS_PROXY
        and AWS_CA_BUNDLE only."""
        s3, _ = self.client("s3")
        s3.create_bucket(Bucket="env-configured")
        code = ("import boto3, json\n"
                "s = boto3.session.Session(region_name='us-east-1')\n"
                "me = s.client('sts').get_caller_identity()\n"
                "s3 = s.client('s3')\n"
                "s3.put_object(Bucket='env-configured', Key='k', Body=b'via env')\n"
                "body = s3.get_object(Bucket='env-configured', Key='k')['Body'].read()\n"
                "print(json.dumps({'arn': me['Arn'], 'body': body.decode(),\n"
                "                  'sts': s.client('sts').meta.endpoint_url}))\n")
        env = self.p.client_env(extra={"HTTPS_PROXY": self.p.proxy, "AWS_CA_BUNDLE": self.ca,
                                       "NO_PROXY": ""})
        env.pop("AWS_ENDPOINT_URL", None)
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env=env, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        out = json.loads(r.stdout)
        self.assertEqual(out["arn"], "arn:aws:iam::%s:root" % ACCT)
        self.assertEqual(out["body"], "via env")
        self.assertIn("amazonaws.com", out["sts"])
        # without the CA the client refuses podiam's certificate
        env.pop("AWS_CA_BUNDLE")
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env=env, timeout=120)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("CERTIFICATE_VERIFY_FAILED", r.stderr)

    def test_secure_transport_tunnel_true_absolute_form_false(self):
        iam = self.p.boto3("iam")
        iam.create_user(UserName="tls-only")
        iam.put_user_policy(UserName="tls-only", PolicyName="p", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                {"Effect": "Deny", "Action": "s3:*", "Resource": "*",
                 "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}))
        k = iam.create_access_key(UserName="tls-only")["AccessKey"]
        sess = self.session(k["AccessKeyId"], k["SecretAccessKey"])
        s3, urls = self.client("s3", sess, addressing_style="virtual")
        s3.create_bucket(Bucket="tls-only-bucket")
        s3.put_object(Bucket="tls-only-bucket", Key="k", Body=b"x")
        plain, urls = self.client("s3", sess, use_ssl=False, addressing_style="virtual")
        import botocore.exceptions
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            plain.get_object(Bucket="tls-only-bucket", Key="k")
        self.assertEqual(cm.exception.response["Error"]["Code"], "AccessDenied")
        self.assertEqual(urls[-1], "http://tls-only-bucket.s3.amazonaws.com/k")
        self.assertEqual(s3.get_object(Bucket="tls-only-bucket", Key="k")["Body"].read(), b"x")

    # ---- (b) an OIDC verifier that knows only the issuer URL ----------------------------
    def cluster_issuer(self):
        """The issuer of an EKS cluster created through the proxy (once per class)."""
        if getattr(ProxyTest, "_issuer", None):
            return ProxyTest._issuer
        iam = self.p.boto3("iam")
        try:
            iam.create_role(RoleName="proxy-eks", AssumeRolePolicyDocument=json.dumps(EKS_TRUST))
        except iam.exceptions.EntityAlreadyExistsException:
            pass
        # EKS itself through the proxy: eks.us-east-1.amazonaws.com
        eks, urls = self.client("eks")
        c = eks.create_cluster(name="proxied", roleArn="arn:aws:iam::%s:role/proxy-eks" % ACCT,
                               resourcesVpcConfig={})["cluster"]
        self.assertTrue(urls[-1].startswith("https://eks.us-east-1.amazonaws.com/"), urls)
        issuer = c["identity"]["oidc"]["issuer"]
        self.assertRegex(issuer, r"^https://oidc\.eks\.us-east-1\.amazonaws\.com/id/[0-9A-F]{32}$")
        ProxyTest._issuer = issuer
        return issuer

    def verify_token(self, token, issuer, jwks):
        h, p, s = token.split(".")
        header = json.loads(b64url_decode(h))
        claims = json.loads(b64url_decode(p))
        self.assertEqual(header["alg"], "RS256")
        key = [k for k in jwks["keys"] if k["kid"] == header["kid"]]
        self.assertEqual(len(key), 1, "the token's kid is not in the JWKS")
        n = int.from_bytes(b64url_decode(key[0]["n"]), "big")
        e = int.from_bytes(b64url_decode(key[0]["e"]), "big")
        self.assertTrue(rsa_verify(n, e, (h + "." + p).encode(), b64url_decode(s)))
        # and a token changed by one claim does not verify
        forged = base64.urlsafe_b64encode(json.dumps(dict(claims, sub="system:admin"))
                                          .encode()).rstrip(b"=").decode()
        self.assertFalse(rsa_verify(n, e, (h + "." + forged).encode(), b64url_decode(s)))
        self.assertEqual(claims["iss"], issuer)
        self.assertGreater(claims["exp"], time.time())
        return claims

    def test_curl_fetches_issuer_documents_and_verifies_a_token(self):
        issuer = self.cluster_issuer()

        env = {k: v for k, v in os.environ.items()
               if k.lower() not in ("no_proxy", "https_proxy", "http_proxy", "all_proxy",
                                    "curl_ca_bundle", "ssl_cert_file", "ssl_cert_dir")}

        def curl(url, *ca):
            return subprocess.run(["curl", "-sS", "--fail", "--max-time", "20", "-x",
                                   self.p.proxy] + list(ca) + [url],
                                  capture_output=True, text=True, env=env)

        def curl_json(url):
            r = curl(url, "--cacert", self.ca)
            self.assertEqual(r.returncode, 0, r.stderr)
            return json.loads(r.stdout)

        doc = curl_json(issuer + "/.well-known/openid-configuration")
        self.assertEqual(doc["issuer"], issuer)
        self.assertEqual(doc["jwks_uri"], issuer + "/keys")  # as AWS publishes it
        jwks = curl_json(doc["jwks_uri"])
        token = self.p.admin("POST", "oidc/token", {
            "issuer": issuer, "ttl": 600,
            "claims": {"sub": "system:serviceaccount:default:echoer",
                       "aud": ["sts.amazonaws.com"]}})["token"]
        claims = self.verify_token(token, issuer, jwks)
        self.assertEqual(claims["sub"], "system:serviceaccount:default:echoer")
        # curl with only the system's CAs refuses the certificate (60: peer certificate
        # cannot be authenticated with known CA certificates)
        r = curl(issuer + "/keys")
        self.assertEqual(r.returncode, 60, r.stderr)

    def test_urllib_fetches_issuer_documents_and_verifies_a_token(self):
        issuer = self.cluster_issuer()
        ctx = ssl.create_default_context(cafile=self.ca)
        opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({"https": self.p.proxy}),
            urllib.request.HTTPSHandler(context=ctx))

        def get(url):
            with opener.open(url, timeout=20) as r:
                self.assertEqual(r.status, 200)
                return json.loads(r.read())

        doc = get(issuer + "/.well-known/openid-configuration")
        self.assertEqual(doc["issuer"], issuer)
        jwks = get(doc["jwks_uri"])
        token = self.p.admin("POST", "oidc/token", {
            "issuer": issuer, "claims": {"sub": "system:serviceaccount:ns:sa",
                                         "aud": ["sts.amazonaws.com"]}})["token"]
        self.verify_token(token, issuer, jwks)
        # an issuer podiam does not host under that name: 404 from podiam, not a tunnel
        with self.assertRaises(urllib.error.HTTPError) as cm:
            get("https://oidc.eks.us-east-1.amazonaws.com/id/" + "0" * 32 + "/keys")
        self.assertEqual(cm.exception.code, 404)

    # ---- (c) what the proxy refuses -----------------------------------------------------
    def test_connect_elsewhere_is_refused_and_logged(self):
        s, head = self.connect("example.com:443")
        self.assertTrue(head.startswith(b"HTTP/1.1 403"), head)
        body = read_all(s)
        self.assertIn(b"example.com:443 is not a host podiam serves", body)
        # nothing is tunnelled: a TLS hello now gets no answer, the socket is closed
        try:
            s.sendall(b"\x16\x03\x01\x00\x05hello")
            self.assertEqual(read_all(s, 3), b"")
        except (BrokenPipeError, ConnectionResetError):
            pass
        s.close()
        self.assertTrue(wait_until(lambda: "CONNECT example.com:443 refused" in self.p.logs()),
                        self.p.logs()[-2000:])
        # a name podiam serves, on a port it does not serve it on
        s, head = self.connect("sts.amazonaws.com:8443")
        self.assertTrue(head.startswith(b"HTTP/1.1 403"), head)
        s.close()
        # absolute-form to another host
        out = self.raw(b"GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 403"), out)
        self.assertIn(b"example.com:80 is not a host podiam serves", out)
        # urllib through the proxy to another host gets the 403 too
        opener = urllib.request.build_opener(urllib.request.ProxyHandler(
            {"http": self.p.proxy}))
        with self.assertRaises(urllib.error.HTTPError) as cm:
            opener.open("http://example.org/", timeout=10)
        self.assertEqual(cm.exception.code, 403)

    def test_absolute_form_to_a_served_host(self):
        out = self.raw(b"GET http://sts.amazonaws.com/?Action=GetCallerIdentity&"
                       b"Version=2011-06-15 HTTP/1.1\r\nHost: sts.amazonaws.com\r\n"
                       b"Connection: close\r\n\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 403"), out[:200])
        self.assertIn(b"<Code>MissingAuthenticationToken</Code>", out)  # STS answered
        out = self.raw(b"GET http://s3.amazonaws.com/_podiam/health HTTP/1.1\r\n"
                       b"Host: s3.amazonaws.com\r\nConnection: close\r\n\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 200"), out[:200])

    def test_malformed_heads_get_400(self):
        for head in [b"CONNECT sts..amazonaws.com:443 HTTP/1.1\r\n\r\n",
                     b"CONNECT sts.amazonaws.com HTTP/1.1\r\n\r\n",
                     b"CONNECT sts.amazonaws.com:99999 HTTP/1.1\r\n\r\n",
                     b"CONNECT user@sts.amazonaws.com:443 HTTP/1.1\r\n\r\n",
                     b"CONNECT [::1:443 HTTP/1.1\r\n\r\n",
                     b"GET http://u:p@sts.amazonaws.com/ HTTP/1.1\r\n\r\n",
                     b"CONNECT sts.amazonaws.com:443 HTTP/9.9\r\n\r\n",
                     b"CONNECT sts.amazonaws.com:443 HTTP/1.1\r\nbad header\r\n\r\n",
                     b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03",
                     b"CONNECT sts.amazonaws.com:443 HTTP/1.1\r\nX: " + b"a" * 9000]:
            out = self.raw(head)
            self.assertTrue(out.startswith(b"HTTP/1.1 400"), (head[:60], out[:100]))
        # not a proxy request at all
        out = self.raw(b"GET /_podiam/health HTTP/1.1\r\nHost: localhost\r\n\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 400"), out[:100])
        self.assertIn(b"proxy listener", out)

    def tls(self, sock, server_hostname, verify=True):
        ctx = ssl.create_default_context(cafile=self.ca)
        if not verify or server_hostname is None:
            ctx.check_hostname = False
        if not verify:
            ctx.verify_mode = ssl.CERT_NONE
        return ctx.wrap_socket(sock, server_hostname=server_hostname)

    def test_tls_server_names(self):
        # after CONNECT to a served name, a hello naming another host is refused by podiam
        # (verification is off here: only the server can make this fail)
        s, head = self.connect("sts.amazonaws.com:443")
        self.assertEqual(head, b"HTTP/1.1 200 Connection established\r\n\r\n")
        with self.assertRaises(ssl.SSLError):
            self.tls(s, "example.com", verify=False)
        s.close()
        # the same on the TLS listener itself
        s = socket.create_connection(("127.0.0.1", self.tls_port), timeout=10)
        with self.assertRaises(ssl.SSLError):
            self.tls(s, "not-served.example.net", verify=False)
        s.close()
        # no server name after CONNECT: the CONNECT host's certificate
        s, head = self.connect("%s.s3.amazonaws.com:443" % BUCKET)
        self.assertTrue(head.startswith(b"HTTP/1.1 200"), head)
        t = self.tls(s, None)
        sans = [v for k, v in t.getpeercert()["subjectAltName"]]
        self.assertEqual(sans, ["%s.s3.amazonaws.com" % BUCKET])
        t.sendall(b"GET /_podiam/health HTTP/1.1\r\nHost: %s.s3.amazonaws.com\r\n"
                  b"Connection: close\r\n\r\n" % BUCKET.encode())
        self.assertTrue(read_all(t).startswith(b"HTTP/1.1 200"))
        t.close()
        # with a server name: that name's, verified by hostname
        s, head = self.connect("oidc.eks.us-east-1.amazonaws.com:443")
        t = self.tls(s, "oidc.eks.us-east-1.amazonaws.com")
        self.assertEqual([v for k, v in t.getpeercert()["subjectAltName"]],
                         ["oidc.eks.us-east-1.amazonaws.com"])
        t.close()
        # CONNECT to podiam's own TLS port by IP: its own certificate, no name sent
        s, head = self.connect("127.0.0.1:%d" % self.tls_port)
        self.assertTrue(head.startswith(b"HTTP/1.1 200"), head)
        t = self.tls(s, None)
        self.assertIn(("IP Address", "127.0.0.1"), t.getpeercert()["subjectAltName"])
        t.close()

    def test_ready_line_and_health_name_the_proxy(self):
        h = self.p.admin("GET", "health")
        self.assertEqual(h["endpoints"]["proxy"], self.p.proxy)
        self.assertEqual(h["endpoints"]["https"], self.p.tls_endpoint)
        self.assertEqual(h["endpoints"]["http"], self.p.endpoint)
        self.assertNotEqual(self.proxy_port, 0)
        q = Podiam.start("--listen-proxy", "off", "--listen-tls", "off")
        try:
            self.assertIsNone(q.proxy)
            self.assertEqual(q.admin("GET", "health")["endpoints"], {"http": q.endpoint})
        finally:
            q.stop()


class ProxyDeadlineTest(unittest.TestCase):
    """A podiam whose request heads are due within 2 seconds."""

    @classmethod
    def setUpClass(cls):
        cls.p = Podiam.start("--header-timeout", "2", "--listen-tls", "off")
        cls.host, cls.port = hostport(cls.p.proxy)
        cls.ca = cls.p.ca_file()

    @classmethod
    def tearDownClass(cls):
        cls.p.stop()

    def working_tunnel(self):
        """A whole CONNECT + TLS + request, timed (this podiam has no TLS listener: the
        proxy's tunnels still terminate)."""
        t0 = time.monotonic()
        s = socket.create_connection((self.host, self.port), timeout=10)
        s.sendall(b"CONNECT sts.amazonaws.com:443 HTTP/1.1\r\n\r\n")
        self.assertEqual(read_head(s), b"HTTP/1.1 200 Connection established\r\n\r\n")
        t = ssl.create_default_context(cafile=self.ca).wrap_socket(
            s, server_hostname="sts.amazonaws.com")
        t.sendall(b"GET /_podiam/health HTTP/1.1\r\nHost: sts.amazonaws.com\r\n"
                  b"Connection: close\r\n\r\n")
        self.assertTrue(read_all(t).startswith(b"HTTP/1.1 200"))
        t.close()
        return time.monotonic() - t0

    def test_silent_and_trickling_connections_are_closed_and_block_nobody(self):
        silent = socket.create_connection((self.host, self.port), timeout=10)
        partial = socket.create_connection((self.host, self.port), timeout=10)
        partial.sendall(b"CONNECT sts.amazonaws.com:443 HTTP/1.1\r\nHost: sts.ama")
        trickle = socket.create_connection((self.host, self.port), timeout=10)
        # others are served at once meanwhile
        self.assertLess(self.working_tunnel(), 1.5)
        t0 = time.monotonic()
        waited = closed_within(silent, 8)
        self.assertIsNotNone(waited, "a silent connection was left open")
        self.assertIsNotNone(closed_within(partial, 8), "a half-sent head was left open")
        self.assertLess(time.monotonic() - t0, 6)
        # one byte every 0.3 s: the head would take 12 s, the deadline closes it at 2 s
        head = b"CONNECT sts.amazonaws.com:443 HTTP/1.1\r\nHost: sts.amazonaws.com\r\n\r\n"
        t0 = time.monotonic()
        closed = None
        for b in head:
            try:
                trickle.sendall(bytes([b]))
            except (BrokenPipeError, ConnectionResetError):
                closed = time.monotonic() - t0
                break
            if closed_within(trickle, 0.3) is not None:
                closed = time.monotonic() - t0
                break
        self.assertIsNotNone(closed, "a trickled head outlived its deadline")
        self.assertLess(closed, 6)
        for s in (silent, partial, trickle):
            s.close()
        self.assertLess(self.working_tunnel(), 1.5)

    def test_pending_connections_are_bounded(self):
        held = [socket.create_connection((self.host, self.port), timeout=10) for _ in range(64)]
        time.sleep(0.3)
        s = socket.create_connection((self.host, self.port), timeout=10)
        out = read_all(s, 5)
        self.assertTrue(out.startswith(b"HTTP/1.1 503"), out[:100])
        s.close()
        for h in held:
            self.assertIsNotNone(closed_within(h, 8))
            h.close()
        self.working_tunnel()


if __name__ == "__main__":
    unittest.main()
