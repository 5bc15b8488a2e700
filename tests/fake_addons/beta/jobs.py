"""Jobs of the beta test channel."""
from core.extensions import db
from core.models import Shop, utcnow

RUNS: list[int] = []


def sync(shop_id: int) -> str:
    shop = db.session.get(Shop, shop_id)
    if (shop.sync_cursor or "") == "fail":
        raise RuntimeError("remote said 503")
    shop.last_sync_at = utcnow()
    RUNS.append(shop_id)
    return f"synced {shop_id}"


def write_marker(shop_id: int, value: str) -> str:
    shop = db.session.get(Shop, shop_id)
    shop.sync_cursor = value
    return value


def sync_and_requeue(shop_id: int) -> str:
    """Like ``sync``, and on its first run queues itself again under its own id while running
    (a webhook arriving during the shop's processing job)."""
    from core.jobs import enqueue

    first = not RUNS
    result = sync(shop_id)
    if first:
        enqueue("tests.fake_addons.beta.jobs.sync_and_requeue", shop_id, job_id=f"beta-again-{shop_id}",
                unique=True, shop_id=shop_id)
        db.session.commit()
    return result


def count_once(shop_id: int, token: str) -> str:
    """An idempotent job with an effect: appends ``token`` to the shop's cursor once, however
    often it runs; sleeps while the shop's name says so (a long job to kill mid-way)."""
    import time

    shop = db.session.get(Shop, shop_id)
    marks = (shop.sync_cursor or "").split(",") if shop.sync_cursor else []
    if shop.name.startswith("slow") and not shop.last_error:
        shop.last_error = "started"
        db.session.commit()
        time.sleep(float(shop.name.split("-")[1]))
    if token not in marks:
        marks.append(token)
    shop.sync_cursor = ",".join(marks)
    RUNS.append(shop_id)
    return shop.sync_cursor


TIME: list[tuple[bool, bool]] = []


def continue_once(shop_id: int) -> str:
    """Records whether it is near its time limit (with a margin wider than the limit, and with
    none), and on its first run asks to go on in a next run."""
    from core.jobs import out_of_time, run_again

    TIME.append((out_of_time(margin=10_000), out_of_time(margin=0)))
    RUNS.append(shop_id)
    if len(RUNS) == 1:
        run_again()
    return "ok"
