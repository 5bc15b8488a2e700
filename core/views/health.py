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


@bp.route("/healthz/live")
def live():
    """Liveness: the process answers; no database or network I/O."""
    return jsonify({"status": "ok"}), 200


def _migrations_at_head() -> tuple[bool, list[str]]:
    """Compare the revisions applied in the database with the heads of every migration chain
    (core and the add-ons). Returns (at head, the heads not applied)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    config = current_app.extensions["migrate"].migrate.get_config()
    heads = set(ScriptDirectory.from_config(config).get_heads())
    with db.engine.connect() as conn:
        applied = set(MigrationContext.configure(conn).get_current_heads())
    missing = sorted(heads - applied)
    return not missing, missing


@bp.route("/healthz/ready")
def ready():
    """Readiness: the database reachable and its schema at the code's migration heads, and
    Redis reachable when jobs go through it. 503 names what is not ready (no secrets)."""
    checks: dict = {}
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
        checks["database"] = "ok"
    except Exception as exc:
        db.session.rollback()
        checks["database"] = f"unreachable ({exc.__class__.__name__})"
    if checks["database"] == "ok":
        try:
            at_head, missing = _migrations_at_head()
            checks["migrations"] = "ok" if at_head else f"not at head ({len(missing)} to apply: oms create-db)"
        except Exception as exc:
            checks["migrations"] = f"unknown ({exc.__class__.__name__})"
    else:
        checks["migrations"] = "unknown (database unreachable)"
    if current_app.config["JOBS_MODE"] == "rq":
        try:
            from ..jobs import redis_connection

            redis_connection().ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"unreachable ({exc.__class__.__name__})"
    not_ready = sorted(k for k, v in checks.items() if v != "ok")
    body = {"status": "ready" if not not_ready else "not ready", "checks": checks}
    if not_ready:
        body["not_ready"] = not_ready
    return jsonify(body), 200 if not not_ready else 503
