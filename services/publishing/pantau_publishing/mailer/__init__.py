"""The mailer (nameko): tells e-mail followers of a case when its public status changes.

Consumes ``publishing.follow`` (bound to ``pantau.cases``: ``case.updated``, ``case.overdue``)
as the ``pantau-mailer`` RabbitMQ user, queues update mails in the citizen store's outbox, and
sends the outbox (update and confirmation mails) through SMTP on a timer; another timer purges
followers past their retention. Use cases: ``pantau_publishing.service.follow``.
"""
