"""Department-side client: request signing, the pika ``DepartmentClient`` with a store-and-forward
spool, and the ``python -m pantau_intake.client`` CLI. Importing this package imports nothing
heavy; ``pantau_intake.client.department`` needs pika."""
