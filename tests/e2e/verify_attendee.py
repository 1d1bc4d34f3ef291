"""Verifies an Attendee webhook the way Attendee's documentation tells receivers to.

Usage: verify_attendee.py SECRET REQUEST.json   (REQUEST.json: {"headers": {...}, "body": "..."})
Prints two verdicts, one per method: the documented one (parse the body, re-serialise it with
sort_keys, ensure_ascii=False and compact separators, HMAC-SHA256 with the base64-decoded
secret, base64) and the same HMAC over the raw body. Exit 0 only when both match.
"""
import base64
import hashlib
import hmac
import json
import sys


def sign(secret: str, data: bytes) -> str:
    key = base64.b64decode(secret)
    return base64.b64encode(hmac.new(key, data, hashlib.sha256).digest()).decode()


def main() -> int:
    secret, path = sys.argv[1], sys.argv[2]
    with open(path, encoding="utf-8") as f:
        req = json.load(f)
    headers = {k.lower(): v for k, v in req["headers"].items()}
    got = headers.get("x-webhook-signature", "")
    payload = json.loads(req["body"])
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    documented = hmac.compare_digest(got, sign(secret, canonical.encode("utf-8")))
    raw = hmac.compare_digest(got, sign(secret, req["body"].encode("utf-8")))
    print(json.dumps({"documented": documented, "raw": raw}))
    return 0 if documented and raw else 1


if __name__ == "__main__":
    sys.exit(main())
