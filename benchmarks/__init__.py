"""Benchmarks and the cost model behind `make bench`; not part of the deployed program."""
