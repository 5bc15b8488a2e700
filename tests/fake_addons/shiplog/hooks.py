"""Records what a channel hears when a parcel leaves: the tracking it would push."""
from core import hookimpl

#: (shop id, order id, carrier, tracking number, tracking url) per shipping_shipment_shipped call
SHIPPED: list[tuple[int, int, str, str | None, str | None]] = []


@hookimpl
def shipping_shipment_shipped(shop, order, shipment):
    SHIPPED.append((shop.id, order.id, shipment.carrier, shipment.tracking_number, shipment.tracking_url))

#: what the carrier says of a tracking number (shipping_track), and the numbers asked about
TRACK: dict[str, str] = {}
ASKED: list[str] = []
#: tracking numbers whose carrier API fails
FAIL: set[str] = set()


@hookimpl
def shipping_track(shop, shipment):
    if shipment.carrier != "shiplog":
        return None
    ASKED.append(shipment.tracking_number)
    if shipment.tracking_number in FAIL:
        raise RuntimeError("carrier API down")
    return TRACK.get(shipment.tracking_number)
