"""The training pipeline: wiring only."""


from zenml import pipeline
from zenml.enums import ExecutionMode

from e2e_common import contract
from e2e_common.notify import notify_failure_hook
from e2e_training.steps import (
    evaluate_model,
    load_data,
    notify_success,
    preprocess_data,
    promote_model,
    search_model_family,
    select_model,
    split_data,
    train_model,
)

TRACKED_STEPS = ("train_model", "evaluate_model")


def search_step_id(family_name: str, family: dict) -> str:
    """``search_<family>``, or ``score_<family>`` for a family trained as configured."""
    return f"{'search' if family.get('search') else 'score'}_{family_name}"


@pipeline(name=contract.TRAINING_PIPELINE, on_failure=notify_failure_hook, execution_mode=ExecutionMode.FAIL_FAST)
def training_pipeline(
    data_path: str | None,
    data_fingerprint: str,
    target: str,
    drop_columns: list[str],
    test_size: float,
    drop_na: bool,
    normalize: bool,
    families: dict,
    n_iter: int,
    cv_folds: int,
    cv_scoring: str,
    random_state: int,
    parallel_backend: str,
    drift_reference_rows: int,
    model_name: str,
    target_env: str,
    promotion: str,
    min_train_accuracy: float,
    min_test_accuracy: float,
    fail_on_accuracy_quality_gates: bool,
    notify_on_failure: bool = True,
    notify_on_success: bool = False,
) -> None:
    """Load, split, preprocess, search each model family, select, train, evaluate, promote, notify."""
    training_data, data_contract = load_data(data_path, target, drop_columns, data_fingerprint)
    train_split, holdout_split = split_data(training_data, data_contract, test_size, drop_na)
    dataset_trn, dataset_tst, preprocess_pipeline, _ = preprocess_data(
        train_split, holdout_split, data_contract, normalize, drift_reference_rows, random_state
    )
    candidates = [
        search_model_family(
            train_split,
            preprocess_pipeline,
            data_contract,
            family_name,
            family,
            n_iter,
            cv_folds,
            cv_scoring,
            random_state,
            parallel_backend,
            id=search_step_id(family_name, family),
        )
        for family_name, family in families.items()
    ]
    selected = select_model(candidates)
    model = train_model(dataset_trn, selected, data_contract, model_name)
    evaluation = evaluate_model(
        model,
        dataset_trn,
        dataset_tst,
        data_contract,
        test_size,
        min_train_accuracy,
        min_test_accuracy,
        fail_on_accuracy_quality_gates,
        target_env,
        promotion,
    )
    decision = promote_model(
        model, preprocess_pipeline, holdout_split, data_contract, evaluation, model_name, target_env, promotion, test_size
    )
    if notify_on_success:
        notify_success(evaluation, decision, model_name)
