// Browser tests: headless Chromium from Debian's `chromium` package, driven by puppeteer-core (which never
// downloads a browser of its own). Where Chromium is: MAILROOM_CHROMIUM, else `chromium` on PATH, else
// /usr/bin/chromium. `npm test` (scripts/test.ts) finds or installs it first and passes the path in
// MAILROOM_CHROMIUM, or the reason it has none in MAILROOM_CHROMIUM_MISSING; a browser test without Chromium
// fails with that reason, it is never skipped.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Browser, LaunchOptions } from "puppeteer-core";

export type ChromiumLookup = { path: string } | { missing: string };

const HOW_TO_GET_IT =
  "install Debian's chromium package (apt-get install chromium; `npm test` does it when run as root) " +
  "or set MAILROOM_CHROMIUM to a Chromium binary";

function executable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Where Chromium is, or why there is none; never installs anything. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): ChromiumLookup {
  const chosen = env.MAILROOM_CHROMIUM;
  if (chosen) {
    return executable(chosen) ? { path: chosen } : { missing: `MAILROOM_CHROMIUM=${chosen} is not an executable file` };
  }
  for (const dir of (env.PATH ?? "").split(path.delimiter)) {
    if (dir && executable(path.join(dir, "chromium"))) return { path: path.join(dir, "chromium") };
  }
  if (executable("/usr/bin/chromium")) return { path: "/usr/bin/chromium" };
  return { missing: `Chromium is not installed (no chromium on PATH, no /usr/bin/chromium, MAILROOM_CHROMIUM unset): ${HOW_TO_GET_IT}` };
}

/** The Chromium binary for the browser tests; throws the reason when there is none. */
export function browserPath(): string {
  const found = findChromium();
  if ("path" in found) return found.path;
  // npm test's own reason (say, the apt-get install failed) says more than the lookup's.
  throw new Error(process.env.MAILROOM_CHROMIUM_MISSING || found.missing);
}

const profiles = new Set<string>();
function removeProfile(dir: string) {
  profiles.delete(dir);
  fs.rmSync(dir, { recursive: true, force: true });
}
// A test that dies before close(): puppeteer kills its Chromium at exit, this removes the profile.
process.once("exit", () => {
  for (const dir of profiles) removeProfile(dir);
});

/**
 * Headless Chromium with a fresh temporary profile, and `--no-sandbox` (CI runs as root, where Chromium's
 * sandbox refuses to start). `browser.close()` stops it and removes the profile. `options` are added to
 * puppeteer's launch options (`args` are appended to these).
 */
export async function launchBrowser(options: LaunchOptions = {}): Promise<Browser> {
  const executablePath = browserPath();
  const { default: puppeteer } = await import("puppeteer-core");
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "mailroom-chromium-"));
  profiles.add(profile);
  let browser: Browser;
  try {
    browser = await puppeteer.launch({
      timeout: 30_000,
      ...options,
      executablePath,
      headless: true,
      userDataDir: profile,
      args: ["--no-sandbox", ...(options.args ?? [])],
    });
  } catch (error) {
    removeProfile(profile);
    throw new Error(`Chromium (${executablePath}) did not start: ${(error as Error).message}`, { cause: error });
  }
  const close = browser.close.bind(browser);
  // An own property, so that browser[Symbol.asyncDispose]() (which calls this.close()) cleans up too.
  browser.close = async () => {
    try {
      await close();
    } finally {
      removeProfile(profile);
    }
  };
  return browser;
}
