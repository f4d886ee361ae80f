"""Helpers shared by the test modules (package tables, runs, independent checks)."""
