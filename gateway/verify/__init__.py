"""Identity verification against the population registry (Dukcapil, docs/domain.md §7).

After a roster is applied, the workers it added or whose identity changed are asked about,
in the background and never inside the roster's transaction (`queue.py`, or `jamsos verify
run` from a scheduler); each answer is stored per worker (store/verification.py). `gate.py`
tells delivery which mutations wait. docs/verification.md is the guide.
"""
