"""Route groups of the HTTP API, one module per Mastra resource."""
