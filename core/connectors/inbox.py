"""Webhook inbox: a delivery verified, stored and answered at once, processed by a job.

Receiving (:meth:`WebhookInbox.receive`) does the minimum a remote's delivery deadline
allows (Shopify gives 5 seconds):

1. the signature of the **raw body** is checked in constant time, before anything is
   parsed or stored, against the secrets of the shops that may own the delivery;
2. the delivery reaches exactly the shop that **proved** it owns the remote account the
   delivery names (:mod:`core.connectors.ownership`): the shop whose own secret verifies
   the signature, else, for a delivery signed with the installation's shared app secret,
   the one shop holding the account's ``oauth`` claim. A shop that only typed the account
   in its settings receives nothing;
3. :meth:`WebhookInbox.parse` reads the body: the one point before storage where a body is
   refused (a refusal stores nothing);
4. one insert keyed by the remote's delivery id (a redelivery inserts nothing) and the
   shop's processing job queued in the same transaction.

Processing (:meth:`WebhookInbox.process_pending`, from the add-on's job) takes the shop's
waiting deliveries in arrival order, one transaction each (or, where the add-on handles them
in batches, a run of consecutive ones together, one by one if the run fails); a delivery that
fails is retried by the next run, up to :data:`MAX_ATTEMPTS` times, without blocking the others.

An add-on subclasses :class:`WebhookInbox` and supplies only its signature scheme, its
headers (account, delivery id, topic) and its handler; the rows go to the core table
:class:`~core.connectors.models.WebhookDelivery` unless the add-on brings its own table with
the same columns.
"""
from __future__ import annotations

import abc
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from flask import current_app
from sqlalchemy import JSON, Text, bindparam, cast, func, select

from core.extensions import db
from core.inputs import InputError, checked_json
from core.jobs import enqueue
from core.rqueue import waiting_in_rq
from core.models import OutboxJob, Shop, ShopAddon, utcnow

from .models import RemoteAccountClaim, WebhookDelivery
from ..i18n import _

MAX_ATTEMPTS = 5
#: deliveries handled together at most, where the add-on handles them in batches
BATCH_SIZE = 50
#: seconds a process remembers who may receive an account's deliveries
TARGETS_TTL = 60.0
#: a delivery nobody may receive reads the shops again once they are this old (a shop
#: installed a moment ago in another process is found within these seconds)
MISS_TTL = 5.0

Headers = Callable[[str], "str | None"]


class Refused(ValueError):
    """A delivery not accepted: ``status`` is the HTTP answer, the message says why (for the
    remote's delivery log; it names no shop and no secret)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Received:
    status: int
    stored: int = 0
    duplicate: bool = False
    message: str = ""
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Candidate:
    """A shop that may own an account's deliveries: its own verifying secrets and whether it
    holds the account's ``oauth`` claim."""

    shop_id: int
    own_secrets: tuple[str, ...] = ()
    claimed: bool = False


@dataclass
class _Targets:
    loaded: float = 0.0
    expires: float = 0.0
    by_account: dict[str, list[Candidate]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class WebhookInbox(abc.ABC):
    """One add-on's inbox. Subclass it and fill in the scheme (see the module docstring)."""

    #: the add-on's technical name (also the claims' and the core table's ``addon``)
    addon: ClassVar[str] = ""
    #: dotted path of the job that processes a shop's deliveries: ``job(shop_id)``
    process_job: ClassVar[str] = ""
    #: the table rows go to, and its delivery-id column
    model: ClassVar[Any] = WebhookDelivery
    delivery_column: ClassVar[str] = "delivery_id"
    #: retry intervals of the processing job
    job_intervals: ClassVar[tuple[int, ...]] = (10, 60, 300)
    #: on PostgreSQL, store the raw body (what was signed) rather than the parsed payload
    store_raw: ClassVar[bool] = True
    #: only shops whose sales channel is this add-on can own its accounts
    channel_only: ClassVar[bool] = True
    #: the answer to a missing or wrong signature
    refused_status: ClassVar[int] = 401
    #: errors that stop processing (and escape to the job's retry) instead of marking a row
    fatal: ClassVar[tuple[type[BaseException], ...]] = ()

    # ------------------------------------------------------------------ the add-on's scheme
    @abc.abstractmethod
    def signature(self, headers: Headers) -> str | None:
        """The signature header's value."""

    @abc.abstractmethod
    def verify(self, body: bytes, signature: str, secret: str) -> bool:
        """Whether ``signature`` signs the raw ``body`` with ``secret`` (constant time)."""

    def account(self, headers: Headers) -> str | None:
        """The remote account the delivery names (normalised), or None when the URL names the
        shop (a relay): raise :class:`Refused` for a malformed one."""
        return None

    @abc.abstractmethod
    def delivery_id(self, headers: Headers, payload: Mapping[str, Any]) -> str:
        """The remote's id of this delivery (its redeliveries carry the same one)."""

    @abc.abstractmethod
    def topic(self, headers: Headers, payload: Mapping[str, Any]) -> str:
        """What the delivery is about (``orders/create``…)."""

    def columns(self, headers: Headers, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Extra columns of the row (``resource_id``, ``triggered_at``…)."""
        return {}

    def parse(self, body: bytes) -> dict[str, Any]:
        """The payload of a verified body: the single point before storage where a body is
        refused (raise :class:`Refused`); nothing is stored for a refused body."""
        try:
            payload = checked_json(body)  # size, depth and NaN/Infinity refused before storage
        except InputError as exc:
            raise Refused(str(exc)) from None
        except ValueError:  # UnicodeDecodeError included
            raise Refused("corps JSON illisible") from None
        if not isinstance(payload, dict):
            raise Refused("corps JSON inattendu")
        return payload

    def account_of(self, settings: Mapping[str, Any]) -> str | None:
        """The account a shop's settings name (normalised), None if none."""
        return None

    def own_secrets(self, settings: Mapping[str, Any]) -> tuple[str, ...]:
        """The secrets only this shop holds (its own app's) that may sign its deliveries."""
        return ()

    def shared_secrets(self) -> tuple[str, ...]:
        """The installation's shared app secrets (public app, rotation included)."""
        return ()

    def shop_secrets(self, shop: Shop) -> tuple[str, ...]:
        """The secrets of a shop the URL names (a relay): its own secrets by default."""
        return self.own_secrets(shop.addon_settings(self.addon))

    # ------------------------------------------------------------------ who receives
    def _cache(self) -> _Targets:
        return current_app.extensions.setdefault(f"webhook_targets_{self.addon}", _Targets())

    def forget(self) -> None:
        """Forget who may receive what (after a shop's settings or a claim changed)."""
        cache = current_app.extensions.get(f"webhook_targets_{self.addon}")
        if cache is not None:
            with cache.lock:
                cache.expires = 0.0

    def _load(self) -> dict[str, list[Candidate]]:
        stmt = select(ShopAddon.shop_id, ShopAddon.settings, ShopAddon.secrets).where(ShopAddon.addon == self.addon)
        if self.channel_only:
            stmt = stmt.join(Shop, Shop.id == ShopAddon.shop_id).where(Shop.addon == self.addon)
        claims = dict(db.session.execute(select(RemoteAccountClaim.shop_id, RemoteAccountClaim.account).where(
            RemoteAccountClaim.addon == self.addon)).all())
        shared = set(self.shared_secrets())
        found: dict[str, list[Candidate]] = {}
        for row in db.session.execute(stmt.order_by(ShopAddon.shop_id)).all():
            conf = {**(row.settings or {}), **(row.secrets or {})}
            account = self.account_of(conf)
            if not account:
                continue
            own = tuple(s for s in self.own_secrets(conf) if s and s not in shared)
            found.setdefault(account, []).append(
                Candidate(row.shop_id, own, claimed=claims.get(row.shop_id) == account))
        return found

    def candidates(self, account: str, *, fresher_than: float | None = None) -> list[Candidate]:
        """The shops whose settings name ``account`` (remembered :data:`TARGETS_TTL` seconds,
        one read of the add-on's shops for every account; ``fresher_than``: read again if
        what is remembered is older than that many seconds)."""
        cache = self._cache()
        now = time.monotonic()
        with cache.lock:
            fresh = cache.expires > now and (fresher_than is None or now - cache.loaded < fresher_than)
            if fresh:
                return cache.by_account.get(account, [])
        found = self._load()
        with cache.lock:
            cache.by_account, cache.loaded, cache.expires = found, now, now + TARGETS_TTL
        return found.get(account, [])

    def _shop_candidate(self, shop_id: int) -> list[Candidate]:
        shop = db.session.get(Shop, shop_id)
        row = shop.addon_row(self.addon) if shop is not None else None
        if row is None or not row.active or (self.channel_only and shop.addon != self.addon):
            return []
        return [Candidate(shop_id, tuple(s for s in self.shop_secrets(shop) if s))]

    def _verifies(self, body: bytes, signature: str, secrets: tuple[str, ...]) -> bool:
        ok = False
        for secret in secrets:  # every secret is tried: the time does not say which one matched
            ok |= bool(secret) and self.verify(body, signature, secret)
        return ok

    def targets(self, candidates: list[Candidate], body: bytes, signature: str) -> list[int]:
        """The shops a signed body is for: those whose own secret verifies it (the first shop
        configured with a given secret), else the one holding the account's claim when the
        shared app secret verifies it."""
        by_secret: dict[str, int] = {}
        for cand in candidates:
            for secret in cand.own_secrets:
                if secret not in by_secret and self._verifies(body, signature, (secret,)):
                    by_secret[secret] = cand.shop_id
        if by_secret:
            return sorted(set(by_secret.values()))
        claimed = [c.shop_id for c in candidates if c.claimed]
        if claimed and self._verifies(body, signature, self.shared_secrets()):
            return claimed[:1]
        return []

    # ------------------------------------------------------------------ receiving
    def job_id(self, shop_id: int) -> str:
        return f"{self.addon}-webhooks-{shop_id}"

    def receive(self, body: bytes, headers: Headers, *, shop_id: int | None = None) -> Received:
        """Verify and store one delivery (the caller commits on 200, rolls back otherwise).
        ``headers(name)`` reads a header; ``shop_id`` when the URL names the shop."""
        try:
            if shop_id is not None:
                candidates = self._shop_candidate(shop_id)
                if not candidates:
                    return Received(404, message="inconnu")
            else:
                account = self.account(headers)
                if not account:
                    raise Refused(_("compte distant absent ou invalide"), 401)
                candidates = self.candidates(account)
            signature = self.signature(headers)
            if not signature:
                return Received(self.refused_status, message="signature absente")
            targets = self.targets(candidates, body, signature)
            if not targets and shop_id is None and account:
                targets = self.targets(self.candidates(account, fresher_than=MISS_TTL), body, signature)
            if not targets:
                return Received(self.refused_status, message="signature invalide")
            payload = self.parse(body)
            topic = (self.topic(headers, payload) or "").strip()
            delivery = (self.delivery_id(headers, payload) or "").strip()
            if not topic or not delivery:
                raise Refused(_("sujet ou identifiant de livraison manquant"))
            extra = self.columns(headers, payload)
        except Refused as exc:
            return Received(exc.status, message=str(exc))
        stored = 0
        for target in targets:
            values = {"shop_id": target, self.delivery_column: delivery[:64], "topic": topic[:64],
                      "received_at": utcnow(), "attempts": 0, **extra}
            if self.model is WebhookDelivery:
                values["addon"] = self.addon
            if self._store(values, body, payload):
                stored += 1
        return Received(200, stored=stored, duplicate=stored == 0, payload=payload)

    _statements: ClassVar[dict[tuple[Any, ...], Any]] = {}

    def _insert_statement(self, columns: tuple[str, ...], raw: bool) -> Any:
        """The inbox insert, built and compiled once per dialect and table; a redelivery
        inserts nothing. On PostgreSQL the same statement says whether the shop's processing
        job is already waiting, so a delivery to a busy shop is one statement."""
        dialect = db.engine.dialect.name
        key = (dialect, self.model, columns, raw)
        if key not in self._statements:
            table = self.model.__table__
            values: dict[str, Any] = {c: bindparam(c) for c in columns}
            conflict = [c for c in ("addon", "shop_id", self.delivery_column) if c in table.c]
            if dialect == "postgresql":
                from sqlalchemy.dialects.postgresql import insert

                values["payload"] = (cast(bindparam("raw", type_=Text), JSON) if raw
                                     else bindparam("payload", type_=JSON))
                waiting = (select(func.count()).select_from(OutboxJob)
                           .where(OutboxJob.job_id == bindparam("job_id"), OutboxJob.state == "pending")
                           .scalar_subquery())
                returning: tuple[Any, ...] = (table.c.id, waiting)
            else:
                from sqlalchemy.dialects.sqlite import insert

                values["payload"] = bindparam("payload", type_=JSON)
                returning = (table.c.id,)
            self._statements[key] = (insert(table).values(values).on_conflict_do_nothing(index_elements=conflict)
                                     .returning(*returning))
        return self._statements[key]

    def _store(self, values: dict[str, Any], body: bytes, payload: dict[str, Any]) -> bool:
        """Store one delivery and make sure the shop's processing job is queued; False for a
        redelivery (nothing stored).

        On PostgreSQL the insert commits on its own (autocommit): when the job is already
        waiting (a pending outbox row, or a run queued in RQ that has not started) that is
        the whole delivery. Otherwise the job goes in the caller's transaction; should the
        process die in between, the shop's next run processes it."""
        shop_id = values["shop_id"]
        columns = tuple(sorted(values))
        params = {**values, "job_id": self.job_id(shop_id)}
        if db.engine.dialect.name == "postgresql":
            raw = self.store_raw
            extra = {"raw": body.decode()} if raw else {"payload": payload}
            with db.engine.connect() as conn:
                row = conn.execution_options(isolation_level="AUTOCOMMIT").execute(
                    self._insert_statement(columns, raw), {**params, **extra}).first()
        else:
            row = db.session.execute(self._insert_statement(columns, False), {**params, "payload": payload}).first()
        if row is None:
            return False
        if len(row) > 1 and (row[1] > 0 or self._waiting_in_rq(shop_id)):
            return True  # committed, and a run still to come will read it
        enqueue(self.process_job, shop_id, job_id=self.job_id(shop_id), unique=True, shop_id=shop_id,
                intervals=self.job_intervals, checked=len(row) > 1)
        return True

    def _waiting_in_rq(self, shop_id: int) -> bool:
        """PostgreSQL, jobs in RQ: the shop's processing job waits there, not started yet. The
        delivery being committed already, that run reads it: no outbox row, no relay (a busy
        shop's delivery stays one statement and one Redis read). Redis out of reach: False,
        and the outbox takes the job as always."""
        if current_app.config.get("JOBS_MODE") != "rq":
            return False
        try:
            return waiting_in_rq(self.job_id(shop_id))
        except Exception:  # Redis down: the outbox row keeps the job until it is back
            return False

    # ------------------------------------------------------------------ processing
    def _scope(self) -> list[Any]:
        return [self.model.addon == self.addon] if self.model is WebhookDelivery else []

    def pending(self, shop_id: int) -> list[int]:
        return list(db.session.scalars(select(self.model.id).where(
            self.model.shop_id == shop_id, self.model.processed_at.is_(None), self.model.attempts < MAX_ATTEMPTS,
            *self._scope()).order_by(self.model.id)))

    def on_fatal(self, shop: Shop, exc: BaseException) -> None:
        """A :attr:`fatal` error stopped processing (the caller commits, then it escapes)."""

    def process_pending(self, shop_id: int, handler: Callable[[Shop, Any], str], *,
                        batch: Callable[[Shop, list[Any]], Any] | None = None,
                        batchable: Callable[[Any], bool] | None = None,
                        batch_size: int = BATCH_SIZE) -> tuple[int, list[str]]:
        """Process the shop's waiting deliveries one transaction each; (done, errors).

        With ``batch``, a run of consecutive deliveries that ``batchable`` accepts (up to
        ``batch_size``) is handled by one call in one transaction (orders ingested together:
        one insert, one allocation, one commit); should it fail, the run is rolled back and
        its deliveries go one by one, so a bad one still only fails itself (and, having
        failed once, is never batched again)."""
        done, errors = 0, []
        ids = self.pending(shop_id)
        position = 0
        while position < len(ids):
            run: list[int] = []
            if batch is not None and batchable is not None:
                while position + len(run) < len(ids) and len(run) < batch_size:
                    row = db.session.get(self.model, ids[position + len(run)])
                    if row is None or row.processed_at is not None or row.attempts or not batchable(row):
                        break
                    run.append(row.id)
            if len(run) > 1 and self._process_run(shop_id, run, batch):
                done += len(run)
                position += len(run)
                continue
            for row_id in run or ids[position:position + 1]:
                ok, error = self._process_one(shop_id, row_id, handler)
                done += ok
                if error:
                    errors.append(error)
            position += len(run) or 1
        return done, errors

    def _process_run(self, shop_id: int, run: list[int], batch: Callable[[Shop, list[Any]], Any]) -> bool:
        """Handle these deliveries together in one transaction; False (rolled back) if that failed."""
        rows = [db.session.get(self.model, row_id) for row_id in run]
        shop = db.session.get(Shop, shop_id)
        if shop is None or any(row is None for row in rows):
            return False
        try:
            batch(shop, rows)
            now = utcnow()
            for row in rows:
                row.processed_at = now
                row.last_error = None
            db.session.commit()
        except Exception:  # noqa: BLE001 - the deliveries go one by one, each its own outcome
            db.session.rollback()
            return False
        return True

    def _process_one(self, shop_id: int, row_id: int, handler: Callable[[Shop, Any], str]) -> tuple[int, str | None]:
        """One delivery in its own transaction: (1 if processed, the error if it failed)."""
        row = db.session.get(self.model, row_id)
        shop = db.session.get(Shop, shop_id)
        if row is None or shop is None or row.processed_at is not None:
            return 0, None
        topic = row.topic
        try:
            handler(shop, row)
            row.processed_at = utcnow()
            row.last_error = None
            db.session.commit()
            return 1, None
        except self.fatal as exc:
            db.session.rollback()
            shop = db.session.get(Shop, shop_id)
            if shop is not None:
                self.on_fatal(shop, exc)
            db.session.commit()
            raise
        except Exception as exc:  # noqa: BLE001 - one bad delivery must not block the others
            db.session.rollback()
            row = db.session.get(self.model, row_id)
            if row is None:
                return 0, None
            row.attempts += 1
            row.last_error = f"{exc.__class__.__name__}: {exc}"[:2000]
            db.session.commit()
            return 0, f"{topic} #{row_id} : {exc}"
