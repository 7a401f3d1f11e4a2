"""Shared test helpers (localsentry process control, unique names, browser lookup)."""
