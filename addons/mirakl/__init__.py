"""Mirakl channel: the marketplaces run on the Mirakl Marketplace Platform, one shop per operator."""
