#!/usr/bin/env node
// The `herald` executable: runs the built CLI (dist/cli/bin.js). A file of its own, present before
// the build, so npm links the bin when a clone of the repository is installed.
import "../dist/cli/bin.js";
