"""The pieces of the input sweep (tests/test_sweep.py): a crawler that reads the pages' links
and forms, the bad values, and the resolver of another organization's ids per route."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

from sqlalchemy import select

from core.extensions import db

#: values that must never crash a page: beyond every integer column, negative, Unicode digits,
#: non-finite numbers, impossible dates, NUL bytes, a very long text
BAD_VALUES = ["99999999999999999999", "-1", "²", "١٢", "1e400", "Infinity", "NaN", "9999-12-31",
              "2026-02-30", "\x00", "x" * 5000]
#: query parameters the list pages read
QUERY_KEYS = ("page", "from", "to", "year", "month", "q", "status", "shop", "channel", "warehouse",
              "per_page", "sort", "days", "date", "day", "stage", "lang", "currency")

BINARY = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8
CSV_FILES = {
    "binary.png": BINARY,
    "nul.csv": b"sku;quantity\nMUG\x00;3\n",
    "digits.csv": "sku;quantity;cost;bin;tracking_number;po_reference\n"
                  "TSCB-BLA-S;²;1e400;A-²;²;²\nTSCB-BLA-M;99999999999999999999;-Infinity;A-01-01;1;1\n"
                  "supplier_sku;NaN;NaN;x;y;z\n".encode(),
    "latin1.csv": "sku;quantité\nMUG;\xe9\n".encode("latin-1"),
    "empty.csv": b"",
}


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)


class PageParser(HTMLParser):
    def __init__(self, page_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.links: set[str] = set()
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href", "").startswith("/"):
            self.links.add(a["href"])
        elif tag == "form":
            self._form = Form(a.get("action") or self.page_url, (a.get("method") or "get").lower())
            self.forms.append(self._form)
        elif self._form is not None and tag in ("input", "button") and a.get("name"):
            kind = (a.get("type") or "text").lower()
            if kind == "file":
                self._form.files.append(a["name"])
            elif kind in ("checkbox", "radio"):
                if "checked" in a or a["name"] not in self._form.fields:
                    self._form.fields[a["name"]] = a.get("value", "y")
            elif tag == "input" or a.get("value"):
                self._form.fields.setdefault(a["name"], a.get("value", ""))
        elif self._form is not None and tag == "select" and a.get("name"):
            self._select = a["name"]
        elif self._form is not None and tag == "option" and self._select:
            if self._select not in self._form.fields or "selected" in a:
                self._form.fields[self._select] = a.get("value", "")
        elif self._form is not None and tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self._form.fields.setdefault(a["name"], "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._form is not None and self._textarea:
            self._form.fields[self._textarea] += data


def path_of(url: str) -> str:
    return urlsplit(url).path


def query_of(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


# ----------------------------------------------------------------------------- other tenant
def _models():
    from addons.dropship.models import DropshipPurchaseOrder, DropshipSupplier, DropshipSupplierProduct
    from addons.sendcloud.models import SendcloudShippingRule
    from core import models as m

    return {
        ("", "order_id"): m.Order, ("", "shop_id"): m.Shop, ("", "product_id"): m.Product,
        ("", "variant_id"): m.Variant, ("", "shipment_id"): m.Shipment, ("", "wave_id"): m.PickWave,
        ("", "member_id"): m.PickWaveOrder, ("", "return_id"): m.Return, ("", "pool_id"): m.StockPool,
        ("", "rate_id"): m.FxRate, ("", "entry_id"): m.SyncLog,
        ("/analytics/fees", "rule_id"): m.AnalyticsFeeRule, ("/stock/channel-rules", "rule_id"): m.ChannelStockRule,
        ("/stock/routing", "rule_id"): m.RoutingRule, ("/apps/sendcloud", "rule_id"): SendcloudShippingRule,
        ("", "supplier_id"): DropshipSupplier, ("", "link_id"): DropshipSupplierProduct,
        ("", "po_id"): DropshipPurchaseOrder,
    }


def model_for(rule_path: str, arg: str):
    models = _models()
    for (prefix, name), model in sorted(models.items(), key=lambda kv: -len(kv[0][0])):
        if name == arg and rule_path.startswith(prefix):
            return model
    return None


def owned_ids(model, org_id: int) -> list[int]:
    from core import models as m

    if hasattr(model, "organization_id"):
        query = select(model.id).where(model.organization_id == org_id)
    elif model is m.Shipment or model is m.Return:
        query = select(model.id).join(m.Order, m.Order.id == model.order_id).where(m.Order.organization_id == org_id)
    elif model is m.PickWaveOrder:
        query = select(model.id).join(m.PickWave, m.PickWave.id == model.wave_id).where(
            m.PickWave.organization_id == org_id)
    elif hasattr(model, "supplier_id"):
        from addons.dropship.models import DropshipSupplier

        query = select(model.id).join(DropshipSupplier, DropshipSupplier.id == model.supplier_id).where(
            DropshipSupplier.organization_id == org_id)
    else:
        return []
    return list(db.session.scalars(query.order_by(model.id).limit(3)))


def fingerprint(org_id: int) -> str:
    """A digest of what another organization owns: any write to it changes the digest."""
    from core import models as m

    rows = []
    for model in (m.Shop, m.ShopAddon, m.Product, m.Variant, m.Warehouse, m.Order, m.Customer, m.StockPool,
                  m.ChannelStockRule, m.RoutingRule, m.FxRate, m.AnalyticsFeeRule, m.PickWave, m.SkuAlias):
        table = model.__table__
        if "organization_id" in table.c:
            query = select(table).where(table.c.organization_id == org_id)
        elif "shop_id" in table.c:
            query = select(table).where(table.c.shop_id.in_(select(m.Shop.id).where(m.Shop.organization_id == org_id)))
        else:
            continue
        for row in db.session.execute(query.order_by(*table.primary_key.columns)):
            rows.append((table.name, [str(v) for k, v in row._mapping.items()
                                      if k not in ("updated_at", "last_sync_at", "settings", "secrets")]))
    levels = db.session.execute(select(m.StockLevel.id, m.StockLevel.on_hand, m.StockLevel.reserved)
                                .join(m.Warehouse, m.Warehouse.id == m.StockLevel.warehouse_id)
                                .where(m.Warehouse.organization_id == org_id).order_by(m.StockLevel.id)).all()
    rows.append(("stock_level", [list(map(str, r)) for r in levels]))
    return hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()
