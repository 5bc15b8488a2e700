"""Analytics: margins per channel, product and customer on a small data set computed by hand,
currency conversion with the rate of the order's date, actual fees and supplier costs, the
refresh listener, CSV exports equal to the screen, the pricing helper, suggested actions,
every page for each role, and tenant isolation."""
from __future__ import annotations

import csv
import html
import io
import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from core import analytics as an
from core import fx
from core import hookimpl
from core import returns as rma
from core.addons import registry
from core.extensions import db
from core.jobs import run_pending
from core.models import (
    AnalyticsFeeRule,
    AnalyticsLineFact,
    AnalyticsOrderFact,
    Customer,
    FxRate,
    Order,
    OrderLine,
    OrderStatus,
    OutboxJob,
    Role,
    Shipment,
    ShipmentStatus,
    Shop,
    utcnow,
)
from core.money import Money
from tests.fixtures import FAKE_ADDONS, csrf_token
from tests.pipeline_helpers import variant, warehouse

MARCH = datetime(2026, 3, 5, 10, 0, tzinfo=timezone.utc)
PERIOD = "from=2026-03-01&to=2026-04-30"
F = an.Filters(date(2026, 3, 1), date(2026, 4, 30))


@pytest.fixture
def addons():
    return ["alpha", "beta"]


@pytest.fixture
def app_config():
    return {"ADDON_MODULES": FAKE_ADDONS}


def run_jobs() -> None:
    while run_pending(now=utcnow() + timedelta(seconds=10)):
        pass
    db.session.expire_all()


def text(res) -> str:
    return html.unescape(res.get_data(as_text=True))


def fee_rule(org_id: int, channel: str, category: str = "*", *, commission: str = "0", payment: str = "0",
             fixed: str = "0", payment_fixed: str = "0") -> AnalyticsFeeRule:
    rule = AnalyticsFeeRule(organization_id=org_id, channel=channel, category=category,
                            commission_pct=Decimal(commission), payment_pct=Decimal(payment),
                            fixed_per_order=Decimal(fixed), payment_fixed=Decimal(payment_fixed), currency="EUR",
                            is_default=False)
    db.session.add(rule)
    return rule


def make_order(org_id: int, shop: Shop, number: str, lines: list[tuple], *, customer: Customer | None = None,
               placed: datetime = MARCH, currency: str = "EUR", status: OrderStatus = OrderStatus.SHIPPED,
               shipping_cost: str | None = None, warehouse_id: int | None = None,
               picked_at: datetime | None = None, shipped_at: datetime | None = None) -> Order:
    """``lines``: (variant, quantity, unit price); the total is their sum (no VAT, no delivery)."""
    order = Order(organization_id=org_id, shop_id=shop.id, external_id=number, number=number, currency=currency,
                  customer_id=customer.id if customer else None, email=customer.email if customer else None,
                  placed_at=placed, status=status, picking_started_at=picked_at)
    total = Decimal(0)
    for v, qty, price in lines:
        order.lines.append(OrderLine(variant_id=v.id, sku=v.sku, title=v.sku, quantity=qty, unit_price=Decimal(price),
                                     warehouse_id=warehouse_id))
        total += Decimal(price) * qty
    order.subtotal = order.total = total
    db.session.add(order)
    db.session.flush()
    if shipping_cost is not None:
        db.session.add(Shipment(order_id=order.id, warehouse_id=warehouse_id, carrier="colissimo",
                                status=ShipmentStatus.SHIPPED, cost=Decimal(shipping_cost), currency="EUR",
                                shipped_at=shipped_at or placed + timedelta(hours=5)))
    return order


@pytest.fixture
def data(org, shop_factory):
    """Two channels (beta, cdiscount), two customers, two SKUs (MUG cost 20, TEE cost 8 and
    tagged textile), three orders in March (one in GBP) and one returned TEE."""
    beta = shop_factory("beta", "Boutique Beta")
    cdiscount = Shop(organization_id=org.id, addon="cdiscount", name="Cdiscount")
    db.session.add(cdiscount)
    wh = warehouse(org.id, "PAR")
    mug = variant(org.id, "MUG")
    mug.cost_price = Decimal("20.00")
    tee = variant(org.id, "TEE", tags=["textile"])
    tee.cost_price = Decimal("8.00")
    alice = Customer(organization_id=org.id, email="alice@exemple.fr", name="Alice")
    bob = Customer(organization_id=org.id, email="bob@exemple.fr", name="Bob")
    db.session.add_all([alice, bob])
    fee_rule(org.id, "beta", commission="12.5", payment="1", fixed="1.00", payment_fixed="0.50")
    fee_rule(org.id, "cdiscount", commission="15")
    fee_rule(org.id, "cdiscount", "textile", commission="5")
    db.session.add(FxRate(organization_id=org.id, currency="GBP", day=date(2026, 3, 1), rate=Decimal("0.8")))
    db.session.add(FxRate(organization_id=org.id, currency="GBP", day=date(2026, 4, 1), rate=Decimal("0.9")))
    db.session.flush()
    o1 = make_order(org.id, beta, "B-1", [(mug, 2, "50.00")], customer=alice, shipping_cost="6.00", warehouse_id=wh.id,
                    picked_at=MARCH + timedelta(hours=1), shipped_at=MARCH + timedelta(hours=4, minutes=30))
    o2 = make_order(org.id, cdiscount, "C-1", [(mug, 1, "50.00"), (tee, 2, "25.00")], customer=bob,
                    shipping_cost="4.00", warehouse_id=wh.id)
    o3 = make_order(org.id, beta, "B-2", [(tee, 1, "40.00")], customer=alice, currency="GBP",
                    placed=datetime(2026, 3, 10, 12, 0, tzinfo=timezone.utc))
    db.session.commit()
    ret = rma.open_return(o2, "size", {o2.lines[1].id: 1})
    rma.receive(ret)
    rma.inspect(ret)
    rma.restock(ret, wh)
    rma.record_refund(ret, Decimal("25.00"))
    db.session.commit()
    run_jobs()
    return {"beta": beta, "cdiscount": cdiscount, "wh": wh, "mug": mug, "tee": tee, "alice": alice, "bob": bob,
            "orders": [o1, o2, o3], "return": ret}


def figures(fig: an.Figures) -> dict[str, Decimal]:
    return {"revenue": fig.revenue, "cost": fig.product_cost, "fees": fig.fees, "shipping": fig.shipping,
            "returns": fig.returns, "margin": fig.margin}


def D(**kw: str) -> dict[str, Decimal]:
    return {k: Decimal(v) for k, v in kw.items()}


# ----------------------------------------------------------------------------- margins
def test_margin_per_marketplace_product_and_customer(org, data):
    # B-1 (beta, EUR): 2 × MUG at 50 = 100.00; cost 2 × 20 = 40.00; fees 13.5 % × 100 + 1.00 + 0.50 = 15.00;
    #     parcel 6.00 → margin 39.00
    # C-1 (cdiscount): MUG 50.00 (fees 15 % = 7.50) + 2 × TEE 25 = 50.00 (textile: 5 % = 2.50); cost 20 + 16 = 36.00;
    #     parcel 4.00 shared 2.00 / 2.00; one TEE back: refund 25.00 less its cost 8.00 restocked = 17.00
    #     → margin 100 − 36 − 10 − 4 − 17 = 33.00
    # B-2 (beta, GBP 40.00 at 0.80 on 2026-03-01) = 50.00 EUR; cost 8.00; fees 13.5 % × 50 + 1.50 = 8.25 → 33.75
    channels = dict(an.by_channel(org.id, "EUR", F))
    assert figures(channels["beta"]) == D(revenue="150.00", cost="48.00", fees="23.25", shipping="6.00",
                                          returns="0.00", margin="72.75")
    assert figures(channels["cdiscount"]) == D(revenue="100.00", cost="36.00", fees="10.00", shipping="4.00",
                                               returns="17.00", margin="33.00")
    assert channels["beta"].orders == 2 and channels["cdiscount"].orders == 1
    assert channels["beta"].basket == Decimal("75.00")

    products = {vid: fig for vid, fig in an.by_product(org.id, "EUR", F)}
    assert figures(products[data["mug"].id]) == D(revenue="150.00", cost="60.00", fees="22.50", shipping="8.00",
                                                  returns="0.00", margin="59.50")
    assert figures(products[data["tee"].id]) == D(revenue="100.00", cost="24.00", fees="10.75", shipping="2.00",
                                                  returns="17.00", margin="46.25")
    assert products[data["tee"].id].units == 3 and products[data["tee"].id].returned_units == 1
    assert products[data["tee"].id].return_rate == Decimal("33.3")

    customers = {cid: fig for cid, fig in an.by_customer(org.id, "EUR", F)}
    assert figures(customers[data["alice"].id]) == D(revenue="150.00", cost="48.00", fees="23.25", shipping="6.00",
                                                     returns="0.00", margin="72.75")
    assert figures(customers[data["bob"].id]) == D(revenue="100.00", cost="36.00", fees="10.00", shipping="4.00",
                                                   returns="17.00", margin="33.00")

    total = an.overview(org.id, "EUR", F)
    assert figures(total) == D(revenue="250.00", cost="84.00", fees="33.25", shipping="10.00", returns="17.00",
                               margin="105.75")
    assert (total.orders, total.units, total.returned_units) == (3, 6, 1)
    assert total.basket == Decimal("83.33")
    assert total.prep_hours == Decimal("3.5")  # B-1: picked at 11:00, first parcel shipped at 14:30


def test_dashboard_answers_the_four_questions(client, login, org, data):
    login(client, Role.OWNER)
    page = text(client.get(f"/analytics/?{PERIOD}"))
    for expected in ("Combien de commandes ?", "Quel panier moyen ?", "Taux de retour ?",
                     "Temps moyen de préparation ?", "83,33", "16,7 %", "3,5 h", "105,75"):
        assert expected in page, expected
    assert "<svg" in page and 'href="/orders?from=2026-03-01&amp;to=2026-04-30&amp;channel=beta"' in \
        res_html(client, f"/analytics/?{PERIOD}")
    # the menu's entry (main.analytics) shows the same dashboard
    assert "Vos chiffres en quatre questions" in text(client.get("/analytics"))


def res_html(client, url: str) -> str:
    return client.get(url).get_data(as_text=True)


def test_gbp_order_converted_with_the_rate_of_its_date(org, data):
    april = make_order(org.id, data["beta"], "B-3", [(data["tee"], 1, "45.00")], currency="GBP",
                       placed=datetime(2026, 4, 2, 9, 0, tzinfo=timezone.utc))
    db.session.commit()
    run_jobs()
    march = db.session.get(AnalyticsOrderFact, data["orders"][2].id)
    fact = db.session.get(AnalyticsOrderFact, april.id)
    assert an.from_cents(march.revenue) == Decimal("50.00")  # 40 GBP / 0.80 (rate of 2026-03-01)
    assert an.from_cents(fact.revenue) == Decimal("50.00")  # 45 GBP / 0.90 (rate of 2026-04-01, not 0.80)
    assert fact.fx_status == "ok"
    # an order before the first known rate uses the first one and says so
    early = make_order(org.id, data["beta"], "B-0", [(data["tee"], 1, "8.00")], currency="GBP",
                       placed=datetime(2026, 2, 1, 9, 0, tzinfo=timezone.utc))
    db.session.commit()
    run_jobs()
    assert db.session.get(AnalyticsOrderFact, early.id).fx_status == "later"
    assert an.from_cents(db.session.get(AnalyticsOrderFact, early.id).revenue) == Decimal("10.00")


def test_rate_table_lookup_and_cross_rates():
    table = fx.RateTable({"GBP": [(date(2026, 3, 1), Decimal("0.8")), (date(2026, 4, 1), Decimal("0.9"))],
                          "USD": [(date(2026, 3, 1), Decimal("1.2"))]})
    assert table.rate("GBP", date(2026, 3, 31)) == (Decimal("0.8"), "ok")
    assert table.rate("GBP", date(2026, 4, 1)) == (Decimal("0.9"), "ok")
    assert table.rate("GBP", date(2026, 6, 1)) == (Decimal("0.9"), "stale")
    assert table.rate("PLN", date(2026, 4, 1)) == (None, "missing")
    # 80 GBP → EUR 100 → USD 120
    assert table.convert(Decimal("80"), "GBP", "USD", date(2026, 3, 15)).amount == Decimal("120")


def test_actual_fees_replace_the_schedule(org, data):
    o1 = data["orders"][0]
    an.set_actual_fees(o1, [("commission", Money("9.00", "EUR")), ("payment", Money("1.20", "EUR"))])
    db.session.commit()
    run_jobs()
    assert an.from_cents(db.session.get(AnalyticsOrderFact, o1.id).fees) == Decimal("10.20")
    assert dict(an.by_channel(org.id, "EUR", F))["beta"].fees == Decimal("18.45")  # 10.20 + 8.25


class SupplierCosts:
    """An add-on that knows the MUG's supplier price."""

    @hookimpl
    def cost_of_line(self, order, line):
        return Money("30.00", "EUR") if line.sku == "MUG" else None


def test_cost_of_line_hook_beats_the_cost_price(org, data):
    registry().pm.register(SupplierCosts(), name="supplier_costs_test")
    try:
        an.rebuild(org.id)
        db.session.commit()
    finally:
        registry().pm.unregister(name="supplier_costs_test")
    products = dict(an.by_product(org.id, "EUR", F))
    assert products[data["mug"].id].product_cost == Decimal("90.00")  # 3 × 30.00 instead of 3 × 20.00
    assert products[data["tee"].id].product_cost == Decimal("24.00")


def test_lines_without_cost_are_flagged(client, login, org, data):
    data["mug"].cost_price = None
    db.session.commit()
    an.rebuild(org.id)
    db.session.commit()
    assert an.overview(org.id, "EUR", F).cost_missing_lines == 2
    login(client, Role.OWNER)
    assert "2 lignes vendues sans coût d’achat connu" in text(client.get(f"/analytics/?{PERIOD}"))


# ----------------------------------------------------------------------------- refresh
def test_refreshes_coalesce_into_one_queued_job_per_organization(org, shop_factory):
    """Three transactions (three webhooks) make one queued refresh that covers them all."""
    from core.models import AnalyticsDirty

    shop = shop_factory("beta")
    v = variant(org.id, "SOCK")
    db.session.commit()
    for n in range(3):
        make_order(org.id, shop, f"S-{n}", [(v, 1, "10.00")])
        db.session.commit()
    jobs = db.session.scalars(select(OutboxJob).where(OutboxJob.func == an.REFRESH_JOB)).all()
    assert len(jobs) == 1 and jobs[0].args == [org.id] and jobs[0].job_id == f"analytics-refresh-{org.id}"
    assert db.session.scalar(select(func.count()).select_from(AnalyticsDirty)) == 3
    run_jobs()
    assert db.session.scalar(select(func.count()).select_from(AnalyticsOrderFact)) == 3
    assert db.session.scalar(select(func.count()).select_from(AnalyticsDirty)) == 0
    # cancelling an order takes it out of the figures
    order = db.session.scalar(select(Order).where(Order.number == "S-0"))
    order.status = OrderStatus.CANCELLED
    db.session.commit()
    run_jobs()
    assert db.session.scalar(select(func.count()).select_from(AnalyticsOrderFact)) == 2
    assert db.session.scalar(select(func.count()).select_from(AnalyticsLineFact)) == 2


def test_a_mark_written_again_during_the_refresh_stays_for_the_next(org, shop_factory, monkeypatch):
    from core import analytics_jobs
    from core.models import AnalyticsDirty

    shop = shop_factory("beta")
    v = variant(org.id, "SOCK")
    db.session.commit()
    order = make_order(org.id, shop, "S-1", [(v, 1, "10.00")])
    db.session.commit()
    real = analytics_jobs.refresh_orders

    def refresh_then_changed_again(org_id, ids):
        out = real(org_id, ids)
        # another transaction marks the order again after the job read it (ON CONFLICT → new seq)
        db.session.execute(AnalyticsDirty.__table__.update().values(seq=AnalyticsDirty.seq + 1))
        return out

    monkeypatch.setattr(analytics_jobs, "refresh_orders", refresh_then_changed_again)
    assert analytics_jobs.refresh_pending(org.id) == 1
    assert db.session.scalars(select(AnalyticsDirty.order_id)).all() == [order.id]  # kept for the next run
    monkeypatch.setattr(analytics_jobs, "refresh_orders", real)
    assert analytics_jobs.refresh_pending(org.id) == 1
    assert db.session.scalars(select(AnalyticsDirty.order_id)).all() == []


def test_rebuild_command_and_incremental_nightly_pass(runner, org, data):
    from datetime import datetime, timedelta, timezone

    from core.analytics_jobs import refresh_changed
    from core.models import AnalyticsDirty

    db.session.execute(AnalyticsOrderFact.__table__.delete())
    db.session.commit()
    res = runner.invoke(args=["analytics", "rebuild", "--org", str(org.id)])
    assert res.exit_code == 0, res.output
    db.session.expire_all()
    assert an.overview(org.id, "EUR", F).margin == Decimal("105.75")
    # the nightly pass: the first night marks only orders without figures (none here)
    night = datetime.now(timezone.utc) + timedelta(days=1)
    assert refresh_changed(night) == 0
    db.session.commit()
    # changes made outside the ORM: one order's facts lost, another updated by SQL
    orders = db.session.scalars(select(Order).where(Order.organization_id == org.id).order_by(Order.id)).all()
    db.session.execute(AnalyticsOrderFact.__table__.delete().where(AnalyticsOrderFact.order_id == orders[0].id))
    db.session.execute(Order.__table__.update().where(Order.id == orders[1].id)
                       .values(updated_at=night + timedelta(hours=2)))
    db.session.commit()
    assert refresh_changed(night + timedelta(days=1)) == 2  # only what changed, not every order
    db.session.commit()
    assert sorted(db.session.scalars(select(AnalyticsDirty.order_id))) == sorted([orders[0].id, orders[1].id])
    run_jobs()
    db.session.expire_all()
    assert an.overview(org.id, "EUR", F).margin == Decimal("105.75")
    # the full rebuild stays an explicit request
    assert an.rebuild_all() == 1
    db.session.commit()
    assert db.session.scalar(select(OutboxJob.job_id).where(OutboxJob.func == "core.analytics.rebuild")) == \
        f"analytics-rebuild-{org.id}"


# ----------------------------------------------------------------------------- CSV = screen
class _Tables(HTMLParser):
    """Cells of every table of a page, by table id (thead, tbody and tfoot rows)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("id", "").startswith("t-"):
            self._table = attrs["id"][2:]
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _norm(cell: str) -> str:
    """A screen or CSV cell as a comparable value: numbers as Decimal strings."""
    value = cell.replace("\u202f", "").replace("\xa0", "").replace(" ", "").replace("€", "").replace("%", "")
    value = value.rstrip("h") if re.fullmatch(r"-?[\d,.]+h", value) else value
    if re.fullmatch(r"[−-]?\d+(,\d+)?", value):
        return str(Decimal(value.replace("−", "-").replace(",", ".")).normalize())
    return "" if cell in ("—", "") else " ".join(cell.split())


@pytest.mark.parametrize("page,table", [
    ("/analytics/", "canaux"), ("/analytics/", "evolution"), ("/analytics/products?sort=loss&limit=25", "produits"),
    ("/analytics/customers", "clients"), ("/analytics/returns", "retours-canaux"),
    ("/analytics/returns", "retours-motifs"), ("/analytics/returns", "retours-produits"),
    ("/analytics/preparation", "preparation"), ("/analytics/losers", "non-rentables"),
])
def test_csv_export_matches_the_screen(client, login, org, data, page, table):
    # a loss for the losers table: the TEE on cdiscount with an expensive parcel
    if table == "non-rentables":
        db.session.get(Shipment, db.session.scalar(select(Shipment.id).where(
            Shipment.order_id == data["orders"][1].id))).cost = Decimal("90.00")
        db.session.commit()
        run_jobs()
    login(client, Role.OWNER)
    url = f"{page}{'&' if '?' in page else '?'}{PERIOD}"
    parser = _Tables()
    parser.feed(client.get(url).get_data(as_text=True))
    screen = parser.tables[table]
    link = re.search(rf'href="(/analytics/export/{table}\.csv\?[^"]+)"', client.get(url).get_data(as_text=True))
    assert link, f"no CSV link for {table}"
    res = client.get(html.unescape(link.group(1)))
    assert res.status_code == 200 and res.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(res.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    assert len(rows) == len(screen) >= 2
    assert [[_norm(c) for c in r] for r in rows[1:]] == [[_norm(c) for c in r] for r in screen[1:]]
    headers = [h.replace(" (EUR)", "") for h in rows[0]]
    assert headers == [" ".join(h.split()).replace(" (EUR)", "") for h in screen[0]]


def test_csv_of_products_has_the_figures_of_the_test_data(client, login, org, data):
    login(client, Role.OWNER)
    res = client.get(f"/analytics/export/produits.csv?{PERIOD}")
    rows = list(csv.DictReader(io.StringIO(res.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    by_sku = {r["SKU"]: r for r in rows}
    assert by_sku["MUG"]["Marge nette (EUR)"] == "59,50" and by_sku["TEE"]["Marge nette (EUR)"] == "46,25"
    assert by_sku["TEE"]["Taux de retour"] == "33,3"


# ----------------------------------------------------------------------------- pricing helper
def test_pricing_formula():
    # the merchant guide's example: cost 10, Amazon 15 %, parcel 4, margin 30 %, no VAT
    assert an.price_for_margin(cost=Decimal(10), shipping=Decimal(4), fixed=Decimal(0), fee_pct=Decimal(15),
                               margin_pct=Decimal(30), vat_pct=Decimal(0)) == Decimal("25.46")  # 14 / 0.55
    assert an.margin_at(Decimal(25), cost=Decimal(10), shipping=Decimal(4), fixed=Decimal(0), fee_pct=Decimal(15),
                        vat_pct=Decimal(0)) == (Decimal("7.25"), Decimal("29.0"))
    # with 20 % VAT: P = 1.2 × 14 / (1 − 0.30 − 0.15 × 1.2) = 16.8 / 0.52 = 32.307… → 32.31
    price = an.price_for_margin(cost=Decimal(10), shipping=Decimal(4), fixed=Decimal(0), fee_pct=Decimal(15),
                                margin_pct=Decimal(30), vat_pct=Decimal(20))
    assert price == Decimal("32.31")
    margin, pct = an.margin_at(price, cost=Decimal(10), shipping=Decimal(4), fixed=Decimal(0), fee_pct=Decimal(15),
                               vat_pct=Decimal(20))
    assert margin == Decimal("8.08") and pct == Decimal("30.0")  # 32.31 / 1.2 − 14 − 4.8465
    # with fixed fees (1.40 % + 0.25): P = (10 + 4 + 0.25) / (1 − 0.30 − 0.014) = 20.772… → 20.78
    assert an.price_for_margin(cost=Decimal(10), shipping=Decimal(4), fixed=Decimal("0.25"), fee_pct=Decimal("1.4"),
                               margin_pct=Decimal(30), vat_pct=Decimal(0)) == Decimal("20.78")
    # fees and margin at 100 % of the price or more: no price can do it
    assert an.price_for_margin(cost=Decimal(10), shipping=Decimal(0), fixed=Decimal(0), fee_pct=Decimal(60),
                               margin_pct=Decimal(40), vat_pct=Decimal(0)) is None


def test_pricing_page_uses_the_fee_schedule(client, login, org, data):
    login(client, Role.STAFF)
    page = text(client.get("/analytics/pricing?cost=10&shipping=4&margin_pct=30&vat_pct=0&price=25"))
    row = re.search(r"Cdiscount</a></td>(.*?)</tr>", page, re.S).group(1)
    assert "15 %" in row and "25,46" in row and "7,25" in row
    # a SKU brings its cost price and its tag (textile: 5 % on cdiscount)
    page = text(client.get("/analytics/pricing?sku=TEE&shipping=0&margin_pct=20&vat_pct=0"))
    row = re.search(r"Cdiscount</a></td>(.*?)</tr>", page, re.S).group(1)
    assert "5 %" in row and "10,67" in row  # 8 / (1 − 0.20 − 0.05)


# ----------------------------------------------------------------------------- suggested actions
def fig(**kw: str) -> an.Figures:
    values = {k: Decimal(v) for k, v in kw.items() if k not in ("units", "returned_units")}
    return an.Figures(currency="EUR", units=int(kw.get("units", 1)), returned_units=int(kw.get("returned_units", 0)),
                      **values)


def test_suggested_actions():
    # loses 2.00 on 10 units at 10.00 each with 15 % fees: +0.2353 → 0.30 € (≤ 25 % of the price)
    raise_price = an.suggest(1, "amazon", fig(units="10", revenue="100", product_cost="60", fees="15",
                                              shipping="27"), Decimal(15), [])
    assert (raise_price.action, raise_price.amount) == ("price", Decimal("0.3"))
    # a large loss, profitable elsewhere: take it off this channel
    delist = an.suggest(1, "cdiscount", fig(units="1", revenue="20", product_cost="10", fees="3", shipping="15"),
                        Decimal(15), ["shopify"])
    assert delist.action == "delist"
    # the same loss, nowhere profitable: the purchase cost is the problem
    assert an.suggest(1, "cdiscount", fig(units="1", revenue="20", product_cost="10", fees="3", shipping="15"),
                      Decimal(15), []).action == "cost"
    # bought dearer than it sells
    assert an.suggest(1, "amazon", fig(units="1", revenue="10", product_cost="12", fees="1"), Decimal(10),
                      ["shopify"]).action == "cost"
    # returns are most of the loss
    assert an.suggest(1, "amazon", fig(units="10", revenue="100", product_cost="50", fees="10", shipping="10",
                                       returns="40", returned_units="3"), Decimal(10), []).action == "returns"


def test_losers_page_suggests_an_action(client, login, org, data):
    db.session.get(Shipment, db.session.scalar(select(Shipment.id).where(
        Shipment.order_id == data["orders"][1].id))).cost = Decimal("90.00")
    db.session.commit()
    run_jobs()
    login(client, Role.OWNER)
    page = text(client.get(f"/analytics/losers?{PERIOD}"))
    assert "Produits non rentables" in page
    assert re.search(r"Augmenter le prix de|Retirer de|Revoir le coût d'achat|Réduire les retours", page)


# ----------------------------------------------------------------------------- fees and rates pages
def test_default_fee_schedule_is_seeded_and_editable(client, login, org, shop_factory):
    shop_factory("beta")
    db.session.add(Shop(organization_id=org.id, addon="ebay", name="eBay"))
    db.session.commit()
    login(client, Role.OWNER)
    page = text(client.get("/analytics/fees"))
    assert "valeur par défaut modifiable" in page and "12 %" in page  # eBay: top of 10–12 %
    rule = db.session.scalar(select(AnalyticsFeeRule).where(AnalyticsFeeRule.organization_id == org.id,
                                                            AnalyticsFeeRule.channel == "ebay"))
    assert rule.commission_pct == Decimal("12") and rule.is_default
    token = csrf_token(client, f"/analytics/fees/{rule.id}")
    res = client.post(f"/analytics/fees/{rule.id}", data={
        "csrf_token": token, "channel": "ebay", "category": "*", "commission_pct": "10,5", "payment_pct": "0",
        "fixed_per_order": "0", "payment_fixed": "0", "currency": "EUR", "source": "contrat 2026"})
    assert res.status_code == 302
    db.session.expire_all()
    rule = db.session.get(AnalyticsFeeRule, rule.id)
    assert rule.commission_pct == Decimal("10.5") and not rule.is_default
    assert db.session.scalar(select(OutboxJob.job_id).where(OutboxJob.func == "core.analytics.rebuild")) == \
        f"analytics-rebuild-{org.id}"


def test_fee_defaults_cover_the_public_ranges():
    assert an.default_fees_for("amazon")["commission_pct"] == "15"
    shop = an.default_fees_for("shopify")
    assert (shop["commission_pct"], shop["payment_pct"], shop["payment_fixed"]) == ("0", "1.4", "0.25")
    assert "Shopify Payments" in shop["source"] and "1,4 % + 0,25 €" in shop["source"]
    assert an.default_fees_for("amazon_fr")["commission_pct"] == "15"
    assert an.default_fees_for("some_partner")["commission_pct"] == "0"


def test_rates_page_seeds_and_edits(client, login, org):
    login(client, Role.STAFF)
    page = text(client.get("/analytics/rates"))
    for currency in ("GBP", "PLN", "SEK", "USD", "CHF"):
        assert currency in page
    assert "valeur d’amorçage à mettre à jour" in page and "Banque centrale européenne" in page
    token = csrf_token(client, "/analytics/rates/new")
    res = client.post("/analytics/rates/new", data={"csrf_token": token, "currency": "gbp", "day": "2026-11-02",
                                                    "rate": "0,8712", "source": "BCE"})
    assert res.status_code == 302
    row = db.session.scalar(select(FxRate).where(FxRate.organization_id == org.id, FxRate.day == date(2026, 11, 2)))
    assert (row.currency, row.rate) == ("GBP", Decimal("0.871200"))


# ----------------------------------------------------------------------------- pages, roles, tenants
PAGES = ["/analytics/", "/analytics", "/analytics/products", "/analytics/customers", "/analytics/returns",
         "/analytics/preparation", "/analytics/losers", "/analytics/pricing", "/analytics/pricing?cost=12",
         "/analytics/fees", "/analytics/fees/new", "/analytics/rates", "/analytics/rates/new", "/returns",
         "/analytics/export/produits.csv", "/analytics/export/canaux.csv", "/analytics/export/evolution.csv"]


@pytest.mark.parametrize("role", ["owner", "staff"])
def test_every_page_renders_for_managers(client, login, org, data, role):
    login(client, role)
    rule = db.session.scalar(select(AnalyticsFeeRule.id).where(AnalyticsFeeRule.organization_id == org.id))
    rate = db.session.scalar(select(FxRate.id).where(FxRate.organization_id == org.id))
    for url in PAGES + [f"{p}?{PERIOD}&channel=beta&shop={data['beta'].id}&warehouse={data['wh'].id}"
                        for p in PAGES[:7]] + [f"/analytics/fees/{rule}", f"/analytics/rates/{rate}",
                                               f"/returns/{data['return'].id}", f"/orders/{data['orders'][1].id}"]:
        res = client.get(url)
        assert res.status_code == 200, (url, res.status_code)


def test_the_menu_shows_where_the_merchant_is(client, login, org, data):
    """Every analytics page lights "Analyses" in the menu; returns belong with the orders."""
    login(client, Role.OWNER)
    for url, entry in [("/analytics/products", "Analyses"), ("/analytics/fees", "Analyses"),
                       ("/analytics/pricing", "Analyses"), ("/returns", "Commandes"),
                       (f"/returns/{data['return'].id}", "Commandes")]:
        current = re.findall(r'class="active" aria-current="page">([^<]+)', text(client.get(url)))
        assert [c.strip() for c in current] == [entry], url


def test_english_pages(client, login, org, data):
    login(client, Role.OWNER)
    page = text(client.get(f"/analytics/?{PERIOD}&lang=en"))
    assert "How many orders?" in page and "Net margin" in page


def test_picker_is_refused(client, login, org, data):
    login(client, Role.PICKER)
    for url in PAGES[:-3] + ["/analytics/export/produits.csv", f"/returns/{data['return'].id}"]:
        assert client.get(url).status_code == 403, url


def test_another_organization_never_in_the_figures(client, login, org, data, make_org, make_user):
    other = make_org("Autre boutique")
    shop = Shop(organization_id=other.id, addon="beta", name="Autre")
    db.session.add(shop)
    db.session.flush()
    v = variant(other.id, "MUG")
    v.cost_price = Decimal("1.00")
    make_order(other.id, shop, "X-1", [(v, 10, "999.00")], placed=MARCH)
    foreign_rule = fee_rule(other.id, "beta", commission="1")
    foreign_rate = FxRate(organization_id=other.id, currency="USD", day=date(2026, 1, 1), rate=Decimal("1.1"))
    db.session.add(foreign_rate)
    db.session.commit()
    run_jobs()
    assert an.overview(org.id, "EUR", F).revenue == Decimal("250.00")
    assert an.overview(other.id, "EUR", F).revenue == Decimal("9990.00")
    login(client, Role.OWNER)
    for url in (f"/analytics/?{PERIOD}", f"/analytics/products?{PERIOD}", f"/analytics/customers?{PERIOD}",
                f"/analytics/export/produits.csv?{PERIOD}"):
        assert "9 990" not in text(client.get(url)) and "9990" not in text(client.get(url)), url
    for url in (f"/analytics/fees/{foreign_rule.id}", f"/analytics/rates/{foreign_rate.id}"):
        assert client.get(url).status_code == 404, url
    token = csrf_token(client, "/analytics/fees")
    assert client.post(f"/analytics/fees/{foreign_rule.id}/delete", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/analytics/rates/{foreign_rate.id}/delete", data={"csrf_token": token}).status_code == 404
    # another organization's shop id as a filter is ignored, not obeyed
    page = text(client.get(f"/analytics/?{PERIOD}&shop={shop.id}"))
    assert "250,00" in page
