"""The top floor: the ``convene`` command (:mod:`console.cli`) and the dev stack it starts (:mod:`console.dev`).

Everything below may be imported from here; nothing below imports this package (``tests/unit/test_floors.py``).
"""
