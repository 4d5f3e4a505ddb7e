"""The single-machine store of a batch: a SQLite journal beside the results file.

``_journal`` (the journal, its run lock, and ``JournalWriter``, the SQLite ``JobStore``) and
``_recovery`` (opening the journal for a run, and rebuilding a lost one from the videos
that carry the batch id). Where its files live is ``batch._layout``.
"""
