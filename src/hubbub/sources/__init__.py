"""Sources: async iterators of raw network items (simulator, replay, later the
network connectors). See ``base`` for the shape and ``spec`` for the
``sim:``/``replay:`` strings the CLI and settings use."""

from hubbub.sources.base import RawItem, Source
from hubbub.sources.spec import source_from_spec

__all__ = ["RawItem", "Source", "source_from_spec"]
