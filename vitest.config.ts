import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "src/**/*.test.ts"],
    // test/chaos/ is the long fault suite: npm run chaos (vitest.chaos.config.ts).
    exclude: ["test/chaos/**", "**/node_modules/**"],
    globalSetup: ["test/setup/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: files in parallel, each with its own database cloned from the template.
    maxWorkers: 2,
    pool: "forks",
  },
});
