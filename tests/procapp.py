"""An app factory for tests that run the real ``worker`` and ``scheduler`` commands in
subprocesses: ``python -m flask --app tests.procapp:create worker``, configured by the
JSON in ``OMS_TEST_APP_CONFIG`` (the test's database, Redis, queue prefix and add-ons)."""
from __future__ import annotations

import json
import logging
import os

from core import create_app


def create():
    logging.basicConfig(level=logging.INFO)
    return create_app(json.loads(os.environ["OMS_TEST_APP_CONFIG"]))
