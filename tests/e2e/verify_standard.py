"""Verifies a Standard Webhooks request with the independent `standardwebhooks` library.

Usage: verify_standard.py SECRET REQUEST.json
REQUEST.json holds {"headers": {name: value}, "body": "<exact body text>"}.
Exits 0 when the library accepts the request, 1 with its error otherwise.
"""
import json
import sys

from standardwebhooks.webhooks import Webhook


def main() -> int:
    secret, path = sys.argv[1], sys.argv[2]
    with open(path, encoding="utf-8") as f:
        req = json.load(f)
    try:
        payload = Webhook(secret).verify(req["body"], req["headers"])
    except Exception as e:  # the library raises its own verification error types
        print(f"rejected: {type(e).__name__}: {e}")
        return 1
    print(f"verified: {json.dumps(payload)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
