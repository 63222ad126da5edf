"""The cicd-pipeline components: one module per AWS concern, composed by __main__.py."""
