"""STS in the emulator.

- actions.py: sts:AssumeRole decided on the caller's policies and the role's trust policy
"""
