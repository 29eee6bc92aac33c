"""A webhook receiver that verifies each delivery with the `standardwebhooks` package and prints it.

Run: `WEBHOOK_SECRET=whsec_... python examples/webhooks/receiver.py [--port 8000]`. It answers 204 to
a delivery whose signature verifies (and prints the event as one JSON line), 400 to anything else.
Only the standard library and `pip install standardwebhooks` are needed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

MAX_BODY = 1 << 20


def make_handler(verifier: Webhook, seen: set[str]) -> type[BaseHTTPRequestHandler]:
    """A request handler that verifies, drops repeats (same webhook-id) and prints each event."""

    class Receive(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            if length > MAX_BODY:
                self.send_error(413)
                return
            body = self.rfile.read(length)
            try:
                event = verifier.verify(body, dict(self.headers.items()))
            except WebhookVerificationError as exc:
                print(f"refused: {exc}", file=sys.stderr, flush=True)
                self.send_error(400, "signature does not verify")
                return
            # At least once: a retried or redelivered event has the same webhook-id; act on it once.
            if self.headers["webhook-id"] not in seen:
                seen.add(self.headers["webhook-id"])
                print(json.dumps(event), flush=True)
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the verified events are this program's output."""

    return Receive


def main() -> None:
    """Serve on 127.0.0.1 until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port (printed)")
    args = parser.parse_args()
    secret = os.environ.get("WEBHOOK_SECRET", "")
    if not secret.startswith("whsec_"):
        parser.error("set WEBHOOK_SECRET to the listener's secret (whsec_...)")
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(Webhook(secret), set()))
    print(f"listening on http://127.0.0.1:{server.server_address[1]}/hook", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
