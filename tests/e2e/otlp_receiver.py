"""A stand-in OTLP/HTTP collector for the end-to-end tests: it decodes Herald's
trace export with the reference protobuf definitions (`opentelemetry-proto`), so
the wire format is checked against OpenTelemetry's own schema, not Herald's.
Prints "PORT <n>", then one JSON line per span; exits when stdin closes.
"""

import gzip
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as pb

OUT = threading.Lock()


def value(v):
    """The plain Python value of an OTLP AnyValue."""
    kind = v.WhichOneof("value")
    if kind == "array_value":
        return [value(x) for x in v.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: value(kv.value) for kv in v.kvlist_value.values}
    if kind == "bytes_value":
        return v.bytes_value.hex()
    return getattr(v, kind) if kind else None


def attributes(kvs):
    return {kv.key: value(kv.value) for kv in kvs}


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path != "/v1/traces":
            return self.answer(404, b"", "text/plain")
        if self.headers.get("Content-Type", "").split(";")[0] != "application/x-protobuf":
            return self.answer(415, b"", "text/plain")
        if self.headers.get("Content-Encoding", "").lower() == "gzip":
            body = gzip.decompress(body)
        request = pb.ExportTraceServiceRequest()
        request.ParseFromString(body)
        for rs in request.resource_spans:
            service = attributes(rs.resource.attributes).get("service.name")
            for ss in rs.scope_spans:
                for span in ss.spans:
                    line = json.dumps({
                        "name": span.name, "trace_id": span.trace_id.hex(),
                        "span_id": span.span_id.hex(), "parent_span_id": span.parent_span_id.hex(),
                        "service": service, "attributes": attributes(span.attributes)})
                    with OUT:
                        print(line, flush=True)
        self.answer(200, pb.ExportTraceServiceResponse().SerializeToString(), "application/x-protobuf")

    def answer(self, status, payload, content_type):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


def exit_on_eof():
    sys.stdin.read()
    os._exit(0)


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=exit_on_eof, daemon=True).start()
    with OUT:
        print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()
