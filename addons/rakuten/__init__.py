"""Rakuten France (ex-PriceMinister) seller web services: sales to accept item by item,
tracking, stock by inventory file import and its report."""
