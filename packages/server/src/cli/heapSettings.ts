// V8 settings of the `herald` process, applied before the CLI's modules run (bin.ts imports
// this module first).
//
// Allocation-site pretenuring off. V8 allocates an allocation site's objects straight into the
// old generation once most of them outlive one young-generation collection. Under delivery load
// that happened to short-lived per-request objects — an attempt's timer, the header buffers of
// undici's response parser (which site varied from run to run) — which then piled up in the
// old generation as garbage until the next full collection: a worker's old space swung between
// 35 and 96 MB and its RSS peaked above 220 MB (docs/benchmarks.md, soak). Without it, those
// objects die young as they should.
import { setFlagsFromString } from "node:v8";

setFlagsFromString("--no-allocation-site-pretenuring");
