// A JetStream stream of its own for one test file: a unique name and subject prefix, so test
// files never capture each other's messages; deleted afterwards.
import { randomBytes } from "node:crypto";
import {
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  jetstreamManager,
} from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { serviceUrl } from "../helpers/services.js";

export interface TestStream {
  /** Stream name, e.g. `HERALD_T_NATSBUS_1A2B3C4D`. */
  stream: string;
  /** Subject prefix the stream captures (`<prefix>.>`). */
  prefix: string;
  subjects: string[];
  connection: NatsConnection;
  jsm: JetStreamManager;
  /** Messages stored in the stream now. */
  count(): Promise<number>;
  /** `Nats-Msg-Id` of every stored message, in stream order. */
  msgIds(): Promise<string[]>;
  delete(): Promise<void>;
}

export async function createTestStream(label: string): Promise<TestStream> {
  const suffix = randomBytes(4).toString("hex");
  const clean = label.toLowerCase().replace(/[^a-z0-9]/g, "");
  const stream = `HERALD_T_${clean.toUpperCase()}_${suffix.toUpperCase()}`;
  const prefix = `t${clean}${suffix}`;
  const connection = await connect({ servers: serviceUrl("nats") });
  const jsm = await jetstreamManager(connection);
  return {
    stream,
    prefix,
    subjects: [`${prefix}.>`],
    connection,
    jsm,
    async count() {
      try {
        return (await jsm.streams.info(stream)).state.messages;
      } catch (error) {
        // The publisher under test creates the stream; until it has, nothing is stored.
        if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound) {
          return 0;
        }
        throw error;
      }
    },
    async msgIds() {
      const info = await jsm.streams.info(stream);
      const ids: string[] = [];
      for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
        const stored = await jsm.streams.getMessage(stream, { seq });
        if (stored !== null) ids.push(stored.header.get("Nats-Msg-Id"));
      }
      return ids;
    },
    async delete() {
      await jsm.streams.delete(stream).catch(() => false);
      await connection.drain();
    },
  };
}
