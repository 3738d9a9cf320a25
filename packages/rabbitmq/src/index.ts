// `@heraldjs/rabbitmq`: Herald on RabbitMQ: the delivery transport that publishes signed webhooks to an exchange with publisher confirms.
export type { Transport } from "@heraldjs/core/internal/delivery/transports/types.js";
export {
  checkRabbitMqTarget,
  createRabbitMqTransport,
  type RabbitMqTransportOptions,
} from "./delivery/transports/rabbitmq.js";
