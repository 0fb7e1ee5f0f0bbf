"""One command per shipped model: ``python -m ganlib.recipes.<name>`` retrains it
and rewrites its weights and model card under ``ganlib/weights/``."""
