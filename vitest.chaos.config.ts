// npm run chaos: the long fault suite (test/chaos/): outages of minutes, kill -9 of processes under load,
// the hostile request mix with its peak memory. The quick fault tests run in npm test (test/faults/).
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/chaos/**/*.test.ts"],
    globalSetup: ["test/setup/global-setup.ts"],
    testTimeout: 600_000,
    hookTimeout: 120_000,
    maxWorkers: 1,
    pool: "forks",
  },
});
