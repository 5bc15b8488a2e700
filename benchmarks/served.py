"""``python -m benchmarks.served [--bind host:port]``: the app as ``oms serve`` serves it (the same
gunicorn application, settings and defaults), with one more route, ``POST /bench/bare``, that
only answers 200: the webhook benchmark's anchor, measured on the same server. Only the
benchmark starts the app this way; ``oms serve`` never has that route."""
from __future__ import annotations

import argparse

from core.serve import OmsApplication, defaults

BARE_PATH = "/bench/bare"


class WithBareRoute(OmsApplication):
    def load(self):
        from core.extensions import csrf

        app = super().load()

        def bare():
            return "", 200

        app.add_url_rule(BARE_PATH, "bench_bare", csrf.exempt(bare), methods=["POST"])
        return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bind")
    options = defaults()
    bind = parser.parse_args().bind
    if bind:
        options["bind"] = bind
    WithBareRoute(options).run()


if __name__ == "__main__":
    main()
