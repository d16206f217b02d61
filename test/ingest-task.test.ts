// The ingest_events task merges the deliveries of one job by (schema, delivery count, subscription).
import { describe, expect, test } from "vitest";
import { mergeDeliveries } from "../tasks/ingest_events.ts";

const delivery = (receivedAt: string, deliveryCount: number | null, ids: string[], schema = "eventgrid") => ({
  schema,
  receivedAt,
  deliveryCount,
  subscriptionName: "MAILROOM",
  events: ids.map((id) => ({ id })),
});

describe("merging the deliveries of one job", () => {
  test("same schema, delivery count and subscription: one batch, events in order, the earliest receivedAt", () => {
    const merged = mergeDeliveries([
      delivery("2026-11-27T10:00:00.200Z", 0, ["a", "b"]),
      delivery("2026-11-27T10:00:00.100Z", 0, ["c"]),
    ]);
    expect(merged).toEqual([{ ...delivery("2026-11-27T10:00:00.100Z", 0, ["a", "b", "c"]) }]);
  });

  test("a redelivery (another delivery count) or another schema stays a batch of its own", () => {
    const merged = mergeDeliveries([
      delivery("2026-11-27T10:00:00.000Z", 0, ["a"]),
      delivery("2026-11-27T10:00:00.000Z", 2, ["b"]),
      delivery("2026-11-27T10:00:00.000Z", 0, ["c"], "cloudevents"),
      delivery("2026-11-27T10:00:00.000Z", 0, ["d"]),
    ]);
    expect(merged.map((b) => [b.schema, b.deliveryCount, b.events.map((e) => (e as { id: string }).id)])).toEqual([
      ["eventgrid", 0, ["a", "d"]],
      ["eventgrid", 2, ["b"]],
      ["cloudevents", 0, ["c"]],
    ]);
  });

  test("the input is left as it was", () => {
    const input = [delivery("2026-11-27T10:00:00.000Z", 0, ["a"]), delivery("2026-11-27T10:00:00.000Z", 0, ["b"])];
    mergeDeliveries(input);
    expect(input[0].events).toEqual([{ id: "a" }]);
  });
});
