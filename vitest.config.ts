import { defineConfig } from "vitest/config";

// Integration tests share one Redis and one Postgres; each file uses its own queue prefix / schema,
// so files may run in parallel, but the machine has 2 cores: keep the pool small.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "runtime/**/*.test.ts", "agents/**/*.test.ts", "queues/**/*.test.ts"],
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
