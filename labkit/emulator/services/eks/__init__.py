"""eks: aws-like lifecycle over moto (see labkit.emulator.aws_like)."""
