"""In-memory stand-ins for the store, for fast tests of the pipeline stages."""
