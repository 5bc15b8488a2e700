from __future__ import annotations

import hmac

from flask import Blueprint, current_app, jsonify, request
from flask_login import current_user
from sqlalchemy import func, select, text

from ..extensions import db
from ..models import OutboxJob, Role

bp = Blueprint("health", __name__)


def _operator() -> bool:
    """Details are for the operator: the ``X-Health-Token`` header matching
    ``OMS_HEALTH_TOKEN``, or a signed-in owner."""
    token = current_app.config.get("HEALTH_TOKEN") or ""
    given = request.headers.get("X-Health-Token", "")
    if token and given and hmac.compare_digest(token.encode(), given.encode()):
        return True
    return bool(current_user.is_authenticated and current_user.has_role(Role.OWNER))


@bp.route("/healthz")
def healthz():
    """Liveness and readiness: the database and the job queue. The public answer is only
    ``{"status": "ok"}`` (or ``degraded``, 503); the figures go to the operator."""
    status, code = {"status": "ok"}, 200
    try:
        db.session.execute(text("SELECT 1"))
        status["database"] = {"ok": True, "dialect": db.engine.dialect.name}
        status["outbox_pending"] = db.session.scalar(
            select(func.count()).select_from(OutboxJob).where(OutboxJob.state == "pending"))
    except Exception as exc:
        db.session.rollback()
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
    if not _operator():
        status = {"status": status["status"]}
    return jsonify(status), code
