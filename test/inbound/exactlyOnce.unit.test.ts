// Exactly-once delivery with the in-process memory store.
import { createMemoryDedupeStore } from "@heraldjs/webhooks";
import { testExactlyOnce } from "../contracts/exactlyOnce.js";

testExactlyOnce("memory store", (count) => {
  const store = createMemoryDedupeStore();
  return Array.from({ length: count }, () => store);
});
