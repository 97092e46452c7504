// The echo server as a stdio process through the whole platform (bootstrap, seam, audit), bundled
// like the real servers (buildEchoServer): the concurrency benchmark's trivial call.
import { runStdioServer } from "@marketsage/core";
import { echoCatalog, echoModule } from "./echo-tool.ts";

await runStdioServer(echoModule, process.env, echoCatalog);
