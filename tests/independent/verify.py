"""Checks consent-explorer's output through code we did not write.

Keys are made here with `cryptography`; both JWTs are verified by PyJWT; the RFC 7638
thumbprint and the PKCE S256 challenge are recomputed here; the UAE consent object is
validated by `jsonschema` against the Nebras v2.1 schema transcribed in tests/schemas/.

Usage: python verify.py BINARY WORKDIR  (the caller sets CONSENT_EXPLORER_*_DIR)
"""
import base64
import copy
import hashlib
import json
import pathlib
import subprocess
import sys

import jsonschema
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import RSAAlgorithm

BINARY, WORK = sys.argv[1], pathlib.Path(sys.argv[2])
REPO = pathlib.Path(__file__).resolve().parents[2]
checks = 0


def check(condition, what):
    global checks
    if not condition:
        raise AssertionError(what)
    checks += 1


def run(*args):
    out = subprocess.run([BINARY, *args], capture_output=True, text=True, cwd=WORK)
    if out.returncode != 0:
        raise AssertionError(f"{args}: exit {out.returncode}: {out.stderr}")
    return json.loads(out.stdout)


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def thumbprint(jwk):
    required = {"RSA": ["e", "kty", "n"], "EC": ["crv", "kty", "x", "y"], "OKP": ["crv", "kty", "x"]}
    members = {k: jwk[k] for k in required[jwk["kty"]]}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return b64url(hashlib.sha256(canonical).digest())


def verify_build(report, public_key, alg, label):
    issuer = report["request_claims"]["aud"]
    client_id = report["form"]["client_id"]
    request = jwt.decode(
        report["request"], public_key, algorithms=[alg], audience=issuer,
        options={"require": ["exp", "nbf", "aud", "iss"]},
    )
    check(request == report["request_claims"], f"{label}: decoded request claims differ")
    check(request["iss"] == client_id and request["client_id"] == client_id, f"{label}: request iss/client_id")
    check(request["exp"] - request["nbf"] <= 3600, f"{label}: request lifetime")
    check(request["code_challenge_method"] == "S256", f"{label}: PKCE method")
    verifier = report["code_verifier"]
    check(43 <= len(verifier) <= 128, f"{label}: verifier length")
    check(request["code_challenge"] == b64url(hashlib.sha256(verifier.encode()).digest()), f"{label}: S256 challenge")
    assertion = jwt.decode(
        report["client_assertion"], public_key, algorithms=[alg], audience=issuer,
        options={"require": ["exp", "iat", "jti", "iss", "sub", "aud"]},
    )
    check(assertion["iss"] == assertion["sub"] == client_id, f"{label}: assertion iss/sub")
    for compact in (report["request"], report["client_assertion"]):
        header = jwt.get_unverified_header(compact)
        check(header.get("alg") == alg and "typ" not in header, f"{label}: header {header}")
    # A tampered payload must fail: the verification above is not vacuous.
    head, body, sig = report["request"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["scope"] = "openid everything"
    forged = ".".join([head, b64url(json.dumps(claims).encode()), sig])
    try:
        jwt.decode(forged, public_key, algorithms=[alg], audience=issuer)
        check(False, f"{label}: a forged request object verified")
    except jwt.InvalidSignatureError:
        check(True, "forgery refused")


def profile_with_key(name, key_path, alg):
    text = (REPO / "profiles" / "local.toml").read_text()
    text = text.replace('key = "demo"', f'key = "{key_path}"').replace('alg = "PS256"', f'alg = "{alg}"')
    path = WORK / f"{name}.toml"
    path.write_text(text)
    return str(path)


def main():
    # 1. The demo key: verified with the JWK Set the tool publishes, kid = RFC 7638 thumbprint.
    report = run("build", "--profile", "local", "--json")
    jwks = run("jwks", "--profile", "local")
    jwk = jwks["keys"][0]
    check(jwk["kid"] == thumbprint(jwk), "kid is the RFC 7638 thumbprint")
    check(report["request_header"]["kid"] == jwk["kid"], "header kid matches the JWK")
    check("d" not in jwk and "p" not in jwk, "the JWK Set holds no private members")
    verify_build(report, jwt.PyJWK(jwk).key, "PS256", "demo PS256")

    # 2. Keys made here, in formats the tool must read: PKCS#8 EC and Ed25519, a private RSA JWK.
    pkcs8 = dict(encoding=serialization.Encoding.PEM, format=serialization.PrivateFormat.PKCS8,
                 encryption_algorithm=serialization.NoEncryption())
    ec_key = ec.generate_private_key(ec.SECP256R1())
    (WORK / "ec.pem").write_bytes(ec_key.private_bytes(**pkcs8))
    ed_key = ed25519.Ed25519PrivateKey.generate()
    (WORK / "ed.pem").write_bytes(ed_key.private_bytes(**pkcs8))
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    (WORK / "rsa.jwk.json").write_text(RSAAlgorithm.to_jwk(rsa_key))
    for name, path, alg, key in [
        ("es256", "ec.pem", "ES256", ec_key),
        ("eddsa", "ed.pem", "EdDSA", ed_key),
        ("rsa-jwk", "rsa.jwk.json", "PS256", rsa_key),
    ]:
        report = run("build", "--profile", profile_with_key(name, WORK / path, alg), "--json")
        verify_build(report, key.public_key(), alg, name)

    # 3. UAE: the consent object validates against the Nebras v2.1 schema.
    schema = json.loads((REPO / "tests" / "schemas" / "uae-account-access-v2.1.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    report = run("build", "--profile", "local-uae", "--json",
                 "--set", "from_date=2026-01-01", "--set", "account_sub_type=Savings,CreditCard",
                 "--set", "on_behalf_of.trading_name=Acme", "--set", "webhook.url=https://tpp.example/hook",
                 "--set", "webhook.is_active=true")
    details = report["request_claims"]["authorization_details"]
    check(len(details) == 1, "UAE: exactly one authorization_details item")
    errors = [e.message for e in validator.iter_errors(details[0])]
    check(errors == [], f"UAE item fails the schema: {errors}")
    check(details[0]["consent"]["OnBehalfOf"] == {"TradingName": "Acme"}, "UAE OnBehalfOf nesting")
    plain = run("build", "--profile", "local-uae", "--json")["request_claims"]["authorization_details"][0]
    check(list(validator.iter_errors(plain)) == [], "UAE default item fails the schema")
    check(plain["consent"]["ConsentId"] != details[0]["consent"]["ConsentId"], "fresh ConsentId per build")
    # The schema is strict: an extra key or a missing required one is refused.
    for mutate in (lambda c: c.update(Colour="blue"), lambda c: c.pop("OpenFinanceBilling")):
        broken = copy.deepcopy(plain)
        mutate(broken["consent"])
        check(list(validator.iter_errors(broken)) != [], "the schema refuses a broken consent")

    print(f"{checks} passed, 0 failed")


if __name__ == "__main__":
    main()
