"""Chronopost carrier: labels (ShippingServiceWS), tracking and cancellation (TrackingServiceWS)."""
