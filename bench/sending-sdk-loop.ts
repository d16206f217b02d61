// The sandbox alone, driven by a minimal loop of the SDK call the send task makes (AcsResource.send: beginSend
// with the operation id, no retries, no poll after the 202), `concurrency` requests in flight.
//   ./node_modules/.bin/node bench/sending-sdk-loop.ts CONNECTION_STRING N [concurrency=64]
import crypto from "node:crypto";
import { AcsResource } from "../src/sending/acs.ts";

const [connectionString, n, c] = process.argv.slice(2);
const total = Number(n);
const resource = new AcsResource(connectionString);
let next = 0;
let accepted = 0;
const t0 = performance.now();
const cpu0 = process.cpuUsage();
await Promise.all(
  Array.from({ length: Number(c ?? 64) }, async () => {
    while (next < total) {
      const i = next++;
      const outcome = await resource.send(
        {
          senderAddress: "bench@mail.example.com",
          content: { subject: `Hello Person ${i}`, html: `<p>Dear Person ${i},</p><p>News.</p>`, plainText: `Dear Person ${i},\n\nNews.` },
          recipients: { to: [{ address: `loop-${i}@example.org`, displayName: `Person ${i}` }] },
          headers: { "Message-ID": `<${crypto.randomUUID()}@mail.example.com>`, "x-ms-acsemail-validate-message-id": "true" },
        },
        crypto.randomUUID(),
        30_000,
      );
      if (outcome.outcome === "accepted") accepted++;
    }
  }),
);
const cpu = process.cpuUsage(cpu0);
console.log(`accepted=${accepted} seconds=${((performance.now() - t0) / 1000).toFixed(2)} cpu_ms=${((cpu.user + cpu.system) / 1000).toFixed(0)}`);
