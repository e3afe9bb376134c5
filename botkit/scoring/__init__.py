"""The parts of the retriever's scorer: character n-gram TF-IDF, softmax regression, background refits, the fusion."""
