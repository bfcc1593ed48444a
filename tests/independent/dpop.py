"""Checks consent-explorer's DPoP proofs through code we did not write: PyJWT on `cryptography`.

Reads JSON lines on stdin, one per proof: {"proof", "method", "url", "access_token"?,
"nonce"?, "jkt", "now"}. Every expected value comes from the request the proof was made for,
never from the proof itself. The RFC 7638 thumbprint is computed here, from the header's jwk.

Usage: python dpop.py < cases.jsonl
"""
import base64
import hashlib
import json
import sys
from urllib.parse import urlsplit, urlunsplit

import jwt

checks = 0


def check(condition, what):
    global checks
    if not condition:
        raise AssertionError(what)
    checks += 1


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def thumbprint(jwk):
    """RFC 7638: the required members only, sorted, no whitespace, SHA-256."""
    required = {"EC": ["crv", "kty", "x", "y"], "RSA": ["e", "kty", "n"], "OKP": ["crv", "kty", "x"]}
    members = {k: jwk[k] for k in required[jwk["kty"]]}
    canonical = json.dumps(members, sort_keys=True, separators=(",", ":")).encode()
    return b64url(hashlib.sha256(canonical).digest())


def verify(case):
    proof = case["proof"]
    header = jwt.get_unverified_header(proof)
    check(header["typ"] == "dpop+jwt", "typ is dpop+jwt")
    check(header["alg"] in ("ES256", "PS256", "EdDSA"), f"a FAPI alg, not {header['alg']}")
    jwk = header["jwk"]
    check(not any(k in jwk for k in ("d", "p", "q", "dp", "dq", "qi")), "no private key in the jwk")
    key = jwt.PyJWK(jwk, algorithm=header["alg"])
    claims = jwt.decode(proof, key.key, algorithms=[header["alg"]], options={"verify_aud": False})
    check(thumbprint(jwk) == case["jkt"], "the jwk's thumbprint is the dpop_jkt sent")
    check(claims["htm"] == case["method"], "htm is the request's method")
    parts = urlsplit(case["url"])
    check(claims["htu"] == urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")),
          "htu is the URL without query and fragment")
    check("?" not in claims["htu"] and "#" not in claims["htu"], "no query or fragment in htu")
    check(abs(claims["iat"] - case["now"]) <= 1, "iat is now")
    check(isinstance(claims["jti"], str) and len(claims["jti"]) >= 16, "a jti of 128 bits or more")
    if "nonce" in case:
        check(claims.get("nonce") == case["nonce"], "nonce is the server's")
    else:
        check("nonce" not in claims, "no nonce when none was given")
    if "access_token" in case:
        expected = b64url(hashlib.sha256(case["access_token"].encode("ascii")).digest())
        check(claims.get("ath") == expected, "ath is base64url(SHA-256(access token))")
    else:
        check("ath" not in claims, "no ath without an access token")
    # Not vacuous: the proof with another signature is refused by the same key.
    tampered = proof.rsplit(".", 1)[0] + "." + b64url(b"\x01" * 64)
    try:
        jwt.decode(tampered, key.key, algorithms=[header["alg"]], options={"verify_aud": False})
        refused = False
    except jwt.InvalidTokenError:
        refused = True
    check(refused, "a tampered signature is refused")
    return claims["jti"]


def main():
    jtis = []
    for line in sys.stdin:
        if line.strip():
            jtis.append(verify(json.loads(line)))
    check(len(jtis) >= 6, f"the cases came ({len(jtis)})")
    check(len(set(jtis)) == len(jtis), "every proof has its own jti")
    print(f"{checks} passed, 0 failed")


main()
