"""Publishing's own stores: the private citizen store (``PANTAU_CITIZEN_DATABASE_URL``), written by
the portal and the mailer. Nothing here ever reaches the index, a feed or a public page."""
