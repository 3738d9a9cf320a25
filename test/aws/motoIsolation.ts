// startMoto with moto's DynamoDB requests serialised (motoIsolation/sitecustomize.py): moto 5
// gives concurrent TransactWriteItems no isolation (a concurrent transaction's rollback restores
// a stale snapshot of the table, or the snapshot fails with HTTP 500), where real DynamoDB
// transactions are serializable. Tests of concurrent writers need DynamoDB's semantics.
import { fileURLToPath } from "node:url";
import { type MotoServer, startMoto } from "../helpers/motoServer.js";

const SITE = fileURLToPath(new URL("./motoIsolation", import.meta.url));

/** A moto server whose DynamoDB handles one request at a time. */
export async function startIsolatedMoto(): Promise<MotoServer> {
  const before = process.env.PYTHONPATH;
  process.env.PYTHONPATH = before === undefined || before === "" ? SITE : `${SITE}:${before}`;
  try {
    return await startMoto();
  } finally {
    if (before === undefined) delete process.env.PYTHONPATH;
    else process.env.PYTHONPATH = before;
  }
}
