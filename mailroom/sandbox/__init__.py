"""Kept only so the documented ``python -m mailroom.sandbox up ...`` keeps working (people and scripts use it).

The sandbox itself is the package ``mailroom_sandbox`` beside the product; import from there. Nothing else lives
here: ``mailroom`` never imports the sandbox, this forwarding entry point (``__main__``) aside.
"""
