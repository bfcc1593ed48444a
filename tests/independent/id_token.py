"""Verifies the sandbox's ID token through code we did not write: PyJWT on `cryptography`.

The key comes from the sandbox's own /jwks, found through its discovery document (fetched
here, not handed over); every expected value comes from the caller's request (issuer,
client_id, the request object's nonce), never from the sandbox's answer.

Usage: python id_token.py ISSUER CLIENT_ID NONCE ID_TOKEN
"""
import base64
import json
import sys
import time
import urllib.request

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER, CLIENT_ID, NONCE, ID_TOKEN = sys.argv[1:5]
checks = 0


def check(condition, what):
    global checks
    if not condition:
        raise AssertionError(what)
    checks += 1


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def main():
    with urllib.request.urlopen(f"{ISSUER}/.well-known/openid-configuration") as answer:
        discovery = json.load(answer)
    check(discovery["issuer"] == ISSUER, "discovery names the issuer")
    check("PS256" in discovery["id_token_signing_alg_values_supported"], "PS256 is advertised")

    header = jwt.get_unverified_header(ID_TOKEN)
    check(header["alg"] == "PS256", f"alg {header['alg']}")
    signing_key = jwt.PyJWKClient(discovery["jwks_uri"]).get_signing_key_from_jwt(ID_TOKEN)
    check(signing_key.key_id == header["kid"], "the kid names a key at jwks_uri")
    check(isinstance(signing_key.key, rsa.RSAPublicKey) and signing_key.key.key_size >= 2048,
          "an RSA key of at least 2048 bits")

    claims = jwt.decode(
        ID_TOKEN, signing_key.key, algorithms=["PS256"], audience=CLIENT_ID, issuer=ISSUER,
        options={"require": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce"]},
    )
    check(claims["nonce"] == NONCE, "nonce is the request object's")
    check(claims["azp"] == CLIENT_ID, "azp is the client")
    check(isinstance(claims["sub"], str) and claims["sub"], "a subject")
    now = time.time()
    check(claims["iat"] <= now + 5 and claims["exp"] > now, "issued now, not expired")
    check(claims["auth_time"] <= claims["iat"], "auth_time before issue")

    # The verification above is not vacuous: another audience, a forged payload and another
    # key are each refused.
    try:
        jwt.decode(ID_TOKEN, signing_key.key, algorithms=["PS256"], audience="someone-else", issuer=ISSUER)
        check(False, "another audience verified")
    except jwt.InvalidAudienceError:
        check(True, "audience refused")
    head, _, sig = ID_TOKEN.split(".")
    forged = ".".join([head, b64url(json.dumps({**claims, "sub": "mallory"}).encode()), sig])
    try:
        jwt.decode(forged, signing_key.key, algorithms=["PS256"], audience=CLIENT_ID)
        check(False, "a forged ID token verified")
    except jwt.InvalidSignatureError:
        check(True, "forgery refused")
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    try:
        jwt.decode(ID_TOKEN, stranger, algorithms=["PS256"], audience=CLIENT_ID)
        check(False, "another key verified")
    except jwt.InvalidSignatureError:
        check(True, "another key refused")

    print(f"{checks} passed, 0 failed")


if __name__ == "__main__":
    main()
