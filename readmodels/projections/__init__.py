"""The read views, one module each; `readmodels/registry.py` lists the ones the service runs."""
