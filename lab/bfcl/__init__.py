"""BFCL (the Berkeley Function Calling Leaderboard, package ``bfcl-eval``) inside the lab.

``checker`` imports BFCL's own checkers without its vendor SDKs, ``schema`` maps BFCL function
docs to JSON Schema, ``importer`` writes BFCL test categories as lab scenario packs, and
``agreement`` / ``perturb`` measure how often the lab's scorer and BFCL's checker agree.
Nothing in ``lab/`` outside this package imports ``bfcl_eval``.
"""
