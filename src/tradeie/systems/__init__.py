"""NER and relation systems behind one interface (:class:`tradeie.systems.base.System`)."""
