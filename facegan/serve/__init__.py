"""`facegan serve`: the web page (app.py), the work behind it (engine.py) and the page itself (static/)."""
