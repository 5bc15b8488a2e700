"""Dropshipping: suppliers who ship your orders receive purchase orders by e-mail or webhook."""
