// Pools and clients for tests, each with error handlers. A connection the server ends (a test database
// dropped with force, a server stopped or killed on purpose) emits an error on its client and its pool;
// without a listener that error is an uncaught exception, which fails the whole run.
import pg from "pg";

/** The server ended the connection: terminated (57P01: pg_terminate_backend, drop database with force), shut down or crashed. */
function serverEndedConnection(error: Error & { code?: string }): boolean {
  return ["57P01", "57P02", "57P03"].includes(error.code ?? "") || /Connection terminated/.test(error.message);
}

function connectionError(error: Error): void {
  // The query in flight, if any, fails with the same error, and the test sees it there.
  if (!serverEndedConnection(error)) console.warn(`test database connection error: ${error.message}`);
}

const closing = new WeakMap<pg.Pool, Set<Promise<void>>>();

/** A pg.Pool whose idle and checked-out connections have error handlers; end it with endPool. */
export function testPool(config: pg.PoolConfig): pg.Pool {
  const pool = new pg.Pool(config);
  const open = new Set<Promise<void>>();
  closing.set(pool, open);
  pool.on("error", connectionError);
  pool.on("connect", (client) => {
    client.on("error", connectionError);
    const closed = new Promise<void>((resolve) => client.once("end", () => resolve()));
    open.add(closed);
    void closed.then(() => open.delete(closed));
  });
  return pool;
}

/**
 * Ends the pool and waits until its connections are closed: pool.end() resolves once it has asked them to
 * close, while their server processes may still be there (and be terminated by a drop, for example).
 */
export async function endPool(pool: pg.Pool, timeoutMs = 10_000): Promise<void> {
  if (!pool.ending) await pool.end();
  const open = [...(closing.get(pool) ?? [])];
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(open),
    new Promise((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    }),
  ]);
  clearTimeout(timer);
}

/** A pg.Client with an error handler. */
export function testClient(config: pg.ClientConfig): pg.Client {
  const client = new pg.Client(config);
  client.on("error", connectionError);
  return client;
}
