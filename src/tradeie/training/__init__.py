"""Training: NER and relation models, baselines, augmentation, configs and model cards.

Heavy libraries (torch, transformers) are imported inside the functions that
need them, so importing this package stays light.
"""
