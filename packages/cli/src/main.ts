#!/usr/bin/env node
import { run } from "./cli.js";

const code = await run(process.argv.slice(2));
// A command stopped by Ctrl-C (130) or SIGTERM (143) has cleaned up; output still queued for a
// reader that stopped reading (a pipe) must not keep the process alive, as it would not docker.
if (code === 130 || code === 143) process.exit(code);
process.exitCode = code;
