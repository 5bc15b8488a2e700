"""Records what a channel hears when a parcel leaves: the tracking it would push."""
from core import hookimpl

#: (shop id, order id, carrier, tracking number, tracking url) per shipping_shipment_shipped call
SHIPPED: list[tuple[int, int, str, str | None, str | None]] = []


@hookimpl
def shipping_shipment_shipped(shop, order, shipment):
    SHIPPED.append((shop.id, order.id, shipment.carrier, shipment.tracking_number, shipment.tracking_url))
