// Ad-hoc targets of `dispatch({ url, secretName })`. Deliveries reference an endpoint, so an
// ad-hoc URL gets an internal one: `adhoc: true` (never routed to, never listed), naming the
// secret that signs it (resolved by the worker at every attempt), with an id derived from what
// makes it distinct, so every dispatch to the same target shares one endpoint (one rate limit,
// one failure run, one place to enable it again after a 410).
import { createHash } from "node:crypto";
import { HeraldError, isHeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import type { RetryPolicy } from "../core/retryPolicy.js";
import type { EndpointRecord } from "../model/deliveryRecords.js";
import { namedSecretNotFound } from "../model/namedSecretRecords.js";
import type { DeliveryStore } from "../store/deliveryPorts.js";

export interface AdhocTarget {
  tenant: string;
  /** An absolute http(s) URL. */
  url: string;
  /** A named secret of the tenant. */
  secretName: string;
  /** Normalised; null = the dispatcher's default policy. */
  retry: RetryPolicy | null;
}

/** `adhoc_` and 32 hex digits of SHA-256 over the tenant, URL, secret name and retry policy. */
export function adhocEndpointId(target: AdhocTarget): string {
  const identity = JSON.stringify([target.tenant, target.url, target.secretName, target.retry]);
  return `adhoc_${createHash("sha256").update(identity).digest("hex").slice(0, 32)}`;
}

/**
 * The target's endpoint, created on first use (also when two dispatches race to create it).
 * Throws `secret.not_found` when the tenant has no secret of that name. An existing endpoint is
 * returned as it is, disabled or not: a target disabled by a 410 or auto-disable stays so until
 * `POST /v1/endpoints/<id>/enable`, and its deliveries wait.
 */
export async function adhocEndpoint(
  store: Pick<DeliveryStore, "getNamedSecret" | "getEndpoint" | "createEndpoint">,
  target: AdhocTarget,
): Promise<EndpointRecord> {
  const secret = await store.getNamedSecret(target.tenant, target.secretName);
  if (secret === undefined) throw namedSecretNotFound(target.tenant, target.secretName);
  const id = adhocEndpointId(target);
  const existing = await store.getEndpoint(id);
  if (existing !== undefined) return sameTarget(existing, target);
  try {
    return await store.createEndpoint({
      id,
      tenant: target.tenant,
      description: `ad hoc: ${target.url} signed with secret ${target.secretName}`,
      transport: "http",
      target: target.url,
      // Required of every endpoint; never consulted, since ad-hoc endpoints are not routed to.
      eventTypes: ["*"],
      scheme: secret.scheme,
      schemeOptions: secret.schemeOptions,
      secretName: target.secretName,
      adhoc: true,
      retry: target.retry,
    });
  } catch (error) {
    if (!isHeraldError(error, "endpoint.already_exists")) throw error;
    const created = await store.getEndpoint(id);
    if (created === undefined) {
      throw new HeraldError("endpoint.not_found", `Ad-hoc endpoint ${id} vanished`, {
        cause: error,
      });
    }
    return sameTarget(created, target);
  }
}

/** The endpoint when it is this target's; an endpoint created with its id by hand is refused. */
function sameTarget(endpoint: EndpointRecord, target: AdhocTarget): EndpointRecord {
  if (
    endpoint.adhoc &&
    endpoint.tenant === target.tenant &&
    endpoint.target === target.url &&
    endpoint.secretName === target.secretName
  ) {
    return endpoint;
  }
  throw new HeraldError(
    "endpoint.already_exists",
    `Endpoint id ${endpoint.id} is taken by an endpoint that is not this ad-hoc target`,
    { details: { endpointId: endpoint.id } },
  );
}
