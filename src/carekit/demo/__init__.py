"""`carekit demo`: a deterministic, realistic demo workspace (an online clothing shop with delivery).

Each context owns its demo data in its own `demo.py` module with `load(ctx: DemoContext)` (see
`carekit.demo.public`); this package only discovers and runs them, accounts first.
"""
