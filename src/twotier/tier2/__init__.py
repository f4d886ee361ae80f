"""Tier-2: the composite portfolio manager (RULES.md sections 4 to 8)."""
