"""AWS Glue Data Catalog over moto's Glue: databases, tables, partitions.

- ``actions.py``: a catalog request -> the glue:* permissions it needs, on the
  catalog, database and table ARNs AWS evaluates (moto stores and answers).
"""
from labkit.emulator.services import Service

SERVICE = Service(("glue",), "json")
