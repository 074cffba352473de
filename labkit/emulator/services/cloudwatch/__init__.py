"""CloudWatch in the emulator.

- behaviour.py: alarm evaluation in simulated time, driving Auto Scaling
"""
