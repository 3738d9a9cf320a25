// Creates the JetStream stream events are published to when it does not exist yet; an
// existing stream is left as its operator configured it.

import { DEFAULT_DUPLICATE_WINDOW_MS } from "@heraldjs/core/internal/bus/duplicateWindow.js";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import type { JetStreamManager, StreamInfo } from "@nats-io/jetstream";
import { loadNats, type NatsConnection } from "./load.js";

export const DEFAULT_STREAM_NAME = "HERALD";
export const DEFAULT_STREAM_SUBJECTS: readonly string[] = ["herald.>"];

export interface NatsStreamOptions {
  /** Stream name; default `HERALD`. */
  stream?: string;
  /** Subjects the stream captures; default `["herald.>"]` (the default subject prefix). */
  subjects?: readonly string[];
  /**
   * How long the server remembers a `Nats-Msg-Id` to drop re-sends; default 2 h. It must
   * outlast the longest time between a publish and its re-send (a forwarder crash and
   * restart). Only applied when Herald creates the stream.
   */
  duplicateWindowMs?: number;
}

/** What the stream looks like after ensureNatsStream. */
export interface NatsStreamState {
  stream: string;
  created: boolean;
  subjects: string[];
  duplicateWindowMs: number;
  messages: number;
}

function state(info: StreamInfo, created: boolean): NatsStreamState {
  return {
    stream: info.config.name,
    created,
    subjects: info.config.subjects ?? [],
    // duplicate_window is in nanoseconds.
    duplicateWindowMs: Math.round((info.config.duplicate_window ?? 0) / 1e6),
    messages: info.state.messages,
  };
}

async function existing(jsm: JetStreamManager, name: string): Promise<StreamInfo | undefined> {
  const { jetstream } = await loadNats();
  try {
    return await jsm.streams.info(name);
  } catch (error) {
    if (
      error instanceof jetstream.JetStreamApiError &&
      error.code === jetstream.JetStreamApiCodes.StreamNotFound
    ) {
      return undefined;
    }
    throw error;
  }
}

/** Ensures the stream exists (file storage, limits retention). Safe when processes race. */
export async function ensureNatsStream(
  connection: NatsConnection,
  options: NatsStreamOptions = {},
): Promise<NatsStreamState> {
  const {
    stream = DEFAULT_STREAM_NAME,
    subjects = DEFAULT_STREAM_SUBJECTS,
    duplicateWindowMs = DEFAULT_DUPLICATE_WINDOW_MS,
  } = options;
  if (!Number.isFinite(duplicateWindowMs) || duplicateWindowMs <= 0) {
    throw new HeraldError(
      "config.invalid",
      `duplicateWindowMs must be positive, got ${duplicateWindowMs}`,
    );
  }
  const { jetstream, transport } = await loadNats();
  try {
    const jsm = await jetstream.jetstreamManager(connection);
    const found = await existing(jsm, stream);
    if (found !== undefined) return state(found, false);
    try {
      const info = await jsm.streams.add({
        name: stream,
        subjects: [...subjects],
        storage: jetstream.StorageType.File,
        retention: jetstream.RetentionPolicy.Limits,
        duplicate_window: transport.nanos(duplicateWindowMs),
      });
      return state(info, true);
    } catch (error) {
      // Another process created it between our lookup and our add.
      const raced = await existing(jsm, stream);
      if (raced !== undefined) return state(raced, false);
      throw error;
    }
  } catch (error) {
    if (error instanceof HeraldError) throw error;
    throw new HeraldError("bus.unavailable", `Cannot set up JetStream stream ${stream}`, {
      cause: error,
      details: { stream },
    });
  }
}
