"""The application factory."""
from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import Flask, has_request_context, request, session
from flask_babel import format_currency, format_datetime, format_decimal, get_locale
from flask_login import current_user
from sqlalchemy import event

from . import __version__, analytics, defaults, intake, jobs, stock
from .addons import AddonRegistry, discover
from . import access, i18n, liveness, security
from .config import from_env
from .pipeline import CommitPipeline
from .runner import EmbeddedRunner
from .crypto import check_production_keys
from .models.base import assign_ids, insert_direct
from .extensions import babel, csrf, db, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger(__name__)


#: what happens around a commit of the app's session, in the order it happens (core.pipeline)
COMMIT_PIPELINE = CommitPipeline(
    before_flush=(intake.collect_new_skus, assign_ids, insert_direct, analytics.collect_direct_rows),
    after_flush=(analytics.collect_changed_orders,),
    after_flush_postexec=(analytics.queue_late_changes,),
    before_commit=(intake.queue_resume, stock.write_buffers, analytics.queue_refresh),
    after_commit=(jobs.relay_after_commit, jobs.forget_transaction_state),
    after_rollback=(jobs.drop_after_rollback, jobs.forget_transaction_state),
)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask("oms", instance_path=str(ROOT / "instance"), instance_relative_config=True,
                template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "core" / "static"))
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(from_env(app.instance_path))
    app.config.update(config or {})
    app.config["OMS_VERSION"] = __version__
    if security.is_production(app):
        check_production_keys(app.config)

    db.init_app(app)
    COMMIT_PIPELINE.install(db.session)
    migrate.init_app(app, db, directory=str(ROOT / "core" / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    security.init_app(app)
    babel.init_app(app, locale_selector=_select_locale,
                   default_translation_directories=str(ROOT / "core" / "translations"))

    with app.app_context():
        from . import models  # noqa: F401  (register core tables)
        from .connectors import models as _connector_models  # noqa: F401  (the connector kit's tables)

        _sqlite_pragmas(app)
        liveness.install(db.engine)  # PostgreSQL: a connection the server closed is replaced

    registry = AddonRegistry(core_plugin=defaults)
    registry.load(discover(app.config["ADDONS"], app.config["ADDON_MODULES"]))
    app.extensions["oms_addons"] = registry
    i18n.install(babel, app, registry.loaded())

    app.url_map.converters["int"] = security.BoundedIntConverter
    _register_views(app, registry)
    access.init_app(app)
    _register_filters(app)

    from .cli import register_cli

    register_cli(app)

    if app.config.get("SANDBOXES"):
        from .sandboxes import mount_sandboxes

        mount_sandboxes(app)

    if app.config["JOBS_MODE"] == "thread" and not app.config.get("TESTING"):
        runner = EmbeddedRunner(app)
        app.extensions["oms_runner"] = runner
        if app.config.get("START_RUNNER", True):
            runner.start()
    return app


def _select_locale() -> str | None:
    if not has_request_context():  # a job, the CLI: French, the default (stored messages keep their msgid)
        return None
    langs = ["fr", "en"]
    if "lang" in request.args and request.args["lang"] in langs:
        session["lang"] = request.args["lang"]
    if session.get("lang") in langs:
        return session["lang"]
    if current_user and current_user.is_authenticated and current_user.locale in langs:
        return current_user.locale
    return request.accept_languages.best_match(langs) or "fr"


def _sqlite_pragmas(app: Flask) -> None:
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return

    @event.listens_for(db.engine, "connect")
    def _on_connect(dbapi_conn, _record):  # pragma: no cover - trivial
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.close()

    @event.listens_for(db.engine, "savepoint")
    def _savepoint_takes_the_write_lock(conn, _name):
        """A SAVEPOINT outside a transaction starts a deferred one in SQLite: its reads pin a
        snapshot, and its first write fails at once ("database is locked", no busy wait) if
        another connection committed meanwhile. Begin it IMMEDIATE: the write lock is taken
        up front, waiting ``busy_timeout`` for the other writer like any write."""
        raw = conn.connection.dbapi_connection
        if raw is not None and not raw.in_transaction:
            raw.execute("BEGIN IMMEDIATE")


@migrate.configure
def _alembic_version_locations(config):
    """One Alembic branch per add-on: each loaded add-on's ``migrations/`` joins the path."""
    from flask import current_app

    locations = [str(ROOT / "core" / "migrations" / "versions")]
    for addon in current_app.extensions["oms_addons"].loaded():
        if addon.path and (addon.path / "migrations").is_dir():
            locations.append(str(addon.path / "migrations"))
    config.set_main_option("path_separator", "space")
    config.set_main_option("version_locations", " ".join(locations))
    return config


def _register_views(app: Flask, registry: AddonRegistry) -> None:
    from .views import register_core_blueprints

    register_core_blueprints(app)
    for bps in registry.pm.hook.register_blueprints(app=app):
        for bp in bps or []:
            app.register_blueprint(bp)

    @app.context_processor
    def _inject() -> dict[str, Any]:
        return {"oms_version": __version__, "current_locale": str(get_locale())}


def _register_filters(app: Flask) -> None:
    from .markdown import render as markdown
    from .wording import job_kind, job_label, plain

    app.add_template_filter(markdown, "markdown")
    app.add_template_filter(plain, "merchant_error")
    app.jinja_env.globals.update(job_kind=job_kind, job_label=job_label,
                                 addon_title=lambda name: (app.extensions["oms_addons"].get(name).title
                                                           if app.extensions["oms_addons"].get(name) else name))

    @app.template_filter("money")
    def money(amount: Decimal | None, currency: str = "EUR") -> str:
        if amount is None:
            return "—"
        return format_currency(amount, currency)

    @app.template_filter("dt")
    def dt(value: datetime | None, fmt: str = "medium") -> str:
        return format_datetime(value, fmt) if value else "—"

    @app.template_filter("num")
    def num(value: Any) -> str:
        return format_decimal(value) if value is not None else "—"
