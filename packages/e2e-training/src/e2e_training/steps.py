"""ZenML steps of the training pipeline: thin wrappers over the plain functions, outputs named.

Steps that log model-version metadata, or must decide anew on every run, never use the cache.
The others are cached on their inputs, their parameters, the code of the modules they call and
the versions of the libraries (``CACHE_POLICY``); ``--no-cache`` turns caching off for all.
"""

import dataclasses
import datetime
import logging
import time
from typing import Annotated, Any

import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.pipeline import Pipeline
from zenml import ArtifactConfig, get_step_context, log_metadata, save_artifact, step
from zenml.client import Client
from zenml.config import CachePolicy
from zenml.enums import ArtifactType
from zenml.types import MarkdownString

import e2e_common
import e2e_common.data
import e2e_common.preprocessing
import e2e_common.schemas
import e2e_training
from e2e_common import contract
from e2e_common.notify import notify
from e2e_common.registry import version_at_stage_or_none
from e2e_common.schemas import DataContract
from e2e_training import (
    blend,
    data,
    evaluate,
    names,
    preprocess,
    profile,
    promote,
    registry,
    report,
    screening,
    search,
    split,
    stages,
    tracking,
)
from e2e_training.settings import (
    DataOptions,
    GateOptions,
    ModelFamily,
    PreprocessingOptions,
    PromotionOptions,
    SearchOptions,
    SplitOptions,
)

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
        profile,
        screening,
        search,
        e2e_common.data,
        e2e_common.preprocessing,
        e2e_common.schemas,
    ],
    cache_func=library_versions,
)


@step(cache_policy=CACHE_POLICY)
def load_data(
    options: DataOptions, data_fingerprint: str
) -> tuple[
    Annotated[pd.DataFrame, ArtifactConfig(name=names.TRAINING_DATA)],
    Annotated[DataContract, ArtifactConfig(name=names.FEATURE_SCHEMA)],
]:
    """Read the training rows and derive their contract (``data_fingerprint`` keys the cache)."""
    frame, rules = data.load_checked(options, data_fingerprint)
    return frame, rules


@step(cache_policy=CACHE_POLICY)
def split_data(
    training_data: pd.DataFrame, data_contract: DataContract, options: SplitOptions
) -> tuple[
    Annotated[pd.DataFrame, ArtifactConfig(name=names.TRAIN_SPLIT)],
    Annotated[pd.DataFrame, ArtifactConfig(name=names.HOLDOUT_SPLIT)],
]:
    """Split the raw rows by their hash; drop rows with missing values unless told not to. How many rows
    were read, left out and put on each side is metadata of the train split (train_model gives it to
    the model version)."""
    train, holdout = split.prepare_splits(training_data, data_contract, options)
    log_metadata(
        metadata={names.METADATA_ROWS: row_counts(training_data, data_contract, train, holdout)},
        infer_artifact=True,
        artifact_name=names.TRAIN_SPLIT,
    )
    return train, holdout


def row_counts(
    training_data: pd.DataFrame, data_contract: DataContract, train: pd.DataFrame, holdout: pd.DataFrame
) -> dict[str, int]:
    """The rows read, those without a target, those left out for a missing feature value, and each side's."""
    without_target = split.rows_without_target(training_data, data_contract.target)
    return {
        names.ROWS_READ: len(training_data),
        names.ROWS_WITHOUT_TARGET: without_target,
        names.ROWS_WITH_MISSING_VALUES: len(training_data) - without_target - len(train) - len(holdout),
        names.ROWS_TRAIN: len(train),
        names.ROWS_HOLDOUT: len(holdout),
    }


@step(cache_policy=CACHE_POLICY)
def preprocess_data(
    train_split: pd.DataFrame, holdout_split: pd.DataFrame, data_contract: DataContract, options: PreprocessingOptions
) -> tuple[
    Annotated[pd.DataFrame, ArtifactConfig(name=contract.DATASET_TRN)],
    Annotated[pd.DataFrame, ArtifactConfig(name=contract.DATASET_TST)],
    Annotated[Pipeline, ArtifactConfig(name=contract.PREPROCESS_PIPELINE)],
    Annotated[pd.DataFrame, ArtifactConfig(name=contract.DRIFT_REFERENCE)],
]:
    """Fit the preprocessing on the train split; preprocess both splits; sample the drift reference."""
    pipeline = preprocess.fit_preprocessing(train_split, data_contract, options)
    return (
        preprocess.preprocessed(pipeline, train_split, data_contract),
        preprocess.preprocessed(pipeline, holdout_split, data_contract),
        pipeline,
        preprocess.drift_reference(train_split, data_contract, options),
    )


@step(cache_policy=CACHE_POLICY)
def search_model_family(
    train_split: pd.DataFrame,
    preprocess_pipeline: Pipeline,
    data_contract: DataContract,
    family_name: str,
    family: ModelFamily,
    options: SearchOptions,
) -> tuple[
    Annotated[BaseEstimator, ArtifactConfig(name=names.MODEL_CANDIDATE)],
    Annotated[pd.DataFrame, ArtifactConfig(name=names.OUT_OF_FOLD_PREDICTIONS)],
]:
    """The family's best unfitted candidate (its CV score and how it was searched are its metadata) and its
    out-of-fold predictions of the train rows (empty when the search did not reach all of them)."""
    features, target = preprocess.features_and_target(train_split, data_contract)
    categorical = data_contract.columns_of_kind(e2e_common.schemas.FeatureKind.CATEGORICAL)
    task = data_contract.task.value
    candidate = search.search_family(
        family_name, family, features, target, preprocess_pipeline, options, categorical,
        search_deadline(options, task), task=task,
    )
    log_metadata(metadata=candidate.score.as_metadata(), artifact_name=names.MODEL_CANDIDATE, infer_artifact=True)
    logger.info("%s: cv %s %.4f", family_name, options.metric, candidate.score.cv_score)
    out_of_fold = candidate.out_of_fold.as_frame() if candidate.out_of_fold is not None else search.OutOfFold.none()
    return candidate.estimator, out_of_fold


def search_deadline(options: SearchOptions, task: str) -> float | None:
    """This search step's deadline under ``--time-budget``: its share of what the search steps of this run
    that finished left of the budget (``search.family_deadline``)."""
    if options.time_budget is None:
        return None
    context = get_step_context()
    finished = [
        run_step for name, run_step in Client().get_pipeline_run(context.pipeline_run.id).steps.items()
        if name.startswith(("search_", "score_")) and run_step.start_time and run_step.end_time
    ]
    spent = sum((run_step.end_time - run_step.start_time).total_seconds() for run_step in finished)
    return search.family_deadline(
        options.time_budget, spent, len(options.families(task)) - len(finished),
        elapsed_since(context.step_run.start_time), time.time(),
    )


def elapsed_since(start: datetime.datetime | None) -> float:
    """Seconds since ``start`` (ZenML's times are UTC; a naive one is read as UTC)."""
    if start is None:
        return 0.0
    if start.tzinfo is None:
        start = start.replace(tzinfo=datetime.timezone.utc)
    return max(0.0, (datetime.datetime.now(datetime.timezone.utc) - start).total_seconds())


@step(enable_cache=False)
def select_model(
    candidates: list[BaseEstimator],
    out_of_fold: list[pd.DataFrame],
    task: str,
) -> Annotated[BaseEstimator, ArtifactConfig(name=names.SELECTED_MODEL)]:
    """The candidate with the best CV score (read from each candidate's metadata), or the blend of the
    two best when cross-validation cannot tell them apart (``e2e_training.blend``)."""
    inputs = _in_order(get_step_context().inputs["candidates"])
    scores = [search.CandidateScore.from_metadata(artifact.run_metadata) for artifact in inputs]
    predictions = [search.OutOfFold.from_frame(artifact.load()) for artifact in _in_order(get_step_context().inputs["out_of_fold"])]
    best = search.select_best(scores)
    scored_blend = blend.score_blend(scores, predictions)
    selection = search.Selection.of(scores, best, scored_blend)
    log_metadata(metadata={names.METADATA_SELECTION: selection.as_metadata()}, infer_model=True)
    if scored_blend is None or not scored_blend.selected:
        return inputs[best].load()
    members = [(s.family, inputs[i].load()) for i, s in enumerate(scores) if s.family in scored_blend.members]
    members.sort(key=lambda member: scored_blend.members.index(member[0]))
    return blend.blended_estimator(members, task)


def _in_order(artifacts: Any) -> list:
    """A list input's artifacts in the order the pipeline passed them."""
    return sorted(artifacts, key=lambda artifact: artifact.index or 0)


@step(enable_cache=False)
def train_model(
    dataset_trn: pd.DataFrame,
    selected_model: BaseEstimator,
    preprocess_pipeline: Pipeline,
    train_split: pd.DataFrame,
    data_contract: DataContract,
) -> Annotated[BaseEstimator, ArtifactConfig(name=contract.MODEL, artifact_type=ArtifactType.MODEL)]:
    """Fit the selected model (a classifier or a regressor) on the train split; with MLflow, log the whole
    model (preprocessing and model, raw rows in) and register it. The row counts split_data recorded on
    the train split (a cached step logs nothing anew) become model-version metadata here."""
    context = get_step_context()
    split_artifact = next(iter(context.inputs.get("train_split", [])), None)
    rows = None if split_artifact is None else split_artifact.run_metadata.get(names.METADATA_ROWS)
    if rows:
        log_metadata(metadata={names.METADATA_ROWS: rows}, infer_model=True)
    fitted = tracking.fit_and_log(
        selected_model,
        *preprocess.features_and_target(dataset_trn, data_contract),
        preprocess_pipeline,
        train_split,
        data_contract,
        metadata=registry.model_metadata(context.model.name, context.model_version.number, data_contract),
    )
    if fitted.model_uri is not None:
        origin = registry.RunOrigin(
            context.pipeline.name, context.pipeline_run.name, str(context.pipeline_run.id), context.step_run.name,
            fitted.mlflow_run_id,
        )
        registered = registry.register_model(context.model.name, fitted.model_uri, context.model_version.number, origin)
        if registered is not None:
            log_metadata(metadata={names.METADATA_MLFLOW_REGISTRY_VERSION: registered}, infer_model=True)
    return fitted.model


@step(enable_cache=False)  # its model comes from train_model, which never uses the cache
def describe_features(
    feature_schema: DataContract,
    train_split: pd.DataFrame,
    holdout_split: pd.DataFrame,
    preprocess_pipeline: Pipeline,
    model: BaseEstimator,
    gates: GateOptions,
) -> Annotated[DataContract, ArtifactConfig(name=contract.DATA_CONTRACT)]:
    """The data contract inference reads: the schema plus each feature's training range and importance."""
    return profile.complete_contract(
        feature_schema, train_split, holdout_split, preprocess_pipeline, model, gates.metric
    )


@step(enable_cache=False)
def evaluate_model(
    model: BaseEstimator,
    dataset_trn: pd.DataFrame,
    dataset_tst: pd.DataFrame,
    data_contract: DataContract,
    split_options: SplitOptions,
    gates: GateOptions,
    promotion: PromotionOptions,
) -> Annotated[dict, ArtifactConfig(name=names.EVALUATION)]:
    """Train, holdout and baseline metrics in MLflow and the model version; the quality gates; the
    model's predictions on the holdout (``holdout_predictions``, linked to the model version: the
    reference of the prediction part of e2e-infer's drift report)."""
    version_number = get_step_context().model_version.number
    assessment = evaluate.assess(
        model, dataset_trn, dataset_tst, data_contract, split_options, gates, promotion, version_number
    )
    tracking.log_metrics(assessment.tracked)
    log_metadata(metadata=assessment.metadata, infer_model=True)
    # Saved, not returned: a second output would change how the pipeline wires this step. Saved in a
    # step, the artifact is an output of the step run and is linked to the step's model version.
    save_artifact(evaluate.holdout_predictions(model, dataset_tst, data_contract), contract.HOLDOUT_PREDICTIONS)
    if assessment.refusal is not None:
        raise assessment.refusal
    for failure in assessment.failures:
        logger.info("quality gate: %s", failure)
    return assessment.metrics


@step(enable_cache=False)
def promote_model(
    model: BaseEstimator,
    preprocess_pipeline: Pipeline,
    holdout_split: pd.DataFrame,
    data_contract: DataContract,
    evaluation: dict,
    split_options: SplitOptions,
    options: PromotionOptions,
) -> Annotated[dict, ArtifactConfig(name=names.PROMOTION_DECISION)]:
    """Unless a quality gate refused the model: check the version at the stage has a compatible data
    contract, compare with it on the same unseen rows, promote in the MCP and MLflow."""
    context = get_step_context()
    model_name, this_version = context.model.name, context.model_version
    failures = evaluate.gate_failures_of(evaluation)
    stage = options.target_env
    with stages.stage_lock(model_name, stage):
        repairs = stages.repair(model_name, stage, strict=options.promotion != promote.LATEST)
        if failures:
            holdout_score = evaluation.get(evaluate.HOLDOUT, {}).get(options.metric)
            decision = promote.refused_by_gates(options, this_version.number, holdout_score, failures)
        else:
            current = version_at_stage_or_none(model_name, stage)
            promote.check_comparable(model_name, options, data_contract, current)
            decision = promote.decide_against_stage(
                options, split_options, preprocess_pipeline, model, this_version.number, current, holdout_split,
                data_contract.target,
            )
        if decision.promoted:
            version = Client().get_model_version(model_name, this_version.id)
            stages.move(model_name, version, stage, stages.TRAINING, decision.reason)
    if repairs:
        decision = dataclasses.replace(decision, repairs=repairs)
    log_metadata(metadata={names.METADATA_PROMOTION: decision.as_metadata()}, infer_model=True)
    logger.info("promotion: %s", report.describe_decision(decision.as_metadata()))
    return decision.as_metadata()


@step(enable_cache=False)
def summarize_training(
    evaluation: dict, promotion_decision: dict, data_contract: DataContract
) -> Annotated[MarkdownString, ArtifactConfig(name=names.TRAINING_SUMMARY)]:
    """The run's summary page in the dashboard (the search, the holdout scores, the gates, the features)."""
    context = get_step_context()
    version = Client().get_model_version(context.model.name, context.model_version.id)
    searched = {
        name.split("_", 1)[1]: None if step.status.value == "cached" else (step.end_time - step.start_time).total_seconds()
        for name, step in Client().get_pipeline_run(context.pipeline_run.id).steps.items()
        if name.startswith(("search_", "score_")) and step.start_time and step.end_time
    }
    return MarkdownString(
        report.summary_markdown(
            context.model.name, version.number, evaluation, promotion_decision,
            version.run_metadata.get(names.METADATA_SELECTION, {}), searched, data_contract,
            version.run_metadata.get(names.METADATA_ROWS),
        )
    )


@step(enable_cache=False)
def notify_success(evaluation: dict, promotion_decision: dict) -> None:
    """Send the metrics and the promotion decision through the stack's alerter."""
    context = get_step_context()
    notify(report.success_message(context.model.name, context.pipeline_run.name, evaluation, promotion_decision))
