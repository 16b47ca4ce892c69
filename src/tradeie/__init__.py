__version__ = "0.1.0"


def __getattr__(name: str):
    """Lazy top-level names, so that ``import tradeie`` stays light (no torch/transformers)."""
    if name == "Pipeline":
        from tradeie.predict import Pipeline

        return Pipeline
    raise AttributeError(f"module 'tradeie' has no attribute {name!r}")
