r"""AutoML-Zero's nonlinear test: repair a damaged 2-layer network.

    python experiments/search.py --config=configs/automl_zero_nonlinear.py --workdir=runs/az_nonlinear

The start is the paper's hand-written 2-layer ReLU network trained by
backpropagation with its two weight initialisations removed from ``Setup``
(``spaces/program/programs.py``: ``damaged_neural_net``): all weights start at
zero, so only the output bias learns. Evolution may insert, remove, trade and
alter ``Setup`` instructions drawn from the Gaussian set ops (the paper's
``run_integration_test_nonlinear.sh``: memory of 5 scalars, 9 vectors, 2
matrices, ``F = 4``; mutation probability 1; population 1000, tournaments of
10) on 2-layer network regression tasks of 1000 + 100 examples. A repaired
program draws the weights again and trains the whole network by backpropagation.
"""

from pathways_jax.spaces.program.components import program_config


def get_config():
    config = program_config()
    config.space.num_scalars = 5
    config.space.num_vectors = 9
    config.space.num_matrices = 2
    config.space.setup_ops = ("VECTOR_GAUSSIAN_SET", "MATRIX_GAUSSIAN_SET")
    config.space.predict_ops = ()
    config.space.learn_ops = ()
    config.space.initial = "program"
    config.space.initial_program = "damaged_neural_net"
    config.space.min_sizes = (1, 5, 11)
    config.space.max_sizes = (4, 5, 11)
    config.space.mutation_types = (
        "alter_param",
        "insert_instruction",
        "remove_instruction",
        "trade_instruction",
    )
    config.space.mutation_probability = 1.0
    tasks = config.evaluator.tasks
    tasks.kind = "nonlinear"
    tasks.num_search, tasks.num_train, tasks.num_valid = 1, 1000, 100
    tasks.num_selection, tasks.num_final = 10, 10
    config.strategy.population_size = 1000
    config.parallel.round_size = 250
    config.budget.evaluations = 20_000
    return config
