// In-memory named secrets: the named-secret half of the memory DeliveryStore.
import { compareText } from "../../model/listQuery.js";
import {
  namedSecretAlreadyExists,
  namedSecretKey,
  namedSecretNotFound,
  newNamedSecretRecord,
  rotatedNamedSecretRecord,
} from "../../model/namedSecretRecords.js";
import type { NamedSecretRecord, NamedSecretStore } from "../deliveryPorts.js";
import { copy } from "./deliveryCatalog.js";

// U+0000 sorts first, so the joined keys order by tenant, then name.
const byTenantAndName = (a: NamedSecretRecord, b: NamedSecretRecord) =>
  compareText(namedSecretKey(a.tenant, a.name), namedSecretKey(b.tenant, b.name));

export function memoryNamedSecrets(nowIso: () => string): NamedSecretStore {
  const secrets = new Map<string, NamedSecretRecord>();
  return {
    async createNamedSecret(input) {
      const record = newNamedSecretRecord(input, nowIso());
      const id = namedSecretKey(record.tenant, record.name);
      if (secrets.has(id)) throw namedSecretAlreadyExists(record.tenant, record.name);
      secrets.set(id, record);
      return copy(record);
    },
    async getNamedSecret(tenant, name) {
      return copy(secrets.get(namedSecretKey(tenant, name)));
    },
    async listNamedSecrets(options = {}) {
      const rows = [...secrets.values()].filter(
        (s) => options.tenant === undefined || s.tenant === options.tenant,
      );
      return copy(rows.sort(byTenantAndName));
    },
    async updateNamedSecretVersions(tenant, name, versions) {
      const id = namedSecretKey(tenant, name);
      const existing = secrets.get(id);
      if (existing === undefined) throw namedSecretNotFound(tenant, name);
      const record = rotatedNamedSecretRecord(existing, versions, nowIso());
      secrets.set(id, record);
      return copy(record);
    },
    async deleteNamedSecret(tenant, name) {
      return secrets.delete(namedSecretKey(tenant, name));
    },
  };
}
