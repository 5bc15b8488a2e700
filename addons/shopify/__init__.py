"""Shopify channel: a shop connected through the Shopify Admin GraphQL API."""
