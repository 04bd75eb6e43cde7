"""ZenML's own floor: a trivial two-step pipeline on the same store, as a whole process.

The fixed cost of ``e2e-infer`` and ``e2e-train`` is compared with this: importing ZenML, connecting
to the store, registering and running a pipeline of two steps that pass one small artifact.
"""

from zenml import pipeline, step


@step(enable_cache=False)
def make_number() -> int:
    return 1


@step(enable_cache=False)
def add_one(number: int) -> int:
    return number + 1


@pipeline(enable_cache=False)
def trivial_two_step_pipeline() -> None:
    add_one(make_number())


if __name__ == "__main__":
    trivial_two_step_pipeline()
