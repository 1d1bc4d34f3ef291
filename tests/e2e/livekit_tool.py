"""LiveKit webhook checks with the independent `livekit-api` library (PyPI).

verify API_KEY API_SECRET REQUEST.json
    REQUEST.json holds {"headers": {...}, "body": "<exact body>"}. Runs WebhookReceiver on the
    body and the Authorization header and prints the parsed WebhookEvent's fields as JSON;
    exit 1 when the library rejects it.
sign API_KEY API_SECRET REQUEST.json
    Prints the token a LiveKit server would send for the request's body: an AccessToken
    carrying the body's SHA-256, made by the library.
"""
import base64
import datetime
import hashlib
import json
import sys

from livekit import api


def verify(key: str, secret: str, path: str) -> int:
    with open(path, encoding="utf-8") as f:
        req = json.load(f)
    headers = {k.lower(): v for k, v in req["headers"].items()}
    receiver = api.WebhookReceiver(api.TokenVerifier(key, secret))
    try:
        event = receiver.receive(req["body"], headers.get("authorization", ""))
    except Exception as e:  # the library raises plain exceptions and jwt errors
        print(f"rejected: {type(e).__name__}: {e}")
        return 1
    print(json.dumps({
        "event": event.event,
        "room": event.room.name,
        "room_sid": event.room.sid,
        "participant": event.participant.identity,
        "id": event.id,
        "created_at": event.created_at,
    }))
    return 0


def sign(key: str, secret: str, path: str) -> int:
    with open(path, encoding="utf-8") as f:
        body = json.load(f)["body"].encode("utf-8")
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    token = (
        api.AccessToken(key, secret)
        .with_sha256(digest)
        .with_ttl(datetime.timedelta(minutes=5))
        .to_jwt()
    )
    print(token)
    return 0


if __name__ == "__main__":
    cmd, key, secret, path = sys.argv[1:5]
    sys.exit(verify(key, secret, path) if cmd == "verify" else sign(key, secret, path))
