// A streaming CSV parser (RFC 4180): fields separated by commas, records by CRLF or LF; a field may be quoted,
// and then holds commas, line breaks and doubled quotes ("" for "). Text is fed in chunks of any size (a chunk
// may end anywhere, even between the two quotes of a "" pair) and whole records come out, each with the line
// of the file it starts on (1-based; a record with a line break inside quotes spans several lines).
//
// Lenient where RFC 4180 is silent and the meaning is clear: a quote inside an unquoted field is kept as a
// character (PostgreSQL's COPY does the same), and a lone CR is data. Malformed input does not stop the parse:
// text after a closing quote (`"a"b`) or a quote left open at the end of the file marks the record with an error.

export interface CsvRecord {
  /** The line the record starts on, counting from 1. */
  line: number;
  fields: string[];
  /** Why the record is malformed; its fields are then what could be read. */
  error?: string;
}

const COMMA = 44;
const QUOTE = 34;
const LF = 10;
const CR = 13;

export class CsvParser {
  private fields: string[] = [];
  private field = "";
  /** Inside the quotes of a quoted field. */
  private inQuotes = false;
  /** Just after a quote that closed (or, if another quote follows, escaped) a quoted field. */
  private afterQuote = false;
  private error: string | undefined;
  private line = 1;
  private recordLine = 1;

  /** Parses the next chunk; completed records are appended to `out`. */
  push(chunk: string, out: CsvRecord[]): void {
    let start = 0; // where the current run of plain characters began
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (this.inQuotes) {
        if (c === QUOTE) {
          this.field += chunk.slice(start, i);
          this.inQuotes = false;
          this.afterQuote = true;
          start = i + 1;
        } else if (c === LF) {
          this.line++;
        }
        continue;
      }
      if (this.afterQuote) {
        if (c === QUOTE) {
          // "" inside a quoted field: one quote, and still inside the quotes.
          this.field += '"';
          this.inQuotes = true;
          this.afterQuote = false;
          start = i + 1;
          continue;
        }
        if (c !== COMMA && c !== LF && c !== CR) {
          this.error ??= `unexpected text after a closing quote (field ${this.fields.length + 1})`;
          this.afterQuote = false;
          start = i;
          continue;
        }
        if (c === CR) {
          start = i + 1;
          continue;
        }
      }
      if (c === COMMA) {
        this.field += chunk.slice(start, i);
        this.endField();
        start = i + 1;
      } else if (c === LF) {
        this.field += chunk.slice(start, i);
        if (!this.afterQuote && this.field.charCodeAt(this.field.length - 1) === CR) {
          this.field = this.field.slice(0, -1);
        }
        this.endRecord(out);
        this.line++;
        this.recordLine = this.line;
        start = i + 1;
      } else if (c === QUOTE && i === start && this.field === "" && !this.afterQuote) {
        this.inQuotes = true;
        start = i + 1;
      }
    }
    if (!this.afterQuote) this.field += chunk.slice(start);
  }

  /** The end of the input: the last record when the file does not end with a line break. */
  end(out: CsvRecord[]): void {
    if (this.inQuotes) {
      this.error ??= `a quoted field (field ${this.fields.length + 1}) is not closed before the end of the file`;
      this.endRecord(out);
    } else if (this.fields.length > 0 || this.field !== "" || this.afterQuote) {
      this.endRecord(out);
    }
  }

  private endField(): void {
    this.fields.push(this.field);
    this.field = "";
    this.afterQuote = false;
  }

  private endRecord(out: CsvRecord[]): void {
    const quotedEmpty = this.afterQuote;
    this.endField();
    const record: CsvRecord = { line: this.recordLine, fields: this.fields };
    if (this.error !== undefined) record.error = this.error;
    // A blank line is no record (a quoted empty field "" on its own line is one).
    if (!(this.fields.length === 1 && this.fields[0] === "" && !quotedEmpty && this.error === undefined)) {
      out.push(record);
    }
    this.fields = [];
    this.error = undefined;
  }
}

/** Parses a whole text: for tests and small inputs. */
export function parseCsv(text: string): CsvRecord[] {
  const parser = new CsvParser();
  const out: CsvRecord[] = [];
  parser.push(text, out);
  parser.end(out);
  return out;
}
