"""Loopback servers that speak each network's real protocol, with fault injection."""
