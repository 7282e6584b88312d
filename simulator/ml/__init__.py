"""Measurement on a real host with torch and timm (the optional ``ml`` extra).

Nothing here is imported by ``import simulator`` or the CLI's start-up: torch and timm load only when a
command that measures actually runs, so the simulator stays usable without them.
"""
