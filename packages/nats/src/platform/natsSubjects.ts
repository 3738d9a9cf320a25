// The subject convention of the NATS platform, and the permissions each identity's connection
// gets from the auth callout:
//   agent {kind} {id}: subscribe agent.{kind}.{id}.cmd, agent.{kind}.broadcast, agent.broadcast
//                      and its own inbox; publish agent.{kind}.{id}.evt; reply to requests
//   client {tenant} {user}: subscribe client.{tenant}.evt and client.{tenant}.{user}.evt; publish
//                      nothing
//   service: anything in the application account (Herald's own processes)
import type {
  NatsAgentKind,
  NatsIdentity,
} from "@heraldjs/core/internal/model/natsTokenRecords.js";
import { natsAgentKind } from "@heraldjs/core/internal/model/natsTokenRecords.js";

/** The subject an agent receives commands on. */
export function agentCommandSubject(kind: NatsAgentKind, id: string): string {
  return `agent.${kind}.${id}.cmd`;
}

/** The subject an agent publishes its events on. */
export function agentEventSubject(kind: NatsAgentKind, id: string): string {
  return `agent.${kind}.${id}.evt`;
}

/** Broadcast to every agent of a kind, or to every agent (no kind). */
export function agentBroadcastSubject(kind?: NatsAgentKind): string {
  return kind === undefined ? "agent.broadcast" : `agent.${kind}.broadcast`;
}

/** Live events of a tenant, or of one user of it. */
export function clientEventSubject(tenant: string, user?: string): string {
  return user === undefined ? `client.${tenant}.evt` : `client.${tenant}.${user}.evt`;
}

/**
 * The inbox prefix an agent connects with (nats.js `inboxPrefix`), so the replies to its own
 * requests (JetStream PubAcks among them) come to subjects only it may read.
 */
export function agentInboxPrefix(kind: NatsAgentKind, id: string): string {
  return `_INBOX_agent.${kind}.${id}`;
}

/** The permissions of a user JWT (the NATS JWT `pub`, `sub` and `resp` claims). */
export interface NatsUserPermissions {
  pub: { allow?: string[]; deny?: string[] };
  sub: { allow?: string[]; deny?: string[] };
  /** Lets the user publish one reply to each request it received, within `ttl` ns. */
  resp?: { max: number; ttl: number };
}

/** What a connection of this identity may do; `subjectId` is its agent id or user id. */
export function natsPermissions(
  identity: NatsIdentity,
  subjectId: string,
  tenant: string,
): NatsUserPermissions {
  const kind = natsAgentKind(identity);
  if (kind !== undefined) {
    return {
      pub: { allow: [agentEventSubject(kind, subjectId)] },
      sub: {
        allow: [
          agentCommandSubject(kind, subjectId),
          agentBroadcastSubject(kind),
          agentBroadcastSubject(),
          `${agentInboxPrefix(kind, subjectId)}.>`,
        ],
      },
      // One reply per command, within a minute of it.
      resp: { max: 1, ttl: 60_000_000_000 },
    };
  }
  if (identity === "client") {
    return {
      // An empty allow list would allow everything: deny is what closes publishing.
      pub: { deny: [">"] },
      sub: { allow: [clientEventSubject(tenant), clientEventSubject(tenant, subjectId)] },
    };
  }
  return { pub: {}, sub: {} };
}
