"""Paper reproductions, each a library its experiment command runs.

- :mod:`.regularized_evolution`: Real et al. 2019, aging against non-aging
  evolution and random search (``experiments/reproduce_regularized_evolution.py``).
- :mod:`.pathnet` (and its report, :mod:`.pathnet_report`): Fernando et al.
  2017, PathNet transfer between binary tasks (``experiments/reproduce_pathnet.py``).
"""
