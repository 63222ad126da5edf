"""Runs the real program in-process under Pulumi's mock runtime and records what it registers.

Shared by the unit tests, the emulator (local/), the benchmark and the diagram generator, so
they all look at the same resource graph. Not part of the deployed program.
"""
