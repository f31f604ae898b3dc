r"""AutoML-Zero's demo: rediscover linear regression from scratch.

    python experiments/search.py --config=configs/automl_zero_linear.py --workdir=runs/az_linear

The paper's demo settings (Real et al. 2020, ``run_demo.sh``): memory of 4
scalars, 3 vectors and 1 matrix of size 4; Setup/Predict/Learn of 10, 2 and 8
random instructions over six ops (scalar constant, difference and product,
vector inner product and sum, scalar-vector product); regularized evolution
with population 1000, tournaments of 10, mutation probability 0.9 (altering
one argument, one instruction or a whole function); 10 linear regression
search tasks of 100 + 100 examples; stop when a program's fitness reaches
0.9999; the finalists compared on 100 selection tasks, the chosen one
evaluated once on 100 unseen final tasks (1000 + 100 examples each).
Functional-equivalence caching of genes and of behaviour is on.
"""

from pathways_jax.spaces.program.components import program_config


def get_config():
    config = program_config()
    config.evaluator.tasks.kind = "linear"
    config.budget.evaluations = 2_000_000
    config.budget.target_fitness = 0.9999
    return config
