"""ZenML steps of the training pipeline: thin wrappers that name their outputs by the contract.

Steps that log model-version metadata, or must decide anew on every run, never use the cache.
The others are cached on their inputs, their parameters, the code of the modules they call and
the versions of the libraries (``CACHE_POLICY``); ``--no-cache`` turns caching off for all.
"""

import logging
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
from sklearn.base import ClassifierMixin, clone
from sklearn.pipeline import Pipeline
from zenml import ArtifactConfig, get_step_context, log_metadata, step
from zenml.client import Client
from zenml.config import CachePolicy
from zenml.enums import ArtifactType

import e2e_common
import e2e_common.data
import e2e_common.preprocessing
import e2e_common.schemas
import e2e_training
from e2e_common import contract
from e2e_common.errors import DataError, QualityGateError
from e2e_common.notify import notify
from e2e_common.registry import version_at_stage_or_none
from e2e_common.schemas import DataContract
from e2e_training import data, evaluate, preprocess, promote, report, search, split
from e2e_training.settings import ModelFamily

logger = logging.getLogger(__name__)


def library_versions() -> str:
    """The versions that cached results depend on besides the code of the steps' modules."""
    import sklearn

    return f"{e2e_common.__version__} {e2e_training.__version__} {sklearn.__version__} {pd.__version__}"


CACHE_POLICY = CachePolicy(
    source_dependencies=[
        data,
        split,
        preprocess,
        search,
        e2e_common.data,
        e2e_common.preprocessing,
        e2e_common.schemas,
    ],
    cache_func=library_versions,
)


def _contract(data_contract: dict) -> DataContract:
    return DataContract.model_validate(data_contract)


@step(cache_policy=CACHE_POLICY)
def load_data(
    data_path: str | None, target: str, drop_columns: list[str], data_fingerprint: str
) -> tuple[
    Annotated[pd.DataFrame, ArtifactConfig(name=contract.TRAINING_DATA)],
    Annotated[dict, ArtifactConfig(name=contract.DATA_CONTRACT)],
]:
    """Read the training rows and derive their data contract (``data_fingerprint`` keys the cache)."""
    frame = data.read_training_data(Path(data_path) if data_path else None)
    if data.fingerprint(frame) != data_fingerprint:
        raise DataError(f"{data_path}: the file changed after it was checked; run again")
    return frame, data.derive_contract(frame, target, drop_columns).model_dump(mode="json")


@step(cache_policy=CACHE_POLICY)
def split_data(
    training_data: pd.DataFrame, data_contract: dict, test_size: float, drop_na: bool
) -> tuple[
    Annotated[pd.DataFrame, ArtifactConfig(name=contract.TRAIN_SPLIT)],
    Annotated[pd.DataFrame, ArtifactConfig(name=contract.HOLDOUT_SPLIT)],
]:
    """Split the raw rows by their hash; drop rows with missing values unless told not to."""
    train, holdout = split.prepare_splits(training_data, _contract(data_contract), test_size, drop_na)
    return train, holdout


@step(cache_policy=CACHE_POLICY)
def preprocess_data(
    train_split: pd.DataFrame,
    holdout_split: pd.DataFrame,
    data_contract: dict,
    normalize: bool,
    drift_reference_rows: int,
    random_state: int,
) -> tuple[
    Annotated[pd.DataFrame, ArtifactConfig(name=contract.DATASET_TRN)],
    Annotated[pd.DataFrame, ArtifactConfig(name=contract.DATASET_TST)],
    Annotated[Pipeline, ArtifactConfig(name=contract.PREPROCESS_PIPELINE)],
    Annotated[pd.DataFrame, ArtifactConfig(name=contract.DRIFT_REFERENCE)],
]:
    """Fit the preprocessing on the train split; preprocess both splits; sample the drift reference."""
    rules = _contract(data_contract)
    pipeline = preprocess.fit_preprocessing(train_split, rules, normalize)
    return (
        preprocess.preprocessed(pipeline, train_split, rules),
        preprocess.preprocessed(pipeline, holdout_split, rules),
        pipeline,
        preprocess.drift_reference(train_split, rules, drift_reference_rows, random_state),
    )


@step(cache_policy=CACHE_POLICY)
def search_model_family(
    train_split: pd.DataFrame,
    preprocess_pipeline: Pipeline,
    data_contract: dict,
    family_name: str,
    family: dict,
    n_iter: int,
    cv_folds: int,
    cv_scoring: str,
    random_state: int,
    parallel_backend: str,
) -> Annotated[ClassifierMixin, ArtifactConfig(name=contract.MODEL_CANDIDATE)]:
    """The family's best unfitted candidate; its CV score is metadata of the output."""
    rules = _contract(data_contract)
    features, target = preprocess.features_and_target(train_split, rules)
    candidate = search.search_family(
        family_name,
        ModelFamily.model_validate(family),
        features[rules.feature_names],
        target,
        preprocess_pipeline,
        n_iter=n_iter,
        cv_folds=cv_folds,
        scoring=cv_scoring,
        random_state=random_state,
        parallel_backend=parallel_backend,
    )
    log_metadata(metadata=candidate_metadata(candidate.score), infer_artifact=True)
    logger.info("%s: cv %s %.4f", family_name, cv_scoring, candidate.score.cv_score)
    return candidate.estimator


def candidate_metadata(score: search.CandidateScore) -> dict[str, Any]:
    return {
        contract.METADATA_MODEL_FAMILY: score.family,
        contract.METADATA_CV_SCORE: score.cv_score,
        contract.METADATA_CV_SCORE_STD: score.cv_score_std,
        contract.METADATA_HYPERPARAMETERS: score.hyperparameters,
    }


def candidate_score(metadata: dict[str, Any]) -> search.CandidateScore:
    return search.CandidateScore(
        family=str(metadata[contract.METADATA_MODEL_FAMILY]),
        cv_score=float(metadata[contract.METADATA_CV_SCORE]),
        cv_score_std=float(metadata.get(contract.METADATA_CV_SCORE_STD, 0.0)),
        hyperparameters=dict(metadata.get(contract.METADATA_HYPERPARAMETERS) or {}),
    )


@step(enable_cache=False)
def select_model(
    candidates: list[ClassifierMixin],
) -> Annotated[ClassifierMixin, ArtifactConfig(name=contract.SELECTED_MODEL)]:
    """The candidate with the best CV score, read from each candidate's metadata."""
    inputs = sorted(get_step_context().inputs["candidates"], key=lambda artifact: artifact.index or 0)
    scores = [candidate_score(artifact.run_metadata) for artifact in inputs]
    best = search.select_best(scores)
    selection = search.Selection.of(scores, best)
    log_metadata(metadata={contract.METADATA_SELECTION: selection.as_metadata()}, infer_model=True)
    return inputs[best].load()


@step(enable_cache=False)
def train_model(
    dataset_trn: pd.DataFrame, selected_model: ClassifierMixin, data_contract: dict, model_name: str
) -> Annotated[ClassifierMixin, ArtifactConfig(name=contract.MODEL, artifact_type=ArtifactType.MODEL)]:
    """Fit the selected model on the train split; with MLflow, autolog, log and register it.

    The model is logged explicitly with its requirements (autolog's model logging infers them in
    a subprocess, which costs seconds) in the skops format, trusting the types of this model.
    """
    import mlflow

    features, target = preprocess.features_and_target(dataset_trn, _contract(data_contract))
    model = clone(selected_model)
    if mlflow.active_run() is None:
        return model.fit(features, target)
    import sklearn
    import skops.io
    from mlflow.models import infer_signature

    mlflow.sklearn.autolog(log_models=False, log_datasets=False, silent=True)
    model.fit(features, target)
    logged = mlflow.sklearn.log_model(
        model,
        name=contract.MODEL,
        signature=infer_signature(features, model.predict(features)),
        pip_requirements=[f"scikit-learn=={sklearn.__version__}"],
        skops_trusted_types=skops.io.get_untrusted_types(data=skops.io.dumps(model)),
    )
    registry_version = _register(model_name, logged, mlflow.active_run())
    if registry_version is not None:
        log_metadata(metadata={contract.METADATA_MLFLOW_REGISTRY_VERSION: registry_version}, infer_model=True)
    return model


def _register(model_name: str, logged_model: Any, run: Any) -> str | None:
    """Register the logged model in the stack's model registry; its registry version."""
    from zenml.model_registries.base_model_registry import ModelRegistryModelMetadata

    registry = Client().active_stack.model_registry
    if registry is None or logged_model is None:
        return None
    context = get_step_context()
    registered = registry.register_model_version(
        name=model_name,
        model_source_uri=logged_model.model_uri,
        description=f"ZenML model '{model_name}' version {context.model_version.number}",
        metadata=ModelRegistryModelMetadata(
            zenml_pipeline_name=context.pipeline.name,
            zenml_run_name=context.pipeline_run.name,
            zenml_pipeline_run_uuid=str(context.pipeline_run.id),
            zenml_step_name=context.step_run.name,
            mlflow_run_id=run.info.run_id,
        ),
    )
    return str(registered.version)


@step(enable_cache=False)
def evaluate_model(
    model: ClassifierMixin,
    dataset_trn: pd.DataFrame,
    dataset_tst: pd.DataFrame,
    data_contract: dict,
    test_size: float,
    min_train_accuracy: float,
    min_test_accuracy: float,
    fail_on_accuracy_quality_gates: bool,
    target_env: str,
    promotion: str,
) -> Annotated[dict, ArtifactConfig(name=contract.EVALUATION)]:
    """Train and holdout metrics in MLflow and the model version; the accuracy gates."""
    import mlflow

    rules = _contract(data_contract)
    train = evaluate.score(model, *preprocess.features_and_target(dataset_trn, rules))
    holdout = evaluate.score(model, *preprocess.features_and_target(dataset_tst, rules))
    metrics = {evaluate.TRAIN: train.as_metadata(), evaluate.HOLDOUT: holdout.as_metadata()}
    if mlflow.active_run() is not None:
        mlflow.log_metrics({f"{name}_{key}": value for name, scores in metrics.items() for key, value in scores.items()})
    metadata: dict[str, Any] = {
        contract.METADATA_METRICS: metrics,
        contract.METADATA_SPLIT: split.SplitInfo(test_size, train.rows, holdout.rows).as_metadata(),
        contract.METADATA_CONTRACT_VERSION: rules.contract_version,
    }
    failures = evaluate.accuracy_gate_failures(train, holdout, min_train_accuracy, min_test_accuracy)
    if failures and fail_on_accuracy_quality_gates:
        refused = promote.PromotionDecision(
            False,
            stage=target_env,
            mode=promotion,
            reason=f"quality gate: {'; '.join(failures)}",
            metric=promote.METRIC,
            new_version=get_step_context().model_version.number,
            new_score=holdout.accuracy,
        )
        metadata[contract.METADATA_PROMOTION] = refused.as_metadata()
        log_metadata(metadata=metadata, infer_model=True)
        raise QualityGateError(f"{'; '.join(failures)}: not promoted")
    log_metadata(metadata=metadata, infer_model=True)
    for failure in failures:
        logger.info("quality gate: %s", failure)
    return metrics


@step(enable_cache=False)
def promote_model(
    model: ClassifierMixin,
    preprocess_pipeline: Pipeline,
    holdout_split: pd.DataFrame,
    data_contract: dict,
    evaluation: dict,
    model_name: str,
    target_env: str,
    promotion: str,
    test_size: float,
) -> Annotated[dict, ArtifactConfig(name=contract.PROMOTION_DECISION)]:
    """Compare with the version at the stage on the same unseen rows; promote in the MCP and MLflow."""
    rules = _contract(data_contract)
    this_version = get_step_context().model_version
    current = version_at_stage_or_none(model_name, target_env)
    comparison = None
    if current is not None:
        new = promote.Scorer(preprocess_pipeline, model, test_size)
        comparison = _compare_with(current, holdout_split, rules.target, new)
    decision = promote.decide(promotion, target_env, this_version.number, comparison)
    if decision.promoted:
        _promote(model_name, this_version.id, target_env)
    log_metadata(metadata={contract.METADATA_PROMOTION: decision.as_metadata()}, infer_model=True)
    logger.info("promotion: %s", report.describe_decision(decision.as_metadata()))
    return decision.as_metadata()


def _compare_with(current: Any, rows: pd.DataFrame, target: str, new: promote.Scorer) -> promote.Comparison:
    preprocess_artifact = current.get_artifact(contract.PREPROCESS_PIPELINE)
    model_artifact = current.get_artifact(contract.MODEL)
    if preprocess_artifact is None or model_artifact is None:
        return promote.Comparison(
            current.number, 0, problem=f"it has no '{contract.PREPROCESS_PIPELINE}' or '{contract.MODEL}' artifact"
        )
    fraction = split.SplitInfo.holdout_fraction_of(current.run_metadata.get(contract.METADATA_SPLIT))
    scorer = promote.Scorer(preprocess_artifact.load(), model_artifact.load(), fraction)
    return promote.compare(rows, target, new, scorer, current.number)


def _promote(model_name: str, model_version_id: Any, stage: str) -> None:
    """Move the alias in the MLflow registry first, then the stage in the Model Control Plane."""
    from zenml.model_registries.base_model_registry import ModelVersionStage

    client = Client()
    registry = client.active_stack.model_registry
    version = client.get_model_version(model_name, model_version_id)
    registry_version = version.run_metadata.get(contract.METADATA_MLFLOW_REGISTRY_VERSION)
    if registry is not None and registry_version is not None:
        registry.update_model_version(
            name=model_name, version=str(registry_version), stage=ModelVersionStage[stage.upper()]
        )
    version.set_stage(stage, force=True)


@step(enable_cache=False)
def notify_success(evaluation: dict, promotion_decision: dict, model_name: str) -> None:
    """Send the metrics and the promotion decision through the stack's alerter."""
    run_name = get_step_context().pipeline_run.name
    notify(report.success_message(model_name, run_name, evaluation, promotion_decision))
