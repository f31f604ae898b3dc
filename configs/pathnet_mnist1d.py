r"""PathNet on binary MNIST-1D tasks, with the paper's settings.

    python experiments/search.py --config=configs/pathnet_mnist1d.py --workdir=runs/pathnet

L=3 layers of M=10 dense modules of 20 ReLU units, at most N=3 active per
layer, population 64, binary tournaments (one per round), T=50 minibatches of
16 per pathway evaluation, fitness = training accuracy over those
minibatches; a task is learnt when that accuracy reaches 0.998
(``budget.target_fitness``), or after 1000 rounds (Fernando et al. 2017).
Task 2 starts from task 1's best pathway frozen. Each task is one search of
the shared loop: WORKDIR/task{i} holds its history, checkpoints, TensorBoard,
plots, report and exported best pathway; a stopped run resumes with the same
command.
"""

from pathways_jax.pathnet.components import pathnet_config


def get_config():
    config = pathnet_config()
    config.dataset.name = "mnist1d"
    config.evaluator.tasks = ((2, 7), (4, 9))
    return config
