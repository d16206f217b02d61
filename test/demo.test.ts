// The demo as a new user runs it: `mailroom demo` on an empty data directory sends a campaign through
// the sandbox, and its numbers (delivery reports, opens, clicks) arrive and can be read over GraphQL.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, expect, test } from "vitest";
import { freePort, runMailroom, type MailroomProcess } from "./helpers/process.ts";
import { waitFor } from "./helpers/wait.ts";

let demo: MailroomProcess | undefined;
let dir: string | undefined;

afterAll(async () => {
  if (demo && demo.child.exitCode === null) {
    demo.child.kill("SIGTERM");
    await demo.exited;
  }
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test("mailroom demo: the campaign is sent through the sandbox and its numbers arrive in GraphQL", async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "mailroom-demo-"));
  fs.chmodSync(dir, 0o755);
  // PORT 0: a port of the system's choosing, read from the "Mailroom is ready" line. The embedded database's
  // port is chosen beforehand, and may be taken meanwhile by another program: then choose again.
  for (let attempt = 1; ; attempt++) {
    const pgPort = String(await freePort());
    demo = runMailroom(["demo", "--subscribers", "300"], {
      MAILROOM_DATA_DIR: dir,
      PORT: "0",
      EMBEDDED_PG_PORT: pgPort,
      SANDBOX_TIME_SCALE: "0.01",
      SANDBOX_SEED: "7",
      // People 3 to 15 s after delivery at this time scale: above the 2 s only machines manage.
      SANDBOX_ENGAGEMENT_DELAY_SECONDS: "300-1500",
    });
    try {
      await demo.waitFor(/all 300 accepted messages have their delivery reports/, 150_000);
      break;
    } catch (error) {
      if (attempt >= 3 || !demo.output().includes(`port ${pgPort} on 127.0.0.1 is in use by another program`)) throw error;
    }
  }
  const ready = demo.output().split("\n").find((l) => l.includes('"msg":"Mailroom is ready"'));
  const url = (JSON.parse(ready!) as { url: string }).url;
  const key = /Authorization: Bearer (mrk_[A-Za-z0-9_-]+)/.exec(demo.output())?.[1];
  expect(key).toBeDefined();
  const campaignId = /demo campaign (\d+) started: 300 messages/.exec(demo.output())?.[1];
  expect(campaignId).toBeDefined();

  type Campaign = { status: string; rollup: Record<string, string>; linkClicks: { nodes: { url: string }[] } };
  const read = async () => {
    const response = await fetch(`${url}/graphql`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({
        query: `query($id: BigInt!) { campaignById(id: $id) { status
          rollup { recipients accepted delivered uniqueOpens uniqueClicks opensHumanMailroom clicksHumanMailroom unsubscribes }
          linkClicks { nodes { url } } } }`,
        variables: { id: campaignId },
      }),
    });
    return ((await response.json()) as { data: { campaignById: Campaign } }).data.campaignById;
  };
  // The demo tracks engagement from both sources; some readers unsubscribe (a one-click POST), a little later.
  const campaign = await waitFor(async () => {
    const c = await read();
    return Number(c.rollup.unsubscribes) > 0 && Number(c.rollup.opensHumanMailroom) > 0 ? c : undefined;
  }, 60_000, "unsubscribes and Mailroom's own opens in the demo's numbers");
  const body = { data: { campaignById: campaign } };
  const rollup = body.data.campaignById.rollup;
  // Unsubscribe links are no clicks: none among the clicked links.
  expect(campaign.linkClicks.nodes.length).toBeGreaterThan(0);
  expect(campaign.linkClicks.nodes.filter((n) => n.url.includes("/unsubscribe/"))).toEqual([]);
  expect(body.data.campaignById.status).toBe("finished");
  expect(Number(rollup.recipients)).toBe(300);
  expect(Number(rollup.accepted)).toBe(300);
  // The sandbox's default mix: about 90% delivered, about a third opened, some clicks.
  expect(Number(rollup.delivered)).toBeGreaterThan(200);
  expect(Number(rollup.uniqueOpens)).toBeGreaterThan(0);
  expect(Number(rollup.uniqueClicks)).toBeGreaterThan(0);

  // The same story in the metrics a Prometheus scrape sees.
  const metrics = await (await fetch(`${url}/metrics`)).text();
  expect(metrics).toMatch(/^mailroom_acs_send_results_total\{outcome="accepted"\} 300$/m);
  expect(metrics).toMatch(/^mailroom_messages\{send_status="accepted"\} 300$/m);
  expect(metrics).toMatch(/^mailroom_events_unattributed 0$/m);
}, 200_000);
