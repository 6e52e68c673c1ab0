"""Verify a JWT the way an external service does (tests' helper): fetch the issuer's
discovery document, then its jwks_uri, pick the key by kid, and check the signature with the
algorithm the key names (never the token's alone), then the registered claims.

Uses only the `cryptography` package (no JWT library): what is checked is spelled out here.
"""
import base64
import json
import time
import urllib.request


def b64url(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64int(s):
    return int.from_bytes(b64url(s), "big")


def parts(token):
    h, p, s = token.split(".")
    return json.loads(b64url(h)), json.loads(b64url(p)), b64url(s), (h + "." + p).encode()


def fetch_json(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.loads(r.read())


def public_key(jwk):
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    if jwk["kty"] == "RSA":
        return rsa.RSAPublicNumbers(b64int(jwk["e"]), b64int(jwk["n"])).public_key()
    curve = {"P-256": ec.SECP256R1(), "P-384": ec.SECP384R1(), "P-521": ec.SECP521R1()}[jwk["crv"]]
    return ec.EllipticCurvePublicNumbers(b64int(jwk["x"]), b64int(jwk["y"]), curve).public_key()


def verify_signature(jwk, alg, signing_input, sig):
    """Raise (cryptography's InvalidSignature or ValueError) unless sig verifies."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, utils
    if jwk.get("alg") and jwk["alg"] != alg:
        raise ValueError("the key is for %s, the token says %s" % (jwk["alg"], alg))
    h = {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}[alg[2:]]
    key = public_key(jwk)
    if alg.startswith("RS"):
        key.verify(sig, signing_input, padding.PKCS1v15(), h)
    elif alg.startswith("ES"):
        n = len(sig) // 2
        der = utils.encode_dss_signature(int.from_bytes(sig[:n], "big"),
                                         int.from_bytes(sig[n:], "big"))
        key.verify(der, signing_input, ec.ECDSA(h))
    else:
        raise ValueError("algorithm %s refused" % alg)


def verify(token, discovery_url, audience, now=None):
    """The claims of token after the external service's checks; raises on any failure."""
    header, claims, sig, signing_input = parts(token)
    disco = fetch_json(discovery_url)
    if disco["issuer"] != claims["iss"]:
        raise ValueError("issuer %r is not the token's %r" % (disco["issuer"], claims["iss"]))
    keys = [k for k in fetch_json(disco["jwks_uri"])["keys"] if k.get("kid") == header.get("kid")]
    if len(keys) != 1:
        raise ValueError("no key with kid %r" % header.get("kid"))
    verify_signature(keys[0], header["alg"], signing_input, sig)
    aud = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if audience not in aud:
        raise ValueError("audience %r not in %r" % (audience, aud))
    now = time.time() if now is None else now
    if not claims["iat"] <= now + 60 or not now < claims["exp"]:
        raise ValueError("not valid now (iat %s, exp %s, now %s)" % (claims["iat"],
                                                                      claims["exp"], now))
    return claims
