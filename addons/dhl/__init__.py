"""DHL Express: MyDHL API labels, rates, pickups and customs; Shipment Tracking – Unified."""
