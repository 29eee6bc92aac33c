"""Call `people.save` on a running bridge, which makes the example worker emit `person.saved`.

Run: `python examples/webhooks/save_person.py NAME CITY [--url http://127.0.0.1:8080/rpc]`.
"""

from __future__ import annotations

import argparse
import xmlrpc.client


def main() -> None:
    """Save one person through the bridge and print what it answered."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name")
    parser.add_argument("city")
    parser.add_argument("--url", default="http://127.0.0.1:8080/rpc")
    args = parser.parse_args()
    with xmlrpc.client.ServerProxy(args.url) as bridge:
        # The third argument is emitted too, but the hook does not provide it: it never leaves the worker.
        print(bridge.people.save(args.name, {"city": args.city}, "a secret the listener never sees"))


if __name__ == "__main__":
    main()
