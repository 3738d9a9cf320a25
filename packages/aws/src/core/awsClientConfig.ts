// How Herald's AWS clients (DynamoDB, EventBridge, SQS) are configured: a region, an optional
// endpoint override (a local emulator, a VPC endpoint) and optional static credentials; without
// credentials the SDK's standard chain applies (environment, shared config and credentials
// files, SSO, web identity, container and instance metadata).
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface AwsClientOptions {
  /** The AWS region; default the SDK's (AWS_REGION, the shared config file's profile). */
  region?: string;
  /** Sends every request here instead of the service's regional endpoint (http(s)://host:port). */
  endpoint?: string;
  /** Static credentials; default the SDK's standard credential chain. */
  credentials?: AwsCredentials;
  /** Attempts per SDK call, the first included (the SDK retries throttling and 5xx); default 3. */
  maxAttempts?: number;
  /**
   * Longest wait for one HTTP response, in ms; default 30 000. The SDK's own default is none:
   * a connection that stops answering would hold a forwarder or a store call forever.
   */
  requestTimeoutMs?: number;
  /** Longest wait to open a connection, in ms; default 5 000. */
  connectionTimeoutMs?: number;
}

/** The SDK's HTTP handler settings (NodeHttpHandler options). */
export interface AwsRequestHandlerConfig {
  requestTimeout: number;
  connectionTimeout: number;
  /** Without it the SDK only logs a warning when requestTimeout passes, and keeps waiting. */
  throwOnRequestTimeout: true;
}

/** What every AWS SDK v3 client constructor takes from AwsClientOptions. */
export interface AwsClientConfig {
  region?: string;
  endpoint?: string;
  credentials?: AwsCredentials;
  maxAttempts?: number;
  requestHandler: AwsRequestHandlerConfig;
}

export const DEFAULT_AWS_REQUEST_TIMEOUT_MS = 30_000;
export const DEFAULT_AWS_CONNECTION_TIMEOUT_MS = 5_000;

function positiveMs(value: number | undefined, fallback: number, field: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new HeraldError("config.invalid", `${field} must be an integer >= 1 (milliseconds)`, {
      details: { field },
    });
  }
  return value;
}

const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/**
 * Checks `options` and returns the SDK client config, request and connection timeouts always
 * set. Throws HeraldError `config.invalid` for a malformed region, an endpoint that is not an
 * http(s) URL, half a credential pair (the secret is never part of the message) or a timeout
 * that is not a positive integer.
 */
export function awsClientConfig(options: AwsClientOptions = {}): AwsClientConfig {
  const config: AwsClientConfig = {
    requestHandler: {
      requestTimeout: positiveMs(
        options.requestTimeoutMs,
        DEFAULT_AWS_REQUEST_TIMEOUT_MS,
        "requestTimeoutMs",
      ),
      connectionTimeout: positiveMs(
        options.connectionTimeoutMs,
        DEFAULT_AWS_CONNECTION_TIMEOUT_MS,
        "connectionTimeoutMs",
      ),
      throwOnRequestTimeout: true,
    },
  };
  if (options.region !== undefined) {
    if (typeof options.region !== "string" || !REGION.test(options.region)) {
      throw new HeraldError(
        "config.invalid",
        `AWS region ${JSON.stringify(options.region)} is not a region name like us-east-1`,
        { details: { field: "region" } },
      );
    }
    config.region = options.region;
  }
  if (options.endpoint !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(options.endpoint);
    } catch {
      url = undefined;
    }
    if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:")) {
      throw new HeraldError(
        "config.invalid",
        "The AWS endpoint override must be an http(s) URL such as http://127.0.0.1:5000",
        { details: { field: "endpoint" } },
      );
    }
    config.endpoint = url.origin;
  }
  if (options.credentials !== undefined) {
    const { accessKeyId, secretAccessKey, sessionToken } = options.credentials;
    if (
      typeof accessKeyId !== "string" ||
      accessKeyId === "" ||
      typeof secretAccessKey !== "string" ||
      secretAccessKey === ""
    ) {
      throw new HeraldError(
        "config.invalid",
        "AWS credentials need both an access key id and a secret access key",
        { details: { field: "credentials" } },
      );
    }
    config.credentials = {
      accessKeyId,
      secretAccessKey,
      ...(sessionToken === undefined ? {} : { sessionToken }),
    };
  }
  if (options.maxAttempts !== undefined) {
    if (!Number.isSafeInteger(options.maxAttempts) || options.maxAttempts < 1) {
      throw new HeraldError("config.invalid", "maxAttempts must be an integer >= 1", {
        details: { field: "maxAttempts" },
      });
    }
    config.maxAttempts = options.maxAttempts;
  }
  return config;
}
