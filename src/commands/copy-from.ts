// COPY ... FROM STDIN on a node-postgres client: the statement is sent as a query object the client queues
// like any other, then data is written in chunks (waiting when the socket's buffer is full) and ended.
import { once } from "node:events";
import type { Writable } from "node:stream";
import type pg from "pg";

interface Connection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
  sendCopyFail(message: string): void;
  stream: Writable;
}

class CopyFromQuery {
  readonly text: string;
  private rowCount = 0;
  private failed: Error | undefined;
  private readonly started: Promise<Connection>;
  private resolveStarted!: (connection: Connection) => void;
  private rejectStarted!: (error: Error) => void;
  readonly done: Promise<number>;
  private resolveDone!: (rows: number) => void;
  private rejectDone!: (error: Error) => void;

  constructor(text: string) {
    this.text = text;
    this.started = new Promise((resolve, reject) => {
      this.resolveStarted = resolve;
      this.rejectStarted = reject;
    });
    this.done = new Promise((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    // Whoever awaits only one of them must not see an unhandled rejection from the other.
    this.started.catch(() => undefined);
    this.done.catch(() => undefined);
  }

  // The protocol of node-postgres query objects.
  submit(connection: Connection): void {
    connection.query(this.text);
  }
  handleCopyInResponse(connection: Connection): void {
    this.resolveStarted(connection);
  }
  handleCommandComplete(message: { text: string }): void {
    this.rowCount = Number(/(\d+)$/.exec(message.text)?.[1] ?? 0);
  }
  handleReadyForQuery(): void {
    if (this.failed) this.rejectDone(this.failed);
    else this.resolveDone(this.rowCount);
  }
  handleError(error: Error): void {
    this.failed = error;
    this.rejectStarted(error);
    this.rejectDone(error);
  }
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyData(): void {}

  async write(chunk: Buffer): Promise<void> {
    const connection = await this.started;
    if (this.failed) throw this.failed;
    connection.sendCopyFromChunk(chunk);
    if (connection.stream.writableNeedDrain) await once(connection.stream, "drain");
  }

  async end(): Promise<number> {
    const connection = await this.started;
    connection.endCopyFrom();
    return this.done;
  }

  async abort(reason: string): Promise<void> {
    const connection = await this.started.catch(() => undefined);
    if (connection && !this.failed) connection.sendCopyFail(reason);
    await this.done.catch(() => undefined);
  }
}

export interface CopyFrom {
  write(chunk: Buffer): Promise<void>;
  /** Ends the data; resolves with the number of rows copied. */
  end(): Promise<number>;
  /** Abandons the COPY (the statement fails with the reason; the transaction must be rolled back). */
  abort(reason: string): Promise<void>;
}

/** Starts `COPY ... FROM STDIN` (text format) on the client. */
export function copyFrom(client: pg.ClientBase, statement: string): CopyFrom {
  const query = new CopyFromQuery(statement);
  (client as unknown as { query(q: unknown): unknown }).query(query);
  return query;
}

/** A value in COPY's text format: backslash, tab, newline and carriage return escaped; NULL as \N. */
export function copyText(value: string | null | undefined): string {
  if (value === null || value === undefined) return "\\N";
  if (!/[\\\t\n\r]/.test(value)) return value;
  return value.replace(/[\\\t\n\r]/g, (c) => (c === "\\" ? "\\\\" : c === "\t" ? "\\t" : c === "\n" ? "\\n" : "\\r"));
}
