#!/usr/bin/env node
// The published entry: the compiled CLI (npm run build writes lib/).
import '../lib/cli/entry.js';
