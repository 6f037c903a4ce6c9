"""The agent actor: one turn per message, with memory, tools and streaming."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any, ClassVar

import msgspec
import trio
from opentelemetry.trace import INVALID_SPAN, NoOpTracer, Span, Status, StatusCode, Tracer

from actors.agent._loop import Emit, ToolRunner, Turn, run_loop
from actors.agent._structured import StructuredOutputError, parse_structured
from actors.agent._tools import (
    WORKING_MEMORY_TOOL,
    agent_definition,
    agent_runner,
    attach_agent,
    attach_tool,
    tool_failed,
    tool_runner,
    tool_succeeded,
    traced,
)
from actors.agent.messages import (
    AgentError,
    AgentFinish,
    AgentInfo,
    AgentStart,
    DescribeAgent,
    Generate,
    GenerateResult,
    StepResult,
    StreamGenerate,
    ToolResultRecord,
)
from actors.agent.spec import ToolSource
from actors.llm import ModelRouter, ProviderError
from actors.llm.messages import (
    AssistantMessage,
    ChatMessage,
    ChatRequest,
    ChatResult,
    JsonSchemaFormat,
    SystemMessage,
    ToolCall,
    ToolDefinition,
    UserMessage,
    last_user_text,
)
from actors.logs import run_scope
from actors.memory import MemoryClient, MemoryContext, MemoryUnavailable
from actors.stores import StoreError
from actors.tools import Tool, ToolRef
from runtime import Actor, ActorRef, UnhandledMessage

if TYPE_CHECKING:
    from actors.agent.spec import Agent

__all__ = ["AgentActor"]

SAVE_GRACE = 5.0
"""Seconds a cancelled turn may take to store its partial messages."""

REPAIR = (
    "Your previous answer did not match the required JSON schema: {problem}. "
    "Answer again with only the JSON value, matching the schema exactly."
)


class AgentActor(Actor):
    """Runs turns of one ``Agent`` (up to 64 at once): ``Generate`` by ask, ``StreamGenerate``
    by stream. Provider, store and structured-output failures reach the caller as their
    typed errors without restarting the agent."""

    concurrency: ClassVar[int] = 64
    expected_errors: ClassVar[tuple[type[Exception], ...]] = (
        ProviderError,
        StructuredOutputError,
        MemoryUnavailable,
        StoreError,
    )

    def __init__(self, spec: Agent) -> None:
        self.spec = spec

    async def on_start(self) -> None:
        spec = self.spec
        self.model = ModelRouter(self.ctx.lookup, [spec.model, *spec.fallbacks])
        self.memory = None if spec.memory is None else MemoryClient(spec.memory, self.ctx.lookup)
        self.tool_refs: dict[str, tuple[ToolDefinition, ToolRef]] = {}
        self.agent_refs: dict[str, tuple[ToolDefinition, ActorRef]] = {}
        for item in spec.tools:
            if isinstance(item, Tool):
                definition = ToolDefinition(
                    name=item.id, description=item.description, parameters=item.input_schema
                )
                self.tool_refs[item.id] = (definition, await attach_tool(self.ctx, item))
            elif isinstance(item, ToolSource):
                for ref in await item.attach(self.ctx):
                    info = await ref.info()
                    definition = ToolDefinition(
                        name=info.id, description=info.description, parameters=info.input_schema
                    )
                    self.tool_refs[info.id] = (definition, ref)
            else:
                definition = agent_definition(item)
                self.agent_refs[item.name] = (definition, await attach_agent(self.ctx, item))

    async def receive(
        self, msg: Generate | StreamGenerate | DescribeAgent
    ) -> GenerateResult | AgentInfo | None:
        match msg:
            case DescribeAgent():
                return self._info()
            case Generate():
                return await self._turn(msg, None)
            case StreamGenerate():
                await self._stream(msg)
                return None
        raise UnhandledMessage(f"agent {self.spec.name!r} does not handle {type(msg).__name__}")

    def _info(self) -> AgentInfo:
        spec = self.spec
        return AgentInfo(
            name=spec.name,
            instructions=spec.system_prompt({}),
            model=spec.model,
            fallbacks=list(spec.fallbacks),
            tools=[*self.tool_refs, *self.agent_refs],
            description=spec.description,
            memory=spec.memory is not None,
            max_steps=spec.max_steps,
            memory_options=spec.memory,
        )

    async def _stream(self, msg: StreamGenerate) -> None:
        writer = self.ctx.reply_stream

        async def emit(chunk: Any) -> None:
            await writer.send(chunk)

        await emit(AgentStart(run_id=msg.run_id, agent=self.spec.name))
        try:
            result = await self._turn(msg, emit)
        except Exception as exc:
            await emit(AgentError(run_id=msg.run_id, message=str(exc), kind=type(exc).__name__))
            raise
        await emit(AgentFinish(run_id=msg.run_id, result=result))

    def _runners(self, msg: Generate | StreamGenerate) -> dict[str, ToolRunner]:
        tracer = self.ctx.tracer
        context = msg.request_context
        runners: dict[str, ToolRunner] = {}
        for name, (_, ref) in self.tool_refs.items():
            runners[name] = traced(tracer, name, tool_runner(ref, self.spec.tool_timeout, context))
        for name, (_, agent) in self.agent_refs.items():
            runners[name] = traced(tracer, name, agent_runner(agent, msg.run_id, context))
        if self._working_memory_on(msg):
            runners[WORKING_MEMORY_TOOL.name] = traced(
                tracer, WORKING_MEMORY_TOOL.name, self._memory_runner(msg)
            )
        return runners

    def _working_memory_on(self, msg: Generate | StreamGenerate) -> bool:
        return bool(
            self.memory is not None
            and self.memory.options.working_memory is not None
            and msg.memory is not None
        )

    def _memory_runner(self, msg: Generate | StreamGenerate) -> ToolRunner:
        memory, target = self.memory, msg.memory
        assert memory is not None and target is not None

        async def run(call: ToolCall, args: Any) -> ToolResultRecord:
            text = args.get("memory") if isinstance(args, dict) else None
            if not isinstance(text, str):
                return tool_failed(
                    call, args, "memory: required, a string with the whole new working memory"
                )
            schema = memory.options.working_memory and memory.options.working_memory.schema
            try:
                if schema:
                    parse_structured(text, schema)
                await memory.set_working_memory(target.thread, target.resource, text)
            except (ValueError, StoreError, StructuredOutputError) as exc:
                return tool_failed(call, args, f"memory: {exc}")
            return tool_succeeded(call, args, {"success": True})

        return run

    def _system(self, msg: Generate | StreamGenerate, context: MemoryContext) -> str:
        parts = [self.spec.system_prompt(msg.request_context)]
        if context.working_memory is not None:
            parts.append(
                "## Working memory\n"
                f"{context.working_memory}\n"
                f"Keep it current with the {WORKING_MEMORY_TOOL.name} tool."
            )
        if context.recalled:
            parts.append("## Relevant earlier messages\n" + "\n".join(context.recalled))
        return "\n\n".join(parts)

    def _request(self, msg: Generate | StreamGenerate, prompt: list[ChatMessage]) -> ChatRequest:
        tools = [d for d, _ in self.tool_refs.values()] + [d for d, _ in self.agent_refs.values()]
        if self._working_memory_on(msg):
            tools.append(WORKING_MEMORY_TOOL)
        output = msg.structured_output
        return ChatRequest(
            messages=prompt,
            tools=tools,
            tool_choice=msg.tool_choice,
            temperature=msg.temperature if msg.temperature is not None else self.spec.temperature,
            max_tokens=msg.max_tokens if msg.max_tokens is not None else self.spec.max_tokens,
            response_format=None
            if output is None
            else JsonSchemaFormat(schema=output.schema, name=output.name),
        )

    async def _turn(self, msg: Generate | StreamGenerate, emit: Emit | None) -> GenerateResult:
        with run_scope(msg.run_id), _agent_span(self.ctx.tracer, self.spec.name) as span:
            context = MemoryContext()
            if self.memory is not None and msg.memory is not None:
                query = last_user_text(msg.messages)
                context = await self.memory.load(msg.memory.thread, msg.memory.resource, query)
            prompt = [SystemMessage(content=self._system(msg, context)), *context.history]
            turn = Turn(msg.run_id, [*prompt, *msg.messages])
            try:
                result = await self._run(msg, turn, emit)
            except BaseException as exc:
                if _is_cancellation(exc):
                    await self._save_partial(msg, turn)
                raise
            await self._save(msg, result.messages[len(msg.messages) :])
            _annotate(span, result)
            return result

    async def _run(
        self, msg: Generate | StreamGenerate, turn: Turn, emit: Emit | None
    ) -> GenerateResult:
        base = self._request(msg, turn.prompt)
        max_steps = msg.max_steps or self.spec.max_steps
        last = await run_loop(
            self.model, base, runners=self._runners(msg), max_steps=max_steps, turn=turn, emit=emit
        )
        value: Any = None
        if msg.structured_output is not None:
            last, value = await self._structured(msg, base, turn, last)
        return GenerateResult(
            run_id=msg.run_id,
            text=last.text,
            finish_reason=last.finish_reason,
            usage=turn.usage,
            steps=turn.steps,
            messages=[*msg.messages, *turn.added],
            model=last.model,
            object=value,
        )

    async def _structured(
        self, msg: Generate | StreamGenerate, base: ChatRequest, turn: Turn, last: ChatResult
    ) -> tuple[ChatResult, Any]:
        output = msg.structured_output
        assert output is not None
        try:
            return last, parse_structured(last.text, output.schema)
        except StructuredOutputError as exc:
            problem = str(exc)
        repair = UserMessage(content=REPAIR.format(problem=problem))
        request = msgspec.structs.replace(
            base, messages=[*turn.conversation(), repair], tools=[], tool_choice=None
        )
        fixed = await self.model.chat(request)
        turn.usage = turn.usage + fixed.usage
        turn.steps.append(
            StepResult(
                step=len(turn.steps),
                text=fixed.text,
                tool_calls=[],
                tool_results=[],
                finish_reason=fixed.finish_reason,
                usage=fixed.usage,
                model=fixed.model,
            )
        )
        value = parse_structured(fixed.text, output.schema)
        if turn.added and isinstance(turn.added[-1], AssistantMessage):
            turn.added[-1] = AssistantMessage(content=fixed.text)
        return fixed, value

    async def _save_partial(self, msg: Generate | StreamGenerate, turn: Turn) -> None:
        """Store what a cancelled turn completed (whole steps plus the partial text),
        shielded from the cancellation and bounded by ``SAVE_GRACE``; a failure to store is
        logged so the cancellation is what propagates. A failed turn stores nothing, so a
        retry stores it once."""
        with trio.CancelScope(shield=True), trio.move_on_after(SAVE_GRACE):
            try:
                await self._save(msg, [*turn.added, *_partial(turn)])
            except Exception:
                self.ctx.logger.exception("could not store the partial turn %s", msg.run_id)

    async def _save(self, msg: Generate | StreamGenerate, added: list[ChatMessage]) -> None:
        if self.memory is None or msg.memory is None:
            return
        target = msg.memory
        await self.memory.save_turn(
            target.thread, target.resource, msg.run_id, [*msg.messages, *added]
        )


def _is_cancellation(exc: BaseException) -> bool:
    if isinstance(exc, trio.Cancelled):
        return True
    if isinstance(exc, BaseExceptionGroup):
        _, rest = exc.split(trio.Cancelled)
        return rest is None
    return False


def _partial(turn: Turn) -> list[ChatMessage]:
    return [AssistantMessage(content=turn.partial_text)] if turn.partial_text else []


def _agent_span(tracer: Tracer, agent: str) -> AbstractContextManager[Span]:
    """The ``invoke_agent`` span of a turn (OTel GenAI conventions); with a tracer that
    makes no spans (tracing off), the invalid span, without the cost of making one."""
    if isinstance(tracer, NoOpTracer):
        return nullcontext(INVALID_SPAN)
    attributes = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": agent}
    return tracer.start_as_current_span(f"invoke_agent {agent}", attributes=attributes)


def _annotate(span: Span, result: GenerateResult) -> None:
    if not span.is_recording():
        return
    span.set_attribute("gen_ai.usage.input_tokens", result.usage.input_tokens)
    span.set_attribute("gen_ai.usage.output_tokens", result.usage.output_tokens)
    span.set_attribute("gen_ai.response.finish_reasons", [result.finish_reason])
    if result.model:
        span.set_attribute("gen_ai.response.model", result.model)
    if result.finish_reason == "error":
        span.set_status(Status(StatusCode.ERROR))
