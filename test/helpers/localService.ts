// The service in-process (startService) on a temp SQLite file, HTTP only, silent: for tests of
// routes over real sockets that need nothing else.
import { pino } from "pino";
import {
  type RunningService,
  type ServiceSettings,
  startService,
} from "../../packages/server/src/server/service.js";
import { tempSqlitePath } from "./sqlite.js";

export interface LocalService {
  service: RunningService;
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** Stops the service and removes its database. */
  stop(): Promise<void>;
}

export async function startLocalService(
  settings: Partial<ServiceSettings> = {},
): Promise<LocalService> {
  const file = tempSqlitePath();
  const service = await startService({
    database: { dialect: "sqlite", path: file.path },
    http: true,
    worker: false,
    host: "127.0.0.1",
    port: 0,
    apiKey: null,
    logger: pino({ level: "silent" }),
    version: "test",
    ...settings,
  });
  return {
    service,
    url: service.url as string,
    async stop() {
      await service.stop();
      file.cleanup();
    },
  };
}
