from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import func, select, text

from ..extensions import db
from ..models import OutboxJob

bp = Blueprint("health", __name__)


@bp.route("/healthz")
def healthz():
    """Liveness and readiness: the database and the job queue."""
    status, code = {"status": "ok"}, 200
    try:
        db.session.execute(text("SELECT 1"))
        status["database"] = {"ok": True, "dialect": db.engine.dialect.name}
        status["outbox_pending"] = db.session.scalar(
            select(func.count()).select_from(OutboxJob).where(OutboxJob.state == "pending"))
    except Exception as exc:
        status["database"] = {"ok": False, "error": exc.__class__.__name__}
        status["status"], code = "degraded", 503
    mode = current_app.config["JOBS_MODE"]
    queue: dict = {"mode": mode}
    if mode == "rq":
        try:
            from ..jobs import redis_connection, rq_queue

            redis_connection().ping()
            queue.update(ok=True, queued=rq_queue().count)
        except Exception as exc:
            queue.update(ok=False, error=exc.__class__.__name__)
            status["status"], code = "degraded", 503
    else:
        runner = current_app.extensions.get("oms_runner")
        queue.update(ok=True, runner_alive=bool(runner and runner._thread.is_alive()))
    status["queue"] = queue
    return jsonify(status), code
