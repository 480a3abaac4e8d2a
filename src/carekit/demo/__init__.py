"""`carekit demo`: a deterministic, realistic demo workspace (an online clothing shop with delivery).

This package is a composition root like `config`: a loader seeds every context through its services,
so it may import them. Later contexts add their data by providing a `demo.py` module with
`load(ctx: DemoContext)`; `carekit demo` discovers and runs them after the accounts data, in app order.
"""
