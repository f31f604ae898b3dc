"""A tiny program search for tests: the linear demo's space on small task sets."""

from pathways_jax.spaces.program.components import program_config


def get_config():
    config = program_config()
    config.strategy.population_size = 32
    config.strategy.sample_size = 4
    config.parallel.round_size = 16
    config.budget.evaluations = 96
    config.final.top_k = 2
    config.checkpoint.every_rounds = 2
    config.evaluator.chunk_size = 16
    config.evaluator.fingerprint_train = 5
    config.evaluator.fingerprint_valid = 5
    tasks = config.evaluator.tasks
    tasks.num_search, tasks.num_train, tasks.num_valid = 2, 20, 10
    tasks.num_selection, tasks.num_final = 3, 3
    tasks.final_num_train, tasks.final_num_valid = 30, 10
    config.progress.report = False
    return config
