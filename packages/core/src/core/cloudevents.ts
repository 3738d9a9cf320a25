// CloudEvents 1.0 for the v1 envelope: the attribute mapping and the HTTP structured and binary
// modes, lossless both ways (docs/core.md, "CloudEvents").
export * from "./cloudeventsHttp.js";
export * from "./cloudeventsMapping.js";
