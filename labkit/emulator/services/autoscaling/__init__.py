"""EC2 Auto Scaling in the emulator.

- behaviour.py: zone spread, capacity validation, target tracking, target group sync
"""
