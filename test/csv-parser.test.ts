// The CSV parser of mailroom import-subscribers: RFC 4180 records whatever the chunk boundaries.
import { describe, expect, it } from "vitest";
import { CsvParser, parseCsv, type CsvRecord } from "../src/commands/csv.ts";
import { copyText } from "../src/commands/copy-from.ts";

function inChunks(text: string, size: number): CsvRecord[] {
  const parser = new CsvParser();
  const out: CsvRecord[] = [];
  for (let i = 0; i < text.length; i += size) parser.push(text.slice(i, i + size), out);
  parser.end(out);
  return out;
}

const SAMPLE = [
  "email,name,note\r\n",
  "a@example.org,Ann,plain\r\n",
  '"b@example.org","Bob, Jr.","says ""hi"""\r\n',
  'c@example.org,"two\r\nlines",""\r\n',
  "\r\n",
  'd@example.org,Dan "the man",x\n',
  'e@example.org,,"a,b\nc"',
].join("");

describe("CSV parser", () => {
  it("reads quoted fields, doubled quotes, CRLF and LF, line breaks inside quotes, and skips blank lines", () => {
    expect(parseCsv(SAMPLE)).toEqual([
      { line: 1, fields: ["email", "name", "note"] },
      { line: 2, fields: ["a@example.org", "Ann", "plain"] },
      { line: 3, fields: ["b@example.org", "Bob, Jr.", 'says "hi"'] },
      { line: 4, fields: ["c@example.org", "two\r\nlines", ""] },
      { line: 7, fields: ["d@example.org", 'Dan "the man"', "x"] },
      { line: 8, fields: ["e@example.org", "", "a,b\nc"] },
    ]);
  });

  it("gives the same records whatever the chunk size (down to one character)", () => {
    const whole = parseCsv(SAMPLE);
    for (const size of [1, 2, 3, 5, 7, 64]) expect(inChunks(SAMPLE, size)).toEqual(whole);
  });

  it("marks malformed records and goes on with the next ones", () => {
    expect(parseCsv('a,"b"c,d\nok,1,2\n"open,3\n')).toEqual([
      { line: 1, fields: ["a", "bc", "d"], error: "unexpected text after a closing quote (field 2)" },
      { line: 2, fields: ["ok", "1", "2"] },
      { line: 3, fields: ["open,3\n"], error: "a quoted field (field 1) is not closed before the end of the file" },
    ]);
  });

  it("keeps a quoted empty line, a last record without a line break, and a lone CR as data", () => {
    expect(parseCsv('""\nx\ry,z')).toEqual([
      { line: 1, fields: [""] },
      { line: 2, fields: ["x\ry", "z"] },
    ]);
  });

  it("escapes values for COPY's text format", () => {
    expect(copyText("a\\b\tc\nd\re")).toBe("a\\\\b\\tc\\nd\\re");
    expect(copyText(null)).toBe("\\N");
    expect(copyText("plain")).toBe("plain");
  });
});
