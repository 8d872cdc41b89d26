"""Typed configuration for ranktrace experiments (dataclasses registered with Hydra)."""
