"""The pipeline: sources → normalise → store → publish, over batches.

See ``runner.Pipeline`` for the lifecycle, ``stages`` for the stages and
``bus`` for how live posts reach rooms."""

from hubbub.pipeline.bus import Bus, LivePost, MemoryBus, Subscription
from hubbub.pipeline.runner import Pipeline, SourceHealth
from hubbub.pipeline.stages import Batch, Normalise, Publish, Stage, StoreStage

__all__ = [
    "Batch",
    "Bus",
    "LivePost",
    "MemoryBus",
    "Normalise",
    "Pipeline",
    "Publish",
    "SourceHealth",
    "Stage",
    "StoreStage",
    "Subscription",
]
