"""Coalescing: 1,000 stock changes over 10 SKUs within one second; pushes issued per shop
(aim: at most 10) and the final pushed figure equal to the true one."""
from __future__ import annotations

import random
import time
from collections import Counter
from datetime import timedelta

CHANGES, SKUS, SHOPS = 1000, 10, 3


def run() -> list[tuple[str, str, str]]:
    from benchmarks.bench_channel import hooks as channel
    from benchmarks.common import make_app, pg_database, setup_schema
    from core import stock
    from core.extensions import db
    from core.jobs import run_pending
    from core.models import Organization, Shop, utcnow
    from core.services import create_shop
    from tests.pipeline_helpers import variant, warehouse

    with pg_database("coalesce") as url:
        app = make_app(url)
        setup_schema(app)
        with app.app_context():
            org = Organization(name="bench", plan_code="business")
            db.session.add(org)
            db.session.flush()
            wh = warehouse(org.id, "PAR")
            variants = [variant(org.id, f"SKU-{i}", {wh: 1000}) for i in range(SKUS)]
            shops = [create_shop(org, "bench_channel", f"canal {i}") for i in range(SHOPS)]
            db.session.commit()
            while run_pending(now=utcnow() + timedelta(seconds=60)):
                pass
            channel.PUSHES.clear()
            channel.LAST.clear()
            rnd = random.Random(7)
            started = time.perf_counter()
            for n in range(CHANGES):  # each change its own transaction, as separate events would be
                v = variants[n % SKUS]
                stock.adjust(org.id, v.id, wh.id, rnd.choice([-3, -2, -1, 1, 2, 3]), reason="bench", user_id=None)
                db.session.commit()
            burst = time.perf_counter() - started
            jobs = 0
            while (ran := run_pending(now=utcnow() + timedelta(seconds=60))):
                jobs += ran
            per_shop = Counter(shop_id for shop_id, _n in channel.PUSHES)
            figures_pushed = sum(n for _s, n in channel.PUSHES)
            wrong = 0
            for shop in db.session.scalars(db.select(Shop).where(Shop.organization_id == org.id)):
                truth = stock.available_to_sell(shop, [v.id for v in variants])
                wrong += sum(1 for v in variants if channel.LAST.get((shop.id, v.sku)) != truth[v.id])
        return [
            (f"{CHANGES} changes over {SKUS} SKUs took", f"{burst:.2f} s", "within ~1 s (PostgreSQL commits)"),
            ("push calls per shop", " / ".join(str(per_shop[s.id]) for s in shops), "<= 10 each"),
            ("SKU figures pushed, all shops", str(figures_pushed), f"vs {CHANGES * SHOPS} uncoalesced"),
            ("final figures different from the truth", str(wrong), "0"),
            ("jobs run", str(jobs), "-"),
        ]
