#!/usr/bin/env bash
# Test-only key pairs for the asymmetric JWT tests and benchmarks. Never use them elsewhere.
# Regenerate with: bash tests/keys/generate.sh (needs openssl and python3 with cryptography)
set -euo pipefail
cd "$(dirname "$0")"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.key 2>/dev/null
openssl pkey -in rsa.key -pubout -out rsa.pub.pem
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec256.key
openssl pkey -in ec256.key -pubout -out ec256.pub.pem
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out ec384.key
openssl pkey -in ec384.key -pubout -out ec384.pub.pem
openssl genpkey -algorithm ED25519 -out ed25519.key
openssl pkey -in ed25519.key -pubout -out ed25519.pub.pem
python3 - <<'PY'
import base64, json
from cryptography.hazmat.primitives import serialization
def b64(n, size=None):
    size = size or (n.bit_length() + 7) // 8
    return base64.urlsafe_b64encode(n.to_bytes(size, "big")).rstrip(b"=").decode()
def load(p):
    return serialization.load_pem_public_key(open(p, "rb").read())
rsa = load("rsa.pub.pem").public_numbers()
ec = load("ec256.pub.pem").public_numbers()
keys = [
    {"kty": "RSA", "kid": "rsa-1", "use": "sig", "alg": "RS256", "n": b64(rsa.n), "e": b64(rsa.e)},
    {"kty": "EC", "kid": "ec-1", "use": "sig", "alg": "ES256", "crv": "P-256", "x": b64(ec.x, 32), "y": b64(ec.y, 32)},
]
json.dump({"keys": keys}, open("jwks.json", "w"), indent=1)
PY
