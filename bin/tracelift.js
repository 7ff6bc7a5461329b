#!/usr/bin/env node
// The tracelift CLI. `npm run build` (part of the README set-up) produces dist/cli.js.
require('../dist/cli.js');
