"""The core: spec reading and validation, the graph of one training step, rounding, training, keys.

Every other phase may import from here; nothing here imports a later phase.
"""
