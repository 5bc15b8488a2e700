"""Dropshipping: suppliers ship some lines of your orders to your customers; they receive purchase
orders by e-mail or signed webhook and send the tracking back."""
