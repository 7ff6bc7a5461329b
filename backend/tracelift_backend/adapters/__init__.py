"""Adapters that let other trainers (verl) use the engine's reward service (docs/training.md)."""
