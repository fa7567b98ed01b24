"""In-memory fakes of the store's protocols: the pipeline stages run on them without a database."""
