// The receiver's look at a delivery's text: which events PostgreSQL cannot hold, and their text as received.
import { describe, expect, test } from "vitest";
import { arrayElementTexts, mayHoldUnstorable, unstorableProblem, usableKey } from "../src/http/unstorable-events.ts";

describe("the text of each event of a delivery, as received", () => {
  test("objects, scalars, nested arrays, and strings holding brackets, commas, quotes and backslashes", () => {
    const elements = [`{"a": [1, {"b": "x,]}"}]}`, `"s\\"[,{"`, `17`, `[[1], [2]]`, `{"c": "\\\\"}`, `null`];
    const text = ` [ ${elements.join(" ,\n ")} ] `;
    expect(arrayElementTexts(text)).toEqual(elements);
    expect(elements.map((e) => JSON.parse(e))).toEqual(JSON.parse(text));
  });
  test("an empty array has no elements", () => {
    expect(arrayElementTexts("[]")).toEqual([]);
    expect(arrayElementTexts(" [ \n ] ")).toEqual([]);
  });
});

describe("what PostgreSQL cannot hold", () => {
  const event = { id: "e1", topic: "/subscriptions/s" };
  test("a NUL, a lone surrogate, nesting over 1,000 levels, an id or topic over 512 characters", () => {
    expect(unstorableProblem(`{"s": "a\\u0000b"}`, event)).toContain("NUL");
    expect(unstorableProblem(`{"s": "\\ud800"}`, event)).toContain("lone UTF-16 surrogate");
    expect(unstorableProblem(`{"s": "\\udc00x"}`, event)).toContain("lone UTF-16 surrogate");
    expect(unstorableProblem(`{"s": ${"[".repeat(1001)}${"]".repeat(1001)}}`, event)).toBe("nested deeper than 1000 levels");
    expect(unstorableProblem(`{}`, { id: "x".repeat(513) })).toBe("id longer than 512 characters");
    expect(unstorableProblem(`{}`, { id: "e", source: "x".repeat(513) })).toBe("topic or source longer than 512 characters");
  });
  test("what it can: a surrogate pair, brackets inside strings, 1,000 levels, 512 characters", () => {
    expect(unstorableProblem(`{"s": "\\ud83d\\ude00 and \\u00e9"}`, event)).toBeNull();
    expect(unstorableProblem(`{"s": "${"[".repeat(5000)}"}`, event)).toBeNull();
    expect(unstorableProblem(`{"s": ${"[".repeat(999)}${"]".repeat(999)}}`, event)).toBeNull();
    expect(unstorableProblem(`{}`, { id: "x".repeat(512) })).toBeNull();
  });
  test("the quick look is false for ordinary deliveries and true whenever a closer look is needed", () => {
    const ordinary = JSON.stringify([{ id: "e1", topic: "/t", data: { a: [1, 2], s: "caf\u00e9 \ud83d\ude00" } }]);
    expect(mayHoldUnstorable(ordinary, JSON.parse(ordinary))).toBe(false);
    expect(mayHoldUnstorable(`[{"id":"a\\u0000"}]`, [{ id: "a\u0000" }])).toBe(true);
    expect(mayHoldUnstorable(`[{"s":"\\ud800"}]`, [{}])).toBe(true);
    expect(mayHoldUnstorable(`[${"[".repeat(1001)}${"]".repeat(1001)}]`, [{}])).toBe(true);
    expect(mayHoldUnstorable(`[{}]`, [{ id: "x".repeat(513) }])).toBe(true);
  });
  test("keys usable as they are", () => {
    expect(usableKey("e1")).toBe("e1");
    expect(usableKey("a\u0000b")).toBeUndefined();
    expect(usableKey("x".repeat(513))).toBeUndefined();
    expect(usableKey(42)).toBeUndefined();
  });
});
