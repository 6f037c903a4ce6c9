"""Durable workflows: Mastra's workflow DSL on actors, with snapshots after every step.

```python
flow = Workflow("three-step", input_schema=Value, output_schema=Message)
flow.then(add_one).then(double).then(format_step).commit()

async with open_runtime() as rt:
    wf = await rt.spawn(flow.deploy(store="sqlite"))
    result = await wf.start({"value": 5})
    assert result.status == "success"
```
"""

from actors.workflow._adapt import AgentInput, AgentOutput, agent_step, tool_step
from actors.workflow._errors import (
    InvalidRunState,
    RunNotFound,
    SchemaViolation,
    WorkflowDefinitionError,
    WorkflowError,
)
from actors.workflow._graph import FlowContext
from actors.workflow._handle import WorkflowDeployment, WorkflowRef
from actors.workflow._persist import MemorySnapshots, SnapshotStore, StoreSnapshots
from actors.workflow._snapshot import NodeState, RunSnapshot, RunStatus, StepRecord
from actors.workflow.dsl import Workflow
from actors.workflow.messages import (
    CancelRun,
    CreateRun,
    DescribeWorkflow,
    GetRun,
    ListRuns,
    ResumeRun,
    RunEvent,
    RunPage,
    RunResult,
    StartRun,
    StepInfo,
    StreamRun,
    WaitRun,
    WatchRun,
    WorkflowInfo,
    WorkflowRequest,
)
from actors.workflow.run import WorkflowActor
from actors.workflow.step import Step, StepContext, step

__all__ = [
    "AgentInput",
    "AgentOutput",
    "CancelRun",
    "CreateRun",
    "DescribeWorkflow",
    "FlowContext",
    "GetRun",
    "InvalidRunState",
    "ListRuns",
    "MemorySnapshots",
    "NodeState",
    "ResumeRun",
    "RunEvent",
    "RunNotFound",
    "RunPage",
    "RunResult",
    "RunSnapshot",
    "RunStatus",
    "SchemaViolation",
    "SnapshotStore",
    "StartRun",
    "Step",
    "StepContext",
    "StepInfo",
    "StepRecord",
    "StoreSnapshots",
    "StreamRun",
    "WaitRun",
    "WatchRun",
    "Workflow",
    "WorkflowActor",
    "WorkflowDefinitionError",
    "WorkflowDeployment",
    "WorkflowError",
    "WorkflowInfo",
    "WorkflowRef",
    "WorkflowRequest",
    "agent_step",
    "step",
    "tool_step",
]
