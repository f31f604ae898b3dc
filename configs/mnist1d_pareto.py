r"""NSGA-II on MNIST-1D: validation accuracy against parameter count.

    python experiments/search.py --config=configs/mnist1d_pareto.py --workdir=runs/mnist1d_pareto

Writes the final Pareto front of every evaluated pathway to
``pareto_front.json`` and ``plots/pareto_front.png`` in the workdir, and the
population's hypervolume per round to ``metrics.jsonl``. Add ``'flops'`` to
``strategy.objectives`` for a third objective.
"""

import importlib.util
import os


def get_config():
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mnist1d.py")
    spec = importlib.util.spec_from_file_location("mnist1d_config", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    config = module.get_config()
    config.strategy.name = "nsga2"
    config.strategy.objectives = ("fitness", "params")
    config.strategy.population_size = 24
    config.budget.evaluations = 160
    return config
