"""Verifies a Standard Webhooks `v1a` (ed25519) signature with the `cryptography` package.

Usage: verify_ed25519.py WHPK_PUBLIC_KEY REQUEST.json
REQUEST.json holds {"headers": {name: value}, "body": "<exact body text>"}.
The signed content is "{webhook-id}.{webhook-timestamp}.{body}"; the public key is `whpk_`
followed by base64 of the raw 32-byte key. Exits 0 when one `v1a` entry verifies, 1 otherwise.
"""
import base64
import json
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def main() -> int:
    public, path = sys.argv[1], sys.argv[2]
    with open(path, encoding="utf-8") as f:
        req = json.load(f)
    headers = {k.lower(): v for k, v in req["headers"].items()}
    if not public.startswith("whpk_"):
        print("rejected: the public key must start with whpk_")
        return 1
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public[len("whpk_"):]))
    signed = f'{headers["webhook-id"]}.{headers["webhook-timestamp"]}.{req["body"]}'.encode()
    entries = [e for e in headers["webhook-signature"].split(" ") if e.startswith("v1a,")]
    for entry in entries:
        try:
            key.verify(base64.b64decode(entry[len("v1a,"):]), signed)
        except InvalidSignature:
            continue
        print(f"verified: one of {len(entries)} v1a signatures")
        return 0
    print(f"rejected: none of {len(entries)} v1a signatures verifies")
    return 1


if __name__ == "__main__":
    sys.exit(main())
