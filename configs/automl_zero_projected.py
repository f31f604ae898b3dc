r"""AutoML-Zero's projected binary classification, on MNIST-1D class pairs.

    python experiments/search.py --config=configs/automl_zero_projected.py --workdir=runs/az_projected

The paper projects pairs of CIFAR-10 classes to 16 dimensions by random
matrices; here each task is a pair of MNIST-1D classes (bundled offline),
projected to ``F = 16`` by a random Gaussian matrix and standardised, labels
0 and 1, the prediction a sigmoid of ``s1`` scored by accuracy. As the paper's
``run_integration_test_projected_binary_datasets.sh``, the search starts from
the hand-written 2-layer network and may alter the arguments of its
instructions; here the network's own ops and a few more may also be drawn
into ``Learn`` and ``Predict`` (``randomize_instruction``), so evolution can
change the algorithm, not only its initialisation. Any op of the paper can be
allowed (``config.space.learn_ops``); each one allowed adds to the cost of
every instruction.
"""

from pathways_jax.spaces.program.components import program_config

NETWORK_OPS = (
    "SCALAR_SUM",
    "SCALAR_DIFF",
    "SCALAR_PRODUCT",
    "SCALAR_VECTOR_PRODUCT",
    "VECTOR_SUM",
    "VECTOR_DIFF",
    "VECTOR_PRODUCT",
    "VECTOR_MAX",
    "VECTOR_HEAVISIDE",
    "VECTOR_INNER_PRODUCT",
    "VECTOR_OUTER_PRODUCT",
    "MATRIX_VECTOR_PRODUCT",
    "MATRIX_SUM",
    "SCALAR_MATRIX_PRODUCT",
)


def get_config():
    config = program_config()
    config.space.feature_size = 16
    config.space.num_scalars = 5
    config.space.num_vectors = 9
    config.space.num_matrices = 2
    config.space.classification = True
    config.space.setup_ops = ("VECTOR_GAUSSIAN_SET", "MATRIX_GAUSSIAN_SET", "SCALAR_CONST_SET")
    config.space.predict_ops = NETWORK_OPS
    config.space.learn_ops = NETWORK_OPS
    config.space.initial = "program"
    config.space.initial_program = "neural_net"
    config.space.mutation_types = ("alter_param", "randomize_instruction")
    config.space.mutation_probability = 0.9
    tasks = config.evaluator.tasks
    tasks.kind = "projected"
    tasks.dataset = "mnist1d"
    tasks.feature_size = 16
    tasks.num_search, tasks.num_train, tasks.num_valid = 4, 400, 100
    tasks.num_selection, tasks.num_final = 10, 20
    tasks.final_num_train, tasks.final_num_valid = 400, 100
    config.strategy.population_size = 100
    config.parallel.round_size = 50
    config.evaluator.chunk_size = 50
    config.budget.evaluations = 2_000
    return config
