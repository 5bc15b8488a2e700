"""Colissimo (La Poste): labels and returns, pick-up points, tracking."""
