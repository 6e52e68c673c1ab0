"""A small OpenID Connect issuer for tests (issue 13): what a local Dex, Keycloak or a CI
job's GitLab looks like to STS. It serves /<name>/.well-known/openid-configuration and
/<name>/keys on loopback, plain http or https with its own CA, and signs tokens with its own
keys. Each issuer name has a mode, so one server plays several issuers:

  ok        discovery and keys as a real issuer serves them
  slow      answers after `delay` seconds
  notjson   an HTML page instead of JSON
  huge      a JWKS of about a megabyte
  status    500 to every request
  badissuer a discovery document naming another issuer

Uses only the standard library and `cryptography` (what is signed is spelled out here).
"""
import base64
import datetime
import http.server
import json
import os
import socketserver
import ssl
import threading
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from cryptography.x509.oid import NameOID
import ipaddress


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def uint(n, size=None):
    size = size or (n.bit_length() + 7) // 8
    return n.to_bytes(size, "big")


class Key:
    """A signing key: RSA (RS256/384/512) or EC P-256 (ES256)."""

    def __init__(self, kid, kind="RSA", alg=None):
        self.kid = kid
        self.kind = kind
        if kind == "RSA":
            self.priv = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            self.alg = alg or "RS256"
        else:
            self.priv = ec.generate_private_key(ec.SECP256R1())
            self.alg = alg or "ES256"
        self.jwk_alg = self.alg  # what the JWKS says (a test may make it lie)

    def jwk(self):
        pub = self.priv.public_key().public_numbers()
        if self.kind == "RSA":
            j = {"kty": "RSA", "n": b64u(uint(pub.n)), "e": b64u(uint(pub.e))}
        else:
            j = {"kty": "EC", "crv": "P-256", "x": b64u(uint(pub.x, 32)), "y": b64u(uint(pub.y, 32))}
        j.update({"kid": self.kid, "use": "sig", "alg": self.jwk_alg})
        return j

    def sign(self, header, claims, alg=None):
        alg = alg or self.alg
        h = dict({"alg": alg, "typ": "JWT", "kid": self.kid}, **header)
        si = (b64u(json.dumps(h).encode()) + "." + b64u(json.dumps(claims).encode())).encode()
        hashes_ = {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}
        if self.kind == "RSA":
            sig = self.priv.sign(si, padding.PKCS1v15(), hashes_[alg[2:]])
        else:
            r, s = utils.decode_dss_signature(self.priv.sign(si, ec.ECDSA(hashes_[alg[2:]])))
            sig = uint(r, 32) + uint(s, 32)
        return si.decode() + "." + b64u(sig)


class Issuer:
    def __init__(self, tls=False, tmpdir=None):
        self.modes = {}   # name -> mode
        self.keys = {}    # name -> [Key]
        self.delay = 3.0
        self.hits = {}    # path -> count
        self.lock = threading.Lock()
        issuer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                with issuer.lock:
                    issuer.hits[self.path] = issuer.hits.get(self.path, 0) + 1
                parts = self.path.strip("/").split("/", 1)
                name = parts[0]
                rest = parts[1] if len(parts) > 1 else ""
                mode = issuer.modes.get(name)
                if mode is None:
                    return self.reply(404, b"no such issuer")
                if mode == "slow":
                    time.sleep(issuer.delay)
                if mode == "status":
                    return self.reply(500, b"oops")
                if mode == "notjson":
                    return self.reply(200, b"<html>login</html>", "text/html")
                url = issuer.url(name)
                if rest == ".well-known/openid-configuration":
                    doc = {"issuer": url if mode != "badissuer" else url + "/other",
                           "jwks_uri": url + "/keys",
                           "id_token_signing_alg_values_supported": ["RS256", "ES256"]}
                    return self.reply(200, json.dumps(doc).encode())
                if rest == "keys":
                    keys = [k.jwk() for k in issuer.keys.get(name, [])]
                    if mode == "huge":
                        keys = keys + [{"kty": "oct", "k": "A" * 1000, "kid": str(i)}
                                       for i in range(1000)]
                    return self.reply(200, json.dumps({"keys": keys}).encode())
                return self.reply(404, b"not found")

            def reply(self, status, body, ctype="application/json"):
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.scheme = "http"
        self.ca_file = None
        if tls:
            self.scheme = "https"
            self.ca_file = self._tls(tmpdir)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _tls(self, tmpdir):
        """A CA of its own and a certificate for 127.0.0.1 signed by it; the CA's PEM path."""
        now = datetime.datetime.now(datetime.timezone.utc)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "local issuer test CA")])
        ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
              .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - datetime.timedelta(hours=1))
              .not_valid_after(now + datetime.timedelta(days=1))
              .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
              .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                           False), critical=True)
              .sign(ca_key, hashes.SHA256()))
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
                .issuer_name(ca_name).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(hours=1))
                .not_valid_after(now + datetime.timedelta(days=1))
                .add_extension(x509.SubjectAlternativeName(
                    [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
                .sign(ca_key, hashes.SHA256()))
        ca_path = os.path.join(tmpdir, "issuer-ca.pem")
        cert_path = os.path.join(tmpdir, "issuer.pem")
        with open(ca_path, "wb") as f:
            f.write(ca.public_bytes(serialization.Encoding.PEM))
        with open(cert_path, "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
            f.write(key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert_path)
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        return ca_path

    def url(self, name):
        return "%s://127.0.0.1:%d/%s" % (self.scheme, self.port, name)

    def add(self, name, mode="ok", keys=None):
        self.modes[name] = mode
        self.keys[name] = keys if keys is not None else [Key(name + "-1")]
        return self.url(name)

    def token(self, name, aud="sts.amazonaws.com", sub="ci-job", key=None, lifetime=600,
              header=None, alg=None, **claims):
        now = int(time.time())
        c = {"iss": self.url(name), "aud": aud, "sub": sub, "iat": now, "exp": now + lifetime}
        c.update(claims)
        return (key or self.keys[name][0]).sign(header or {}, c, alg)

    def hits_for(self, name):
        with self.lock:
            return sum(v for k, v in self.hits.items() if k.startswith("/" + name + "/"))

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
