"""Stands in as ``__main__``'s file in a process started with ``python -c`` (see
``quality/__init__.py``); run as a child's main module, it does nothing."""
