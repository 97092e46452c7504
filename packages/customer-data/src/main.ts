#!/usr/bin/env node
import { runStdioServer } from "@marketsage/core";
import { customerDataServer } from "./server.ts";

await runStdioServer(customerDataServer, process.env);
