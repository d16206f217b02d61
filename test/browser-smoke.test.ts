// The browser test chain end to end: Debian's Chromium, driven by puppeteer-core, against a node:http server
// on the loopback. The page's image must reach the server, and a click on its link must follow the server's
// 302 to the second page, with exactly one request for the link.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, test } from "vitest";
import { launchBrowser } from "./helpers/browser.ts";

// A 1x1 transparent PNG.
const PIXEL = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==", "base64");

const requests = new Map<string, number>();
const count = (p: string) => requests.get(p) ?? 0;
let server: http.Server;
let base: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const { pathname } = new URL(req.url ?? "/", "http://localhost");
    requests.set(pathname, count(pathname) + 1);
    const send = (status: number, headers: http.OutgoingHttpHeaders, body: string | Buffer = "") => {
      res.writeHead(status, { "cache-control": "no-store", ...headers }).end(body);
    };
    switch (pathname) {
      case "/":
        return send(200, { "content-type": "text/html; charset=utf-8" }, `<!doctype html><title>Start</title>
<img id="pixel" src="/pixel.png" alt="">
<a id="next" href="/go">next</a>`);
      case "/pixel.png":
        return send(200, { "content-type": "image/png" }, PIXEL);
      case "/go":
        return send(302, { location: "/landing" });
      case "/landing":
        return send(200, { "content-type": "text/html; charset=utf-8" }, `<!doctype html><title>Landing</title><h1>Landed</h1>`);
      default:
        return send(404, { "content-type": "text/plain" }, "not found");
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
});

// The browser starts inside the test, so that a missing Chromium is this test failing with the reason.
test("Chromium loads a page's image and follows a link through a 302", { timeout: 20_000 }, async () => {
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    const response = await page.goto(`${base}/`, { waitUntil: "load" });
    expect(response?.status()).toBe(200);
    expect(count("/")).toBe(1);
    expect(count("/pixel.png")).toBe(1);
    expect(await page.$eval("#pixel", (img) => (img as unknown as { naturalWidth: number }).naturalWidth)).toBe(1);

    await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.click("#next")]);
    expect(page.url()).toBe(`${base}/landing`);
    expect(await page.$eval("h1", (h1) => h1.textContent)).toBe("Landed");
    expect(count("/go")).toBe(1);
    expect(count("/landing")).toBe(1);
  } finally {
    await browser.close();
  }
});
