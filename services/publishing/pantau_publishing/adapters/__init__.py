"""Publishing's adapters, the implementations of ``service.ports``: the Elasticsearch index
(``search/``), the private citizen store (``citizen_store``, ``survey_store``:
``PANTAU_CITIZEN_DATABASE_URL``, written by the portal and the mailer — nothing there ever reaches
the index, a feed or a public page), the SMTP relay (``smtp``) and tracking's transparency log,
read-only (``transparency_log``). Only this package and the process folders import
Elasticsearch, SQLAlchemy or ``smtplib``."""
