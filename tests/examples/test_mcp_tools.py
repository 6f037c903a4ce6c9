from __future__ import annotations

from examples import mcp_tools


async def test_agent_calls_the_tool_of_an_mcp_server() -> None:
    result = await mcp_tools.main("Lisbon")
    (call,) = result.tool_calls
    assert call.tool_name == "weather_get_weather"
    assert call.args == {"city": "Lisbon"}
    (outcome,) = result.tool_results
    assert outcome.ok, outcome.error
    assert outcome.result["structuredContent"] == {
        "city": "Lisbon",
        "temperature_c": 24,
        "conditions": "sunny",
    }
    assert result.text.startswith("In Lisbon: ")
    assert '"conditions":"sunny"' in result.text.replace(" ", "")
