// Splits a SQL script into statements, remembering the line each starts on, so that an error can be
// reported as file:line. Understands comments, quoted strings, quoted identifiers and dollar quotes.
export interface SqlStatement {
  sql: string;
  /** 1-based line of the statement's first non-blank character. */
  line: number;
}

export function splitSqlStatements(script: string): SqlStatement[] {
  const statements: SqlStatement[] = [];
  let start = 0;
  let i = 0;
  const push = (end: number) => {
    const text = script.slice(start, end);
    const body = text.replace(/^(\s|--[^\n]*\n?)*/, "");
    if (body.replace(/--[^\n]*/g, "").trim() !== "") {
      const offset = start + (text.length - body.length);
      const line = script.slice(0, offset).split("\n").length;
      statements.push({ sql: body.trim(), line });
    }
    start = end + 1;
  };
  while (i < script.length) {
    const c = script[i];
    if (c === "-" && script[i + 1] === "-") {
      const end = script.indexOf("\n", i);
      i = end === -1 ? script.length : end + 1;
    } else if (c === "/" && script[i + 1] === "*") {
      const end = script.indexOf("*/", i + 2);
      i = end === -1 ? script.length : end + 2;
    } else if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < script.length) {
        if (script[j] === c && script[j + 1] === c) j += 2;
        else if (script[j] === c) break;
        else j++;
      }
      i = j + 1;
    } else if (c === "$") {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(script.slice(i));
      if (tag) {
        const end = script.indexOf(tag[0], i + tag[0].length);
        i = end === -1 ? script.length : end + tag[0].length;
      } else {
        i++;
      }
    } else if (c === ";") {
      push(i);
      i++;
    } else {
      i++;
    }
  }
  push(script.length);
  return statements;
}
