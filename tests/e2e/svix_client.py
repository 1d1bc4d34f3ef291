"""Drives Herald's Svix API with the official `svix` client library from PyPI, unchanged but
for the server URL, and verifies what Herald delivers with `svix.Webhook`.

    python3 svix_client.py BASE_URL ADMIN_TOKEN

Prints one line per check and exits non-zero at the first one that fails.
"""

import json
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from svix.api import (
    ApplicationIn,
    EndpointIn,
    EndpointSecretRotateIn,
    EventTypeIn,
    MessageAttemptListByMsgOptions,
    MessageIn,
    Svix,
    SvixOptions,
)
from svix.exceptions import HttpError, HTTPValidationError
from svix.webhooks import Webhook, WebhookVerificationError

BASE, ADMIN = sys.argv[1], sys.argv[2]


class Receiver:
    """An HTTP receiver that answers 200 and keeps every request."""

    def __init__(self):
        self.requests = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                outer.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(200)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def check(what, ok):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        sys.exit(1)


def wait_for(what, cond, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return
        time.sleep(0.1)
    check(what, False)


def herald_key(app_id):
    """An app key from Herald's own API: Svix's tokens span apps, Herald's keys do not."""
    req = urllib.request.Request(
        f"{BASE}/v1/apps/{app_id}/keys",
        data=json.dumps({"name": "svix client"}).encode(),
        headers={"authorization": f"Bearer {ADMIN}", "content-type": "application/json"},
    )
    with urllib.request.urlopen(req) as resp:
        return json.load(resp)["token"]


def verifies(secret, request):
    headers, body = request
    try:
        Webhook(secret).verify(body, headers)
        return True
    except WebhookVerificationError:
        return False


options = SvixOptions(server_url=BASE)
svix = Svix(ADMIN, options)
rx, rx_other = Receiver(), Receiver()

app = svix.application.create(ApplicationIn(name="Acme", metadata={"plan": "pro"}))
other = svix.application.create(ApplicationIn(name="Other"))
check("applications created", app.id.startswith("app_") and app.metadata == {"plan": "pro"})
check("an application reads back", svix.application.get(app.id).name == "Acme")

schema = {"type": "object", "required": ["room"], "properties": {"room": {"type": "string"}}}
made = svix.event_type.create(
    EventTypeIn(name="room.finished", description="A room ended", schemas={"1": schema})
)
svix.event_type.create(EventTypeIn(name="room.noted", description="A note"))
check("an event type keeps its schema", made.schemas == {"1": schema})
check("event types list", {"room.finished", "room.noted"} <= {t.name for t in svix.event_type.list().data})

try:
    svix.endpoint.create(app.id, EndpointIn(url=rx.url, event_types=["room.finishd"]))
    check("an unknown filter type is refused", False)
except HTTPValidationError as e:
    check("an unknown filter type is refused, named", "room.finishd" in json.dumps(e.to_dict()))

ep = svix.endpoint.create(app.id, EndpointIn(url=rx.url, event_types=["room.finished"]))
check("an endpoint filters its types", ep.event_types == ["room.finished"] and not ep.disabled)
svix.endpoint.create(other.id, EndpointIn(url=rx_other.url))
secret = svix.endpoint.get_secret(app.id, ep.id).key
check("the secret reads back", secret.startswith("whsec_"))

first = svix.message.create(
    app.id, MessageIn(event_type="room.finished", payload={"room": "r1"}, event_id="fin-1")
)
try:
    svix.message.create(
        app.id, MessageIn(event_type="room.finished", payload={"room": "r1"}, event_id="fin-1")
    )
    check("a repeated eventId is refused", False)
except HttpError as e:
    check("a repeated eventId is a 409 naming the first", e.status_code == 409 and first.id in e.detail)
svix.message.create(app.id, MessageIn(event_type="room.noted", payload={"note": "n"}))

wait_for("the message arrives", lambda: len(rx.requests) >= 1)
check("svix.Webhook verifies it", verifies(secret, rx.requests[0]))
check("the body is the payload, as Svix sends it", json.loads(rx.requests[0][1]) == {"room": "r1"})


def attempts():
    return svix.message_attempt.list_by_msg(app.id, first.id).data


wait_for("its attempt is listed", lambda: len(attempts()) == 1)
att = attempts()[0]
check(
    "the attempt has status, code and url",
    att.status == 0 and att.response_status_code == 200 and att.url == rx.url,
)
check("the attempt names message and endpoint", att.msg_id == first.id and att.endpoint_id == ep.id)
by_status = svix.message_attempt.list_by_msg(app.id, first.id, MessageAttemptListByMsgOptions(status=2))
check("a status filter leaves out successes", by_status.data == [])

rotated = svix.endpoint.rotate_secret(app.id, ep.id, EndpointSecretRotateIn())
check("rotation answers a new secret", rotated.key != secret and rotated.key.startswith("whsec_"))
check("the new secret reads back", svix.endpoint.get_secret(app.id, ep.id).key == rotated.key)
svix.message.create(app.id, MessageIn(event_type="room.finished", payload={"room": "r2"}))
wait_for("the second message arrives", lambda: len(rx.requests) >= 2)
check("the new secret verifies it", verifies(rotated.key, rx.requests[1]))
check("the old one still does, in its grace", verifies(secret, rx.requests[1]))
wait_for("both attempts list by endpoint", lambda: len(svix.message_attempt.list_by_endpoint(app.id, ep.id).data) == 2)

time.sleep(1)
check("the filtered-out type and the repeat were not delivered", len(rx.requests) == 2)
check("the other application received nothing of the first", rx_other.requests == [])
messages = svix.message.list(app.id).data
check("three messages are listed, newest first", [m.event_type for m in messages] == ["room.finished", "room.noted", "room.finished"])

scoped = Svix(herald_key(other.id), options)
for what, call in [
    ("its endpoints", lambda: scoped.endpoint.list(app.id)),
    ("its messages", lambda: scoped.message.get(app.id, first.id)),
    ("its attempts", lambda: scoped.message_attempt.list_by_msg(app.id, first.id)),
]:
    try:
        call()
        check(f"another app's key cannot read {what}", False)
    except HttpError as e:
        check(f"another app's key cannot read {what} (404)", e.status_code == 404)
check("another app's key sees only its own", [a.id for a in scoped.application.list().data] == [other.id])
check("and none of its messages", scoped.message.list(other.id).data == [])
print("all checks passed")
