"""Resource calls checked through a JOSE implementation we did not write: jwcrypto.

A small loopback resource server here receives consent-explorer's `call`: it verifies the
`x-signature` with the client's public key and checks every claim against values written
here (never the tool's own report), then answers with an envelope made by jwcrypto: a PS256
JWS whose `data` is a JWE (RSA-OAEP-256 + A256GCM) to the client's encryption key. `call`
must open the good envelope (plain JSON or a signed JWT inside) and refuse, with a clear
reason, a JWE with a bad tag, a JWE to another key, and an envelope signed by another key.

The client's keys are made here too. Tokens come from a `flow` against the embedded sandbox
(the profile's target); only the resource calls go to this server ([resource] base_url).

Usage: python resource.py BINARY WORKDIR  (the caller sets CONSENT_EXPLORER_*_DIR)
"""
import http.server
import json
import pathlib
import subprocess
import sys
import threading
import time

from jwcrypto import jwe, jwk, jws, jwt

BIN, WORK = sys.argv[1], pathlib.Path(sys.argv[2])
DC_ID, DP_ID = "demo-data-consumer", "DEMO-BANK"
PASSED, FAILED = [], []

def check(name, ok, detail=""):
    (PASSED if ok else FAILED).append(name)
    if not ok:
        print(f"FAIL {name}: {detail}")

signing = jwk.JWK.generate(kty="RSA", size=2048)
encryption = jwk.JWK.generate(kty="RSA", size=2048)
server = jwk.JWK.generate(kty="RSA", size=2048, kid="rs-1")
impostor = jwk.JWK.generate(kty="RSA", size=2048, kid="rs-1")
stranger_enc = jwk.JWK.generate(kty="RSA", size=2048)
(WORK / "sig.pem").write_bytes(signing.export_to_pem(private_key=True, password=None))
(WORK / "enc.pem").write_bytes(encryption.export_to_pem(private_key=True, password=None))
(WORK / "rs-jwks.json").write_text(json.dumps({"keys": [json.loads(server.export_public())]}))

BALANCES = {"data": {"account_id": "sbx-acc-0001", "current_balance": {"amount": {
    "amount": "25000.75", "currency": "MYR"}, "credit_debit_indicator": "credit"}}}
state = {"mode": "plain", "seen": []}

def envelope(mode, consent_id):
    payload = json.dumps(BALANCES)
    if mode == "inner_jwt":
        inner = jwt.JWT(header={"alg": "PS256", "kid": "rs-1"}, claims=BALANCES)
        inner.make_signed_token(server)
        payload = inner.serialize()
    recipient = stranger_enc if mode == "wrong_key" else encryption
    token = jwe.JWE(payload.encode(), protected=json.dumps(
        {"alg": "RSA-OAEP-256", "enc": "A256GCM", "cty": "JWT"}))
    token.add_recipient(recipient)
    data = token.serialize(compact=True)
    if mode == "bad_tag":
        parts = data.split(".")
        parts[4] = ("B" if parts[4][0] == "A" else "A") + parts[4][1:]
        data = ".".join(parts)
    now = int(time.time())
    claims = {"iss": consent_id, "aud": ["Paynet OFP", DP_ID], "data": data,
              "exp": now + 300, "iat": now, "nbf": now, "jti": "env-1"}
    signed = jwt.JWT(header={"alg": "PS256", "kid": "rs-1", "typ": "JWT"}, claims=claims)
    signed.make_signed_token(impostor if mode == "wrong_sig" else server)
    return signed.serialize()

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        state["seen"].append((self.path, dict(self.headers.items())))
        body = envelope(state["mode"], state["consent_id"]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/jose")
        self.send_header("x-fapi-interaction-id", self.headers.get("x-fapi-interaction-id", ""))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
port = httpd.server_address[1]
threading.Thread(target=httpd.serve_forever, daemon=True).start()
base = f"http://127.0.0.1:{port}"

(WORK / "py.toml").write_text(f"""
name = "py"
target = "embedded"
client_id = "consent-explorer-demo"
redirect_uri = "http://127.0.0.1:8080/callback"
scope = "openid accounts profile"
[signing]
key = "sig.pem"
alg = "PS256"
[consent]
pack = "my-account-access"
dc_id = "{DC_ID}"
dp_id = "{DP_ID}"
permissions = ["read_accounts", "read_balances", "read_transactions"]
expiration = "+30d"
[encryption]
key = "enc.pem"
kid = "enc-1"
[resource]
base_url = "{base}"
jwks = "rs-jwks.json"
""")
profile = str(WORK / "py.toml")

def run(*args):
    return subprocess.run([BIN, *args], capture_output=True, text=True, cwd=WORK)

flow = run("flow", "--profile", profile, "--json")
check("flow", flow.returncode == 0, flow.stderr)
consent_id = json.loads(flow.stdout)["consent_id"]
state["consent_id"] = consent_id

jwks = json.loads(run("jwks", "--profile", profile).stdout)["keys"]
enc_entry = [k for k in jwks if k.get("use") == "enc"]
check("jwks exports the encryption key", len(enc_entry) == 1 and enc_entry[0]["alg"] == "RSA-OAEP-256"
      and enc_entry[0]["kid"] == "enc-1" and enc_entry[0]["n"] == json.loads(encryption.export_public())["n"], jwks)

def call(mode, *args):
    state["mode"] = mode
    state["seen"].clear()
    out = run("call", "--profile", profile, *args, "--json")
    doc = json.loads(out.stdout) if out.stdout.strip().startswith("{") else {}
    return out, doc

def x_signature_checks(label, path, qpm):
    (seen_path, headers), = state["seen"]
    lower = {k.lower(): v for k, v in headers.items()}
    token = jws.JWS()
    token.deserialize(lower["x-signature"])
    try:
        token.verify(signing, alg="PS256")
        verified = True
    except Exception as e:  # noqa: BLE001 - any failure is the finding
        verified = False
    check(f"{label}: x-signature verifies with the client's key (jwcrypto)", verified)
    header = token.jose_header
    claims = json.loads(token.payload)
    now = int(time.time())
    check(f"{label}: kid is the RFC 7638 thumbprint", header.get("kid") == signing.thumbprint(), header)
    check(f"{label}: alg PS256", header.get("alg") == "PS256", header)
    check(f"{label}: iss is dc_id", claims["iss"] == DC_ID, claims)
    check(f"{label}: sub is the consent_id", claims["sub"] == consent_id, claims)
    check(f"{label}: aud is [dp_id, Paynet OFP]", claims["aud"] == [DP_ID, "Paynet OFP"], claims)
    check(f"{label}: iat = nbf, now", claims["iat"] == claims["nbf"] and abs(claims["iat"] - now) < 60, claims)
    check(f"{label}: exp = iat + 300", claims["exp"] - claims["iat"] == 300, claims)
    check(f"{label}: jti is the interaction id", claims["jti"] == lower["x-fapi-interaction-id"], claims)
    check(f"{label}: url is the request URL without query", claims["url"] == base + path, claims)
    check(f"{label}: qpm is the query as strings", claims["qpm"] == qpm, claims)
    check(f"{label}: the path sent", seen_path.split("?")[0] == path, seen_path)
    check(f"{label}: bearer token sent", lower.get("authorization", "").startswith("Bearer "), lower.keys())

out, doc = call("plain", "balances", "sbx-acc-0001")
check("good envelope: exit 0", out.returncode == 0, out.stderr)
check("good envelope: verified", doc.get("envelope", {}).get("verified") is True, doc.get("envelope"))
check("good envelope: envelope kid", doc.get("envelope", {}).get("kid") == "rs-1", doc.get("envelope"))
check("good envelope: JWE opened", doc.get("jwe", {}).get("verified") is True, doc.get("jwe"))
check("good envelope: JWE header", doc.get("jwe", {}).get("header", {}).get("alg") == "RSA-OAEP-256", doc.get("jwe"))
check("good envelope: payload", doc.get("payload") == BALANCES, doc.get("payload"))
check("good envelope: x-signature claims reported", doc.get("request", {}).get("x-signature", {}).get("claims", {}).get("sub") == consent_id)
x_signature_checks("balances", "/v1/accounts/sbx-acc-0001/balances", {})

out, doc = call("plain", "transactions", "sbx-acc-0002", "--query", "page_size=5")
check("transactions: exit 0", out.returncode == 0, out.stderr)
x_signature_checks("transactions", "/v1/accounts/sbx-acc-0002/transactions", {"page_size": "5"})

out, doc = call("inner_jwt", "balances", "sbx-acc-0001")
check("inner JWT: exit 0", out.returncode == 0, out.stderr)
check("inner JWT: verified", doc.get("inner", {}).get("verified") is True, doc.get("inner"))
check("inner JWT: its claims are the payload", doc.get("payload") == BALANCES, doc.get("payload"))

for mode, layer, words in [("bad_tag", "JWE", "authentication tag"),
                           ("wrong_key", "JWE", "another key"),
                           ("wrong_sig", "envelope", "does not verify")]:
    out, doc = call(mode, "balances", "sbx-acc-0001")
    check(f"{mode}: exit 1", out.returncode == 1, (out.returncode, out.stderr))
    refused = doc.get("refused", {})
    check(f"{mode}: refused at the {layer}", refused.get("layer") == layer, doc)
    check(f"{mode}: the reason says {words!r}", words in refused.get("reason", ""), refused)
    check(f"{mode}: no payload", doc.get("payload") is None, doc.get("payload"))
    text = run("call", "--profile", profile, "balances", "sbx-acc-0001")
    check(f"{mode}: text names the layer", f"refused: the {layer}" in text.stderr, text.stderr)

httpd.shutdown()
print(f"{len(PASSED)} passed, {len(FAILED)} failed")
sys.exit(1 if FAILED else 0)
