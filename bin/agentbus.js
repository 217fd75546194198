#!/usr/bin/env node
// The CLI is TypeScript, and so are plugin agents' workers: register tsx's loader, then run.
import { register } from "tsx/esm/api";

register();
await import("../runtime/cli/main.ts");
