"""The model version inference scores with: the one at a stage, and what it must hold."""

from __future__ import annotations

from dataclasses import dataclass

from e2e_common.contract import (
    DATA_CONTRACT,
    DATASET_TRN,
    DRIFT_REFERENCE,
    MODEL,
    PREPROCESS_PIPELINE,
    Stage,
)
from e2e_common.errors import DataError
from e2e_common.schemas import DataContract

REQUIRED_ARTIFACTS = (DATA_CONTRACT, PREPROCESS_PIPELINE, MODEL)


@dataclass(frozen=True)
class ResolvedVersion:
    """The model version at a stage, its data contract and the drift reference it offers."""

    model_name: str
    stage: str
    version_id: str
    version_name: str
    version_number: int
    contract: DataContract
    reference_artifact: str

    def describe(self) -> str:
        return (
            f"model '{self.model_name}' version {self.version_name} at stage '{self.stage}' "
            f"({self.contract.task.value}, data contract v{self.contract.contract_version})"
        )


def resolve_version(model_name: str, stage: Stage | str) -> ResolvedVersion:
    """The version at ``stage``, checked to be usable.

    NoModelAtStageError (exit 4) when there is none, without creating anything; DataError
    (exit 2) when it lacks an artifact of the contract or its contract version is unsupported.
    """
    from e2e_common.registry import version_at_stage

    stage = Stage(stage)
    version = version_at_stage(model_name, stage)
    where = f"version {version.name} of model '{model_name}' (stage '{stage.value}')"
    linked = {name: version.get_artifact(name) for name in (*REQUIRED_ARTIFACTS, DRIFT_REFERENCE, DATASET_TRN)}
    lacking = [name for name in REQUIRED_ARTIFACTS if linked[name] is None]
    if lacking:
        raise DataError(f"{where} has no {', '.join(lacking)} artifact; promote a version trained by e2e-train")
    if linked[DRIFT_REFERENCE] is not None:
        reference = DRIFT_REFERENCE
    elif linked[DATASET_TRN] is not None:
        reference = DATASET_TRN
    else:
        raise DataError(f"{where} has neither {DRIFT_REFERENCE} nor {DATASET_TRN}; the drift check needs one")
    contract = load_contract(linked[DATA_CONTRACT].load(), where)
    return ResolvedVersion(
        model_name=model_name,
        stage=stage.value,
        version_id=str(version.id),
        version_name=version.name,
        version_number=version.number,
        contract=contract,
        reference_artifact=reference,
    )


def load_contract(data: object, where: str = "the model version") -> DataContract:
    """The version's data contract: stored as a record, or as a dict by versions before 0.2.

    DataError when it is unreadable or of an unsupported contract version.
    """
    if isinstance(data, DataContract):
        data.check_supported()
        return data
    if not isinstance(data, dict):
        raise DataError(f"{where}: its data contract is a {type(data).__name__}, not a mapping")
    version = data.get("contract_version")
    if isinstance(version, int) and not isinstance(version, bool):
        DataContract.model_construct(contract_version=version).check_supported()
    try:
        contract = DataContract.model_validate(data)
    except ValueError as exc:
        raise DataError(f"{where}: its data contract cannot be read ({exc.__class__.__name__})") from exc
    contract.check_supported()
    return contract
