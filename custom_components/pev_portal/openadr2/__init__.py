"""PEV Portal as an OpenADR 2.0b VEN: the protocol's events, responses and reports.

No Home Assistant imports (like ``openadr/``). The messages themselves are built, signed,
validated against the 2.0b XML schema and parsed by the ``openleadr`` package
(``openleadr.messaging``); this package decides what they mean for the premise:

* ``events``: a 2.0b event (as ``openleadr.messaging.parse_message`` gives it) -> the
  :class:`~..openadr.models.Event` the 3.1 link feeds into the one
  :class:`~..openadr.timeline.Timeline` (prices, caps, SIMPLE levels, targets, randomization),
  so the planner and the charger never know which protocol spoke; the event book keeps the
  newest modification of each event and drops cancelled and completed ones.
* ``opt``: which events need an ``oadrCreatedEvent`` and whether it says optIn or optOut.
* ``reports``: the registered reports (``METADATA_TELEMETRY_USAGE`` / ``_STATUS``, one
  resource per vehicle: its PEV ID) and the ``TELEMETRY_USAGE`` reports of a session.
* ``transport``: the VEN's HTTP exchanges (simpleHttp, pull model) on a given aiohttp
  session, XML work handed to a blocking-work runner (the executor in Home Assistant).
"""
