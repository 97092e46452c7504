import { describe, expect, it } from "vitest";
import { loadConfig, serverDisabledReason, ConfigError } from "../src/index.ts";

describe("configuration", () => {
  it("defaults: everything on, writable, no allow-list", () => {
    const c = loadConfig({});
    expect(c.flags.mcpEnabled).toBe(true);
    expect(c.flags.readOnly).toBe(false);
    expect(c.flags.tools).toBeUndefined();
    expect(serverDisabledReason(c.flags, "leadpulse")).toBeUndefined();
  });

  it("reads the global and per-server flags", () => {
    expect(serverDisabledReason(loadConfig({ MCP_ENABLED: "false" }).flags, "monitoring")).toBe("MCP_ENABLED is false");
    expect(serverDisabledReason(loadConfig({ MCP_CUSTOMER_DATA_ENABLED: "0" }).flags, "customer-data")).toBe("MCP_CUSTOMER_DATA_ENABLED is false");
    expect(serverDisabledReason(loadConfig({ MCP_CUSTOMER_DATA_ENABLED: "0" }).flags, "monitoring")).toBeUndefined();
    expect([...loadConfig({ MCP_TOOLS: "a, b" }).flags.tools!]).toEqual(["a", "b"]);
  });

  it("refuses a value it cannot read, naming the variable", () => {
    expect(() => loadConfig({ MCP_READ_ONLY: "maybe" })).toThrow(ConfigError);
    expect(() => loadConfig({ MCP_READ_ONLY: "maybe" })).toThrow(/MCP_READ_ONLY: expected true or false/);
    expect(() => loadConfig({ MCP_ROLLOUT_PERCENT: "150" })).toThrow(/MCP_ROLLOUT_PERCENT/);
  });
});
