// Which process each PostgreSQL backend of a database works for: a backend's client port
// (pg_stat_activity.client_port) is the local port of a TCP socket that some process on this
// machine holds open. /proc/net/tcp{,6} gives each socket's local port and inode, and
// /proc/<pid>/fd the inodes a process holds. Loopback only: the bench connects to 127.0.0.1.
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import type pg from "pg";
import { LISTENERS_LOCK_CLASS } from "../packages/postgres/src/store/postgres/wakeUpTurns.js";

/** Local port → socket inode, of every TCP socket in this network namespace. */
function socketInodesByPort(): Map<number, string> {
  const byPort = new Map<number, string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = readFileSync(table, "utf8");
    } catch {
      continue; // no IPv6 table
    }
    for (const line of text.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      if (fields.length < 10) continue;
      const port = Number.parseInt(fields[1]!.split(":").at(-1)!, 16);
      if (fields[9] !== "0") byPort.set(port, fields[9]!);
    }
  }
  return byPort;
}

/** The socket inodes process `pid` holds open (none if it is gone or not ours to read). */
function socketInodesOf(pid: number): Set<string> {
  const inodes = new Set<string>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return inodes;
  }
  for (const fd of fds) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match !== null) inodes.add(match[1]!);
    } catch {
      // closed meanwhile
    }
  }
  return inodes;
}

export interface BackendOwner {
  /** The backend's process id. */
  backendPid: number;
  /** The label of the process whose connection it serves, or null when none of `owners`. */
  owner: string | null;
  /** A worker's wake-up connection (it holds the listeners' advisory lock). */
  listening: boolean;
}

/**
 * The backends of `client`'s database (other than its own), each with the label of the process
 * in `owners` (pid → label) whose TCP connection it serves.
 */
export async function backendOwners(
  client: pg.Client,
  owners: ReadonlyMap<number, string>,
): Promise<BackendOwner[]> {
  const { rows } = await client.query<{
    pid: number;
    client_port: number | null;
    listening: boolean;
  }>(
    `SELECT a.pid, a.client_port, EXISTS (
       SELECT 1 FROM pg_locks l
       WHERE l.pid = a.pid AND l.locktype = 'advisory' AND l.classid = $1 AND l.objsubid = 2
     ) AS listening
     FROM pg_stat_activity a
     WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()
       AND a.backend_type = 'client backend'`,
    [LISTENERS_LOCK_CLASS],
  );
  const inodes = socketInodesByPort();
  const ownerOfInode = new Map<string, string>();
  for (const [pid, label] of owners) {
    for (const inode of socketInodesOf(pid)) ownerOfInode.set(inode, label);
  }
  return rows.map((row) => {
    const inode = row.client_port === null ? undefined : inodes.get(row.client_port);
    return {
      backendPid: row.pid,
      owner: inode === undefined ? null : (ownerOfInode.get(inode) ?? null),
      listening: row.listening,
    };
  });
}
