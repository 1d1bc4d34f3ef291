"""Checks that each delivery carries the value that was published, as Python reads it.

fidelity_check.py CASES.json
    CASES.json is a list of {"format", "published", "body", "signature", "secret"}:
    `published` the `data` text as published, `body` the delivered body. For each, the
    published `v` and the delivered `v` (inside `data`, or spread at the top) must be equal
    after `json.loads` (compared by their `json.dumps`, so 1 and 1.0 differ), and an Attendee
    signature must verify by Attendee's documented algorithm: base64 HMAC-SHA256, keyed by
    the base64-decoded secret, of `json.dumps(body, sort_keys=True, ensure_ascii=False,
    separators=(",", ":"))`. Prints one line per mismatch; exit 1 if there was any.
"""
import base64
import hashlib
import hmac
import json
import sys

EMBEDDED = {"standard", "digitalsamba", "attendee"}


def canonical(value) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def check(case) -> list:
    problems = []
    published = json.loads(case["published"])
    body = json.loads(case["body"])
    data = body["data"] if case["format"] in EMBEDDED else body
    want, got = json.dumps(published["v"], sort_keys=True), json.dumps(data.get("v"), sort_keys=True)
    if want != got:
        problems.append(f"{case['format']} case {published['case']}: published {want}, got {got}")
    if case["format"] == "attendee":
        key = base64.b64decode(case["secret"])
        mac = hmac.new(key, canonical(body).encode("utf-8"), hashlib.sha256).digest()
        if not hmac.compare_digest(base64.b64encode(mac).decode(), case["signature"] or ""):
            problems.append(f"attendee case {published['case']}: the signature does not verify")
    return problems


def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as f:
        cases = json.load(f)
    problems = [p for case in cases for p in check(case)]
    for p in problems:
        print(p)
    print(f"{len(cases)} deliveries checked, {len(problems)} mismatches")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
