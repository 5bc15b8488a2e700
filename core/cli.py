"""The ``oms`` command: the app's Flask CLI. Everything the catalog page does can be done here."""
from __future__ import annotations

import getpass
import json
import logging
import os
import sys

import click
from werkzeug.datastructures import MultiDict
from flask import Flask, current_app, request, url_for
from flask_babel import force_locale, gettext as _
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import select

from . import analytics as an
from . import diagnostics, heap
from . import create_app
from .extensions import db
from .jobs import relay_outbox, run_pending
from .models import Organization, Plan, Shop, SyncMode
from .plans import PlanError, ensure_plans, set_plan

log = logging.getLogger("oms")


@click.group(cls=FlaskGroup, create_app=create_app, add_version_option=False)
def main() -> None:
    """OMS: orders from every channel, one stock."""


def _shop(shop_id: int) -> Shop:
    shop = db.session.get(Shop, shop_id)
    if shop is None:
        raise click.ClickException(f"no shop {shop_id}")
    return shop


def _fail(exc: Exception) -> click.ClickException:
    return click.ClickException(str(exc))


def register_cli(app: Flask) -> None:
    from . import services
    from .addons import CATEGORIES

    # ------------------------------------------------------------------ addons
    @app.cli.group("addons")
    def addons_group() -> None:
        """List, enable, configure and test add-ons."""

    @addons_group.command("list")
    @click.option("--json", "as_json", is_flag=True)
    @with_appcontext
    def addons_list(as_json: bool) -> None:
        reg = current_app.extensions["oms_addons"]
        rows = [{"name": a.name, "title": a.title, "category": a.category, "kind": a.kind,
                 "version": a.manifest.get("version"), "ok": a.ok, "error": a.error}
                for a in sorted(reg.addons.values(), key=lambda a: a.name)]
        if as_json:
            click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
            return
        for r in rows:
            state = "ok" if r["ok"] else f"ERROR: {r['error']}"
            click.echo(f"{r['name']:<14} {CATEGORIES.get(r['category'], r['category'] or '?'):<16} "
                       f"{r['version'] or '-':<8} {state}")

    @addons_group.command("check")
    @with_appcontext
    def addons_check() -> None:
        """Each add-on against the contract of its kind (core.contracts); exit 1 on a gap."""
        reg = current_app.extensions["oms_addons"]
        bad = False
        for a in sorted(reg.addons.values(), key=lambda a: a.name):
            if a.error:
                click.echo(f"{a.name:<14} ERROR: {a.error}")
                bad = True
            elif a.contract_gaps:
                click.echo(f"{a.name:<14} {a.kind}: missing {', '.join(a.contract_gaps)}")
                bad = True
            else:
                click.echo(f"{a.name:<14} {a.kind}: ok")
        if bad:
            sys.exit(1)

    @addons_group.command("new")
    @click.argument("name")
    @click.option("--kind", type=click.Choice(["channel", "carrier", "fulfilment"]), required=True)
    @click.option("--dir", "directory", type=click.Path(file_okay=False), default=".", show_default=True)
    @click.option("--title", default=None, help="the name merchants see in the catalog")
    @click.option("--author", default="")
    def addons_new(name: str, kind: str, directory: str, title: str | None, author: str) -> None:
        """Write a new add-on as a separate pip-installable package, oms-addon-NAME."""
        from pathlib import Path

        from .scaffold import ScaffoldError, new_addon

        try:
            root = new_addon(name, kind, Path(directory), title=title, author=author)
        except ScaffoldError as exc:
            raise _fail(exc) from None
        click.echo(f"created {root}\n  cd {root} && pip install -e '.[dev]' && pytest")

    @addons_group.command("enable")
    @click.argument("name")
    @click.option("--shop", "shop_id", type=int, required=True)
    @with_appcontext
    def addons_enable(name: str, shop_id: int) -> None:
        try:
            services.set_enabled(_shop(shop_id), name, True)
        except services.ServiceError as exc:
            raise _fail(exc) from None
        db.session.commit()
        click.echo(f"{name} enabled for shop {shop_id}")

    @addons_group.command("disable")
    @click.argument("name")
    @click.option("--shop", "shop_id", type=int, required=True)
    @with_appcontext
    def addons_disable(name: str, shop_id: int) -> None:
        try:
            services.set_enabled(_shop(shop_id), name, False)
        except services.ServiceError as exc:
            raise _fail(exc) from None
        db.session.commit()
        click.echo(f"{name} disabled for shop {shop_id} (settings kept)")

    @addons_group.command("configure")
    @click.argument("name")
    @click.argument("pairs", nargs=-1, metavar="KEY=VALUE...")
    @click.option("--shop", "shop_id", type=int, required=True)
    @with_appcontext
    def addons_configure(name: str, pairs: tuple[str, ...], shop_id: int) -> None:
        """Set settings; secret fields (password fields of the add-on's form) are stored encrypted.
        A secret given as KEY=- is read from standard input, so it stays out of shell history."""
        from wtforms import PasswordField

        shop = _shop(shop_id)
        reg = current_app.extensions["oms_addons"]
        form_cls = reg.call_one(name, "register_settings_form")
        if form_cls is None:
            raise click.ClickException(f"{name} has no settings")
        with current_app.test_request_context():
            probe = form_cls(meta={"csrf": False})
            fields = {f.name: f for f in probe}
            secrets = {f.name for f in probe if isinstance(f, PasswordField)}
            given: dict[str, str] = {}
            for pair in pairs:
                key, sep, value = pair.partition("=")
                if not sep or key not in fields:
                    raise click.ClickException(f"unknown setting {key!r}; known: {', '.join(fields)}")
                if value == "-":
                    value = sys.stdin.readline().rstrip("\n")
                given[key] = value
            # the form is filled exactly as the settings page posts it: every stored value, then
            # the ones given; a multi-value field takes comma-separated values
            formdata = MultiDict()
            stored = shop.addon_settings(name)
            for key, field in fields.items():
                if key in secrets and key not in given:
                    continue  # blank: the stored secret is kept, as on the page
                value = given[key] if key in given else stored.get(key)
                for item in _form_values(field, value, key in given):
                    formdata.add(key, item)
            form = form_cls(formdata=formdata, meta={"csrf": False})
            if not form.validate():
                raise click.ClickException("; ".join(f"{k}: {', '.join(map(str, v))}" for k, v in form.errors.items()))
            data = {k: form[k].data for k in given}
            try:
                services.save_settings(shop, name, data, secrets)
            except services.ServiceError as exc:
                raise _fail(exc) from None
        db.session.commit()
        click.echo(f"{name} settings saved for shop {shop_id}: {', '.join(sorted(given))}")

    @addons_group.command("test")
    @click.argument("name")
    @click.option("--shop", "shop_id", type=int, required=True)
    @with_appcontext
    def addons_test(name: str, shop_id: int) -> None:
        _print_test(services.test_connection(_shop(shop_id), name))

    def _print_test(result) -> None:
        db.session.commit()
        click.echo(("OK: " if result.ok else "FAILED: ") + result.message)
        for d in result.details:
            click.echo(f"  - {d}")
        if not result.ok:
            sys.exit(1)

    # ------------------------------------------------------------------ shops
    @app.cli.group("shops")
    def shops_group() -> None:
        """Add, list, test and sync shops."""

    @shops_group.command("add")
    @click.option("--org", "org_id", type=int, required=True)
    @click.option("--addon", "addon", required=True, help="the channel add-on (shopify, amazon, …)")
    @click.option("--name", required=True)
    @click.option("--marketplace", default=None)
    @click.option("--sync-mode", type=click.Choice([m.value for m in SyncMode]), default="every_15_min")
    @with_appcontext
    def shops_add(org_id: int, addon: str, name: str, marketplace: str | None, sync_mode: str) -> None:
        org = db.session.get(Organization, org_id)
        if org is None:
            raise click.ClickException(f"no organization {org_id}")
        try:
            shop = services.create_shop(org, addon, name, marketplace=marketplace, sync_mode=sync_mode)
        except services.ServiceError as exc:
            raise _fail(exc) from None
        db.session.commit()
        click.echo(f"shop {shop.id} created: {shop.name} ({addon})")

    @shops_group.command("list")
    @click.option("--org", "org_id", type=int, default=None)
    @with_appcontext
    def shops_list(org_id: int | None) -> None:
        stmt = select(Shop).order_by(Shop.organization_id, Shop.id)
        if org_id:
            stmt = stmt.where(Shop.organization_id == org_id)
        for s in db.session.scalars(stmt):
            last = s.last_sync_at.isoformat(timespec="seconds") if s.last_sync_at else "never"
            click.echo(f"{s.id:>4}  org {s.organization_id:<3} {s.addon:<10} {s.name:<28} "
                       f"{s.sync_mode.value:<13} {s.status.value:<14} last sync {last}"
                       + (f"  error: {s.last_error}" if s.last_error else ""))

    @shops_group.command("test")
    @click.argument("shop_id", type=int)
    @with_appcontext
    def shops_test(shop_id: int) -> None:
        shop = _shop(shop_id)
        _print_test(services.test_connection(shop, shop.addon))

    @shops_group.command("sync")
    @click.argument("shop_id", type=int)
    @with_appcontext
    def shops_sync(shop_id: int) -> None:
        try:
            job = services.sync_now(_shop(shop_id))
        except services.ServiceError as exc:
            raise _fail(exc) from None
        func, job_id = job.func, job.job_id  # the commit relays the row to RQ, which deletes it
        db.session.commit()
        click.echo(f"sync queued: {func} ({job_id})")

    @shops_group.command("diagnose")
    @click.argument("shop_id", type=int)
    @click.option("--lang", type=click.Choice(["fr", "en"]), default="fr", help="language of the lines")
    @with_appcontext
    def shops_diagnose(shop_id: int, lang: str) -> None:
        """The shop's diagnostic, as on its "Diagnostic" page: one line per check, green
        (OK), orange (WARN) or red (ERROR); exits 1 when something is red."""
        shop = _shop(shop_id)
        base = current_app.config.get("PUBLIC_URL") or "http://localhost"
        with current_app.test_request_context(base_url=base), force_locale(lang):
            checks = diagnostics.run(shop)
            db.session.commit()  # an add-on's failed check is kept on the sync log
            click.echo(f"{shop.name} ({diagnostics.addon_title(shop.addon)})")
            for check in checks:
                mark, color = {"ok": ("OK", "green"), "warn": ("WARN", "yellow"),
                               "error": ("ERROR", "red")}[check.level]
                click.echo(click.style(f"{mark:<6}", fg=color) + f"{check.title}")
                if check.detail:
                    click.echo(f"      {check.detail}")
                root = request.host_url.rstrip("/")
                if check.fix_url and check.fix_post:  # an action: its button is on the page
                    page = url_for("integrations.diagnostic", shop_id=shop.id)
                    click.echo(f"      → {check.fix_label or _('Corriger')} : {root}{page}")
                elif check.fix_url:
                    label = f"{check.fix_label} : " if check.fix_label else ""
                    click.echo(f"      → {label}{root}{check.fix_url}")
                for label, url in check.links:
                    click.echo(f"      → {label} : {root}{url}")
        if diagnostics.worst(checks) == "error":
            sys.exit(1)

    @shops_group.command("stock-sync")
    @click.argument("shop_id", type=int)
    @click.argument("state", type=click.Choice(["on", "off"]))
    @with_appcontext
    def shops_stock_sync(shop_id: int, state: str) -> None:
        """Turn the shop's "Sync stock automatique" on or off (off: no stock is sent to it)."""
        shop = _shop(shop_id)
        changed = services.set_stock_sync(shop, state == "on")
        db.session.commit()
        click.echo(f"stock sync {state} for shop {shop_id}" + ("" if changed else " (unchanged)"))

    # ------------------------------------------------------------------ jobs
    @app.cli.group("jobs")
    def jobs_group() -> None:
        """Outbox maintenance."""

    @jobs_group.command("relay")
    @with_appcontext
    def jobs_relay() -> None:
        """Send committed outbox rows to RQ (the scheduler does this continuously)."""
        click.echo(f"{relay_outbox()} job(s) relayed")

    @jobs_group.command("run")
    @with_appcontext
    def jobs_run() -> None:
        """Run due outbox jobs in this process (embedded mode), then exit."""
        total = 0
        while (n := run_pending()):
            total += n
        click.echo(f"{total} job(s) run")

    @app.cli.command("serve")
    @click.option("--bind", default=None, help="host:port (OMS_WEB_BIND; default 127.0.0.1:$PORT or :8000)")
    @click.option("--workers", type=int, default=None, help="processes (OMS_WEB_WORKERS, default 2)")
    @click.option("--threads", type=int, default=None, help="threads per process (OMS_WEB_THREADS, default 4)")
    @click.option("--timeout", type=int, default=None, help="seconds before a stuck worker is restarted (OMS_WEB_TIMEOUT, 60)")
    def serve_cmd(bind, workers, threads, timeout) -> None:
        """Serve the app under gunicorn (production); each worker builds its own app."""
        from .serve import defaults, serve

        master_runner = current_app.extensions.get("oms_runner")
        if master_runner is not None:  # the app the command was found in: the workers run the jobs
            master_runner.stop()

        options = defaults()
        for key, value in (("bind", bind), ("workers", workers), ("threads", threads), ("timeout", timeout)):
            if value is not None:
                options[key] = value
        serve(options)

    @app.cli.command("worker")
    @click.option("--queue", "queues", multiple=True, default=["default"])
    @click.option("--burst", is_flag=True, help="exit when the queues are empty")
    @click.option("--nice", type=click.IntRange(0, 19), default=None,
                  help="lower the worker's CPU priority by this much (OMS_WORKER_NICE, default 10)")
    @with_appcontext
    def worker(queues: tuple[str, ...], burst: bool, nice: int | None) -> None:
        """Run an RQ worker (needs REDIS_URL); run as many as you need, on any machine.
        It survives Redis and database outages (logs, backs off, carries on).

        A worker yields the CPU to the web server on a machine they share: a webhook must be
        answered within the remote's deadline, an import can wait a moment (``--nice 0``
        keeps the normal priority; alone on its machine, a worker loses nothing by it)."""
        from .rqueue import run_worker

        if not current_app.config.get("REDIS_URL"):
            raise click.ClickException("REDIS_URL is not set: without Redis, `oms run` runs jobs in-process")
        increment = nice if nice is not None else int(os.environ.get("OMS_WORKER_NICE", "10"))
        if increment:
            os.nice(increment)
        heap.settle()
        run_worker(current_app._get_current_object(), list(queues), burst=burst)

    @app.cli.command("scheduler")
    @click.option("--interval", type=float, default=15.0, show_default=True)
    @click.option("--once", is_flag=True, help="one pass, then exit")
    @with_appcontext
    def scheduler(interval: float, once: bool) -> None:
        """Enqueue each shop's periodic sync and the add-ons' cron jobs; relay the outbox."""
        from .scheduler import Scheduler

        heap.settle()
        Scheduler(current_app._get_current_object()).run(interval=interval, once=once)

    # ------------------------------------------------------------------ demo & users
    @app.cli.command("demo")
    @click.option("--reset", is_flag=True, help="drop the demo organization first")
    @with_appcontext
    def demo(reset: bool) -> None:
        """Load the demo organization (products, stock, shops on the emulators, orders)."""
        from .demo import load_demo

        info = load_demo(reset=reset)
        click.echo(info)

    @app.cli.command("create-db")
    @with_appcontext
    def create_db() -> None:
        """Bring the database to the newest schema (Alembic heads: core and every add-on)."""
        from flask_migrate import upgrade

        upgrade(revision="heads")
        ensure_plans()
        db.session.commit()
        click.echo(f"database ready: {db.engine.url.render_as_string(hide_password=True)}")

    @app.cli.group("plans")
    def plans_group() -> None:
        """The operator's plans: list them, move an organization to another."""

    @plans_group.command("list")
    @with_appcontext
    def plans_list() -> None:
        for plan in db.session.scalars(select(Plan).order_by(Plan.monthly_price)):
            limit = "illimité" if plan.monthly_order_limit is None else f"{plan.monthly_order_limit} commandes/mois"
            click.echo(f"{plan.code}\t{plan.name}\t{plan.monthly_price} {plan.currency}/mois\t{limit}")

    @plans_group.command("set")
    @click.argument("org_id", type=int)
    @click.argument("code")
    @click.option("--note", default="", help="why (an invoice number, a support ticket)")
    @with_appcontext
    def plans_set(org_id: int, code: str, note: str) -> None:
        """Move organization ORG_ID to plan CODE (recorded, shown on its plan page)."""
        org = db.session.get(Organization, org_id)
        if org is None:
            raise click.ClickException(f"organisation {org_id} introuvable")
        try:
            change = set_plan(org, code, by=f"opérateur ({getpass.getuser()})", note=note)
        except PlanError as exc:
            raise click.ClickException(str(exc)) from None
        db.session.commit()
        click.echo(f"{org.name} : forfait {change.from_plan} → {change.to_plan}")

    # ------------------------------------------------------------------ analytics
    @app.cli.group("analytics")
    def analytics_group() -> None:
        """Analytics figures: rebuild the stored facts."""

    @analytics_group.command("rebuild")
    @click.option("--org", "org", type=int, default=None, help="Only this organization (id).")
    @with_appcontext
    def rebuild_command(org: int | None) -> None:
        """Recompute every order's figures (after a fee, rate or currency change)."""
        ids = [org] if org else list(db.session.scalars(select(Organization.id).order_by(Organization.id)))
        for ident in ids:
            if db.session.get(Organization, ident) is None:
                raise click.ClickException(f"no organization {ident}")
            count = an.rebuild(ident)
            db.session.commit()
            click.echo(f"organization {ident}: {count} orders")

    # add-ons contribute their own commands
    app.extensions["oms_addons"].pm.hook.register_commands(cli=app.cli)


def _form_values(field, value, typed: bool) -> list[str]:
    """What a browser would post for ``field`` holding ``value`` (typed on the command line
    or stored)."""
    from wtforms import BooleanField, SelectMultipleField

    if value is None:
        return []
    if isinstance(field, SelectMultipleField):
        items = value.split(",") if isinstance(value, str) else list(value)
        return [str(item).strip() for item in items if str(item).strip()]
    if isinstance(field, BooleanField):
        on = value.strip().lower() in ("1", "y", "yes", "true", "on", "oui") if isinstance(value, str) else bool(value)
        return ["y"] if on else []
    return [str(value)]
