"""Developer tools that read the captured resource graph; not part of the deployed program."""
