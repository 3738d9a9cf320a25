// The `nats:` and `functions:` sections of herald.yaml: the transports `herald serve` and
// `herald worker` build besides HTTP (serviceTransports.ts builds them, docs/config.md).

import type { DeliveryFunction } from "@heraldjs/core/internal/delivery/transports/function.js";
import { z } from "zod";

/** The stream Herald publishes `transport: nats` deliveries into when `nats.stream` is absent. */
export const DEFAULT_NATS_STREAM = "HERALD_WEBHOOKS";
/** The subjects that stream captures when Herald creates it and `nats.subjects` is absent. */
export const DEFAULT_NATS_SUBJECTS: readonly string[] = Object.freeze(["webhooks.>"]);

/** A JetStream stream name: no white space, `.`, `*`, `>`, `/` or `\`. */
export const NATS_STREAM_PATTERN = /^[^\s.*>/\\]{1,255}$/;

const streamNameSchema = z.string().regex(NATS_STREAM_PATTERN, {
  error:
    "must be a JetStream stream name (1–255 characters, no spaces, '.', '*', '>', '/' or '\\')",
});

// A subject token, or `*`; `>` only as the last token.
const TOKEN = "[^\\s.*>]+";
/** A subject a stream captures: `orders.>`, `billing.*.created`. */
export const STREAM_SUBJECT_PATTERN = new RegExp(
  `^(?:(?:${TOKEN}|\\*)(?:\\.(?:${TOKEN}|\\*))*(?:\\.>)?|>)$`,
);

const streamSubjectSchema = z.string().max(1024).regex(STREAM_SUBJECT_PATTERN, {
  error: "must be a NATS subject; '*' matches one token, '>' the rest (as the last token)",
});

const serverSchema = z
  .string()
  .min(1)
  .max(4096)
  .regex(/^\S+$/, { error: "must be a NATS server URL without white space" });

export const natsSectionSchema = z
  .strictObject({
    /** `nats://host:4222`, or several of a cluster. */
    servers: z.union([serverSchema, z.array(serverSchema).min(1).max(64)]).optional(),
    /** A `.creds` file (user JWT + nkey seed), relative to the config file. */
    creds_file: z.string().min(1).max(4096).optional(),
    user: z.string().min(1).max(1024).optional(),
    password: z.string().min(1).max(1024).optional(),
    token: z.string().min(1).max(4096).optional(),
    stream: streamNameSchema.optional(),
    subjects: z.array(streamSubjectSchema).min(1).max(256).optional(),
  })
  .nullable()
  .optional();

export const functionsSectionSchema = z
  .strictObject({
    /** An ES module whose named exports are the functions; relative to the config file. */
    module: z.string().min(1).max(4096),
  })
  .nullable()
  .optional();

/** The NATS connection and stream of `transport: nats` endpoints, after the environment. */
export interface NatsSettings {
  servers: string[];
  /** Absolute path of the credentials file; null: none. */
  credsFile: string | null;
  user: string | null;
  password: string | null;
  token: string | null;
  stream: string;
  /** Subjects the stream captures when Herald creates it (an existing stream keeps its own). */
  subjects: string[];
}

/** The functions module, loaded: its named exports that are functions, by name. */
export interface FunctionsModule {
  /** Absolute path of the module. */
  module: string;
  functions: ReadonlyMap<string, DeliveryFunction>;
}
