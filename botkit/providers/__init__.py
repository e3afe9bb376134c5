"""Adapters around vendor libraries, the only modules that import them (`chroma`, `openai`, `embedders`), and
`memory`, an in-memory `VectorStore` for tests."""
