"""Checks consent-explorer's output through code we did not write.

Keys are made here with `cryptography`; both JWTs are verified by PyJWT; the RFC 7638
thumbprint and the PKCE S256 challenge are recomputed here; the UAE consent object is
validated by `jsonschema` against the Nebras v2.1 schema transcribed in tests/schemas/.

Every expected value (aud, iss, client_id, redirect_uri, scope, lifetimes, consent fields)
comes from the profile file read here with `tomllib` and from the issuer the caller names,
never from the tool's own report: a report that agrees with itself proves nothing.

Usage: python verify.py BINARY WORKDIR ISSUER  (the caller sets CONSENT_EXPLORER_*_DIR;
ISSUER is the embedded server's issuer that build uses when no server is bound)
"""
import base64
import copy
import datetime
import hashlib
import json
import math
import pathlib
import re
import subprocess
import sys
import time
import tomllib
import uuid

import jsonschema
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

BINARY, WORK, EMBEDDED_ISSUER = sys.argv[1], pathlib.Path(sys.argv[2]), sys.argv[3]
REPO = pathlib.Path(__file__).resolve().parents[2]
# RFC 7523 section 2.2.
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# The consent types of the two packs, as their specifications spell them.
MY_ACCOUNT_ACCESS = "urn:openfinance-ml:account-access-consent:v1.2"
UAE_ACCOUNT_ACCESS = "urn:openfinanceuae:account-access-consent:v2.1"
DAY = 86_400
checks = 0
seen_jtis = set()


def check(condition, what):
    global checks
    if not condition:
        raise AssertionError(what)
    checks += 1


class Run:
    """One build: its report and the whole seconds bracketing when it ran."""

    def __init__(self, *args):
        self.before = math.floor(time.time())
        out = subprocess.run([BINARY, *args], capture_output=True, text=True, cwd=WORK)
        self.after = math.ceil(time.time())
        if out.returncode != 0:
            raise AssertionError(f"{args}: exit {out.returncode}: {out.stderr}")
        self.report = json.loads(out.stdout)

    def within(self, value, offset, what):
        check(self.before + offset <= value <= self.after + offset,
              f"{what}: {value} not within [{self.before + offset}, {self.after + offset}]")


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def thumbprint(jwk):
    required = {"RSA": ["e", "kty", "n"], "EC": ["crv", "kty", "x", "y"], "OKP": ["crv", "kty", "x"]}
    members = {k: jwk[k] for k in required[jwk["kty"]]}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return b64url(hashlib.sha256(canonical).digest())


class Expected:
    """What a build of this profile file must contain, read from the file alone."""

    def __init__(self, profile_path):
        p = tomllib.loads(pathlib.Path(profile_path).read_text())
        self.profile = p
        self.consent = p.get("consent", {})
        embedded = p.get("target") == "embedded"
        # The embedded server's endpoints hang off its issuer (README: POST {issuer}/par).
        self.issuer = EMBEDDED_ISSUER if embedded else p["issuer"]
        endpoint = (lambda name: f"{self.issuer}/{name}") if embedded else (lambda name: p[f"{name}_endpoint"])
        signing = p.get("signing", {})
        self.alg = signing["alg"]
        audience = signing.get("assertion_audience", "issuer")
        named = {"issuer": lambda: self.issuer, "token_endpoint": lambda: endpoint("token"),
                 "par_endpoint": lambda: endpoint("par")}
        self.assertion_aud = named[audience]() if audience in named else audience
        self.lifetime = signing.get("lifetime", 300)
        self.skew = signing.get("clock_skew", 0)
        self.client_id = p["client_id"]

    def relative_expiry_seconds(self):
        days = re.fullmatch(r"\+(\d+)d", self.consent["expiration"])
        check(days is not None, f"the profile's expiration {self.consent['expiration']!r} is +Nd")
        return int(days.group(1)) * DAY


def epoch(rfc3339):
    return int(datetime.datetime.fromisoformat(rfc3339).timestamp())


def expected_details(want, run, consent_extra, item_extra):
    """The authorization_details item the profile asks for; fresh and relative values are
    checked against the run here and then taken over, so the rest compares whole."""
    details = run.report["request_claims"]["authorization_details"]
    check(isinstance(details, list) and len(details) == 1, "exactly one authorization_details item")
    got = details[0]["consent"]
    c = want.consent
    if c["pack"] == "my-account-access":
        run.within(epoch(got["expiration_datetime"]), want.relative_expiry_seconds(), "consent expiry")
        consent = {"dc_id": c["dc_id"], "dp_id": c["dp_id"], "consent_type": MY_ACCOUNT_ACCESS,
                   "consent_purpose": c["purpose"], "permissions": c["permissions"],
                   "expiration_datetime": got["expiration_datetime"]}
        item = {"type": MY_ACCOUNT_ACCESS}
    elif c["pack"] == "uae-account-access":
        run.within(epoch(got["ExpirationDateTime"]), want.relative_expiry_seconds(), "consent expiry")
        check(uuid.UUID(got["ConsentId"]).version == 4, "ConsentId is a fresh UUID v4")
        consent = {"ConsentId": got["ConsentId"], "Permissions": c["permissions"],
                   "ExpirationDateTime": got["ExpirationDateTime"],
                   "OpenFinanceBilling": {"UserType": c["user_type"], "Purpose": c["purpose"]}}
        item = {"type": UAE_ACCOUNT_ACCESS}
    else:
        raise AssertionError(f"no expectations written for pack {c['pack']}")
    return [{**item, "consent": {**consent, **dict(consent_extra)}, **dict(item_extra)}]


def verify_build(run, profile_path, public_key, kid, label, consent_extra=(), item_extra=()):
    want = Expected(profile_path)
    p, report, alg = want.profile, run.report, want.alg
    form = report["form"]
    check(set(form) == {"client_id", "request", "client_assertion_type", "client_assertion"},
          f"{label}: form fields {sorted(form)}")
    check(form["client_id"] == want.client_id, f"{label}: form client_id")
    check(form["client_assertion_type"] == ASSERTION_TYPE, f"{label}: client_assertion_type")
    check(report["request"] == form["request"], f"{label}: the reported request is the one sent")
    check(report["client_assertion"] == form["client_assertion"], f"{label}: the reported assertion is the one sent")

    request = jwt.decode(
        form["request"], public_key, algorithms=[alg], audience=want.issuer, issuer=want.client_id,
        options={"require": ["exp", "nbf", "aud", "iss"]},
    )
    check(request == report["request_claims"], f"{label}: decoded request claims differ from the report")
    check(request["aud"] == want.issuer, f"{label}: request aud {request['aud']!r}, want {want.issuer!r}")
    check(request["iss"] == want.client_id, f"{label}: request iss")
    check(request["client_id"] == want.client_id, f"{label}: request client_id")
    check(request["redirect_uri"] == p["redirect_uri"], f"{label}: redirect_uri")
    check(request["scope"] == p["scope"], f"{label}: scope")
    check(request["response_type"] == p.get("response_type", "code"), f"{label}: response_type")
    check(request.get("max_age") == p.get("max_age"), f"{label}: max_age")
    check(request["exp"] - request["nbf"] == want.lifetime, f"{label}: request lifetime")
    run.within(request["nbf"], -want.skew, f"{label}: request nbf")
    for fresh in ("state", "nonce"):
        check(isinstance(request.get(fresh), str) and len(request[fresh]) >= 16, f"{label}: {fresh}")
    userinfo = p.get("userinfo", {}).get("claims", [])
    check(request.get("claims") == ({"userinfo": {c: None for c in userinfo}} if userinfo else None),
          f"{label}: claims {request.get('claims')}")
    check(request["code_challenge_method"] == "S256", f"{label}: PKCE method")
    verifier = report["code_verifier"]
    check(43 <= len(verifier) <= 128, f"{label}: verifier length")
    check(request["code_challenge"] == b64url(hashlib.sha256(verifier.encode()).digest()), f"{label}: S256 challenge")
    check(request["authorization_details"] == expected_details(want, run, consent_extra, item_extra),
          f"{label}: authorization_details {request['authorization_details']}")

    assertion = jwt.decode(
        form["client_assertion"], public_key, algorithms=[alg], audience=want.assertion_aud,
        issuer=want.client_id, options={"require": ["exp", "iat", "jti", "iss", "sub", "aud"]},
    )
    check(assertion == report["assertion_claims"], f"{label}: decoded assertion claims differ from the report")
    check(assertion["aud"] == want.assertion_aud, f"{label}: assertion aud {assertion['aud']!r}, want {want.assertion_aud!r}")
    check(assertion["iss"] == assertion["sub"] == want.client_id, f"{label}: assertion iss/sub")
    check(assertion["exp"] - assertion["iat"] == want.lifetime, f"{label}: assertion lifetime")
    run.within(assertion["iat"], -want.skew, f"{label}: assertion iat")
    check(assertion["jti"] not in seen_jtis, f"{label}: assertion jti reused")
    seen_jtis.add(assertion["jti"])

    for compact in (form["request"], form["client_assertion"]):
        header = jwt.get_unverified_header(compact)
        check(header == {"alg": alg, "kid": kid}, f"{label}: header {header}")
    # A tampered payload must fail: the verification above is not vacuous.
    head, body, sig = form["request"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["scope"] = "openid everything"
    forged = ".".join([head, b64url(json.dumps(claims).encode()), sig])
    try:
        jwt.decode(forged, public_key, algorithms=[alg], audience=want.issuer)
        check(False, f"{label}: a forged request object verified")
    except jwt.InvalidSignatureError:
        check(True, "forgery refused")


def profile_with_key(name, key_path, alg, replacements=()):
    """local.toml signed with a key made here; `replacements` move it off the defaults
    (another issuer, client_id, lifetime, assertion audience) so no default can pass."""
    text = (REPO / "profiles" / "local.toml").read_text()
    for old, new in [('key = "demo"', f'key = "{key_path}"'), ('alg = "PS256"', f'alg = "{alg}"'),
                     *replacements]:
        check(old in text, f"local.toml still has {old!r} to replace")
        text = text.replace(old, new)
    path = WORK / f"{name}.toml"
    path.write_text(text)
    return str(path)


REMOTE_ES256 = [
    ('target = "embedded"', 'issuer = "https://fapi.verify.example"\n'
                            'token_endpoint = "https://fapi.verify.example/oauth2/token"'),
    ('client_id = "consent-explorer-demo"', 'client_id = "verify-es256-client"'),
    ('redirect_uri = "http://127.0.0.1:8080/callback"', 'redirect_uri = "https://tpp.verify.example/cb"'),
    ("lifetime = 300", 'lifetime = 240\nassertion_audience = "token_endpoint"'),
]
REMOTE_RSA = [
    ('target = "embedded"', 'issuer = "https://rsa.verify.example/as"\n'
                            'par_endpoint = "https://mtls.rsa.verify.example/par"'),
    ('client_id = "consent-explorer-demo"', 'client_id = "verify-rsa-client"'),
    ('scope = "openid accounts profile"', 'scope = "openid accounts"'),
    ("lifetime = 300", 'lifetime = 600\nclock_skew = 7\nassertion_audience = "par_endpoint"'),
]


def main():
    local, local_uae = REPO / "profiles" / "local.toml", REPO / "profiles" / "local-uae.toml"
    # 1. The demo key: verified with the JWK Set the tool publishes, kid = RFC 7638 thumbprint.
    run = Run("build", "--profile", str(local), "--json")
    jwks = Run("jwks", "--profile", str(local)).report
    jwk = jwks["keys"][0]
    check(jwk["kid"] == thumbprint(jwk), "kid is the RFC 7638 thumbprint")
    check("d" not in jwk and "p" not in jwk, "the JWK Set holds no private members")
    verify_build(run, local, jwt.PyJWK(jwk).key, jwk["kid"], "demo PS256")
    # The built-in `local` is that same file.
    verify_build(Run("build", "--profile", "local", "--json"), local, jwt.PyJWK(jwk).key, jwk["kid"],
                 "built-in local")

    # 2. Keys made here, in formats the tool must read: PKCS#8 EC and Ed25519, a private RSA JWK.
    pkcs8 = dict(encoding=serialization.Encoding.PEM, format=serialization.PrivateFormat.PKCS8,
                 encryption_algorithm=serialization.NoEncryption())
    ec_key = ec.generate_private_key(ec.SECP256R1())
    (WORK / "ec.pem").write_bytes(ec_key.private_bytes(**pkcs8))
    ed_key = ed25519.Ed25519PrivateKey.generate()
    (WORK / "ed.pem").write_bytes(ed_key.private_bytes(**pkcs8))
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    (WORK / "rsa.jwk.json").write_text(RSAAlgorithm.to_jwk(rsa_key))
    for name, path, alg, key, to_jwk, replacements in [
        ("es256", "ec.pem", "ES256", ec_key, ECAlgorithm.to_jwk, REMOTE_ES256),
        ("eddsa", "ed.pem", "EdDSA", ed_key, OKPAlgorithm.to_jwk, []),
        ("rsa-jwk", "rsa.jwk.json", "PS256", rsa_key, RSAAlgorithm.to_jwk, REMOTE_RSA),
    ]:
        profile = profile_with_key(name, WORK / path, alg, replacements)
        kid = thumbprint(json.loads(to_jwk(key.public_key())))
        verify_build(Run("build", "--profile", profile, "--json"), profile, key.public_key(), kid, name)

    # 3. UAE: the consent object validates against the Nebras v2.1 schema.
    schema = json.loads((REPO / "tests" / "schemas" / "uae-account-access-v2.1.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    run = Run("build", "--profile", str(local_uae), "--json",
              "--set", "from_date=2026-01-01", "--set", "account_sub_type=Savings,CreditCard",
              "--set", "on_behalf_of.trading_name=Acme", "--set", "webhook.url=https://tpp.example/hook",
              "--set", "webhook.is_active=true")
    verify_build(run, local_uae, jwt.PyJWK(jwk).key, jwk["kid"], "UAE with --set",
                 consent_extra={"FromDate": "2026-01-01", "AccountSubType": ["Savings", "CreditCard"],
                                "OnBehalfOf": {"TradingName": "Acme"}},
                 item_extra={"subscription": {"Webhook": {"Url": "https://tpp.example/hook", "IsActive": True}}})
    details = run.report["request_claims"]["authorization_details"]
    errors = [e.message for e in validator.iter_errors(details[0])]
    check(errors == [], f"UAE item fails the schema: {errors}")
    plain_run = Run("build", "--profile", str(local_uae), "--json")
    verify_build(plain_run, local_uae, jwt.PyJWK(jwk).key, jwk["kid"], "UAE")
    plain = plain_run.report["request_claims"]["authorization_details"][0]
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
