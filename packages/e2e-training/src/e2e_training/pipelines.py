"""The training pipeline: wiring only."""

from zenml import pipeline
from zenml.enums import ExecutionMode

from e2e_common.images import DOCKER_SETTINGS_KEY, TRAINING_DISTRIBUTION, docker_settings
from e2e_common.notify import notify_failure_hook
from e2e_training.names import TRAINING_PIPELINE
from e2e_training.settings import (
    DataOptions,
    GateOptions,
    PreprocessingOptions,
    PromotionOptions,
    SearchOptions,
    SplitOptions,
)
from e2e_training.steps import (
    describe_features,
    evaluate_model,
    load_data,
    notify_success,
    preprocess_data,
    promote_model,
    search_model_family,
    select_model,
    split_data,
    summarize_training,
    train_model,
)

TRACKED_STEPS = ("train_model", "evaluate_model")
# The image of a containerized orchestrator: e2e-common and e2e-training at the client's versions
# (the CLI adds the extras of its --data URI).
DOCKER = {DOCKER_SETTINGS_KEY: docker_settings(TRAINING_DISTRIBUTION)}


def search_step_id(family_name: str, searched: bool) -> str:
    """``search_<family>``, or ``score_<family>`` for a family trained as configured."""
    return f"{'search' if searched else 'score'}_{family_name}"


@pipeline(name=TRAINING_PIPELINE, on_failure=notify_failure_hook, execution_mode=ExecutionMode.FAIL_FAST, settings=DOCKER)
def training_pipeline(
    data_options: DataOptions,
    data_fingerprint: str,
    split_options: SplitOptions,
    preprocessing: PreprocessingOptions,
    search_options: SearchOptions,
    gates: GateOptions,
    promotion: PromotionOptions,
    notify_on_failure: bool,
    notify_on_success: bool,
    task: str = "classification",
) -> None:
    """Load, split, preprocess, search each model family of the ``task`` (the data contract's, which the
    CLI reads before the run), select, train, evaluate, promote, notify."""
    training_data, feature_schema = load_data(data_options, data_fingerprint)
    train_split, holdout_split = split_data(training_data, feature_schema, split_options)
    dataset_trn, dataset_tst, preprocess_pipeline, _ = preprocess_data(
        train_split, holdout_split, feature_schema, preprocessing
    )
    searched = [
        search_model_family(
            train_split,
            preprocess_pipeline,
            feature_schema,
            family_name,
            family,
            search_options,
            id=search_step_id(family_name, bool(family.search)),
        )
        for family_name, family in search_options.families(task).items()
    ]
    candidates = [candidate for candidate, _ in searched]
    out_of_fold = [predictions for _, predictions in searched]
    selected = select_model(candidates, out_of_fold, task)
    model = train_model(dataset_trn, selected, preprocess_pipeline, train_split, feature_schema)
    data_contract = describe_features(feature_schema, train_split, holdout_split, preprocess_pipeline, model, gates)
    evaluation = evaluate_model(model, dataset_trn, dataset_tst, data_contract, split_options, gates, promotion)
    decision = promote_model(model, preprocess_pipeline, holdout_split, data_contract, evaluation, split_options, promotion)
    summarize_training(evaluation, decision, data_contract)
    if notify_on_success:
        notify_success(evaluation, decision)
