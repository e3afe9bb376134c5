"""Adapters around vendor libraries; the only modules that import them."""
