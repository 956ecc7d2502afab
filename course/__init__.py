"""Shared code for the system design course notebooks.

Every notebook imports what it needs from here instead of pasting a copy. The submodules are:
``course.seeding`` (seeded random generators and child seeds that replay across processes),
``course.sim`` (a small discrete-event simulation core on SimPy: a traced ``Simulation``,
Poisson arrivals and a multi-server queueing ``Station``), ``course.data`` (paths to the files in
the top-level ``data/`` folder, checked against the sha256 hashes in ``data/manifest.json``),
``course.plotting`` (one figure style; every figure has a title and labelled axes),
``course.environment`` (the environment check that opens every release notebook) and
``course.latency`` (the "latency numbers every programmer should know" table and its chart).
Importing ``course`` itself loads none of them, so it stays fast and does not pull in matplotlib
or SimPy.
"""

__version__ = "0.1.0"
