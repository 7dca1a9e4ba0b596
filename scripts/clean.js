#!/usr/bin/env node
'use strict';
// Empties dist/ before a build: a module moved or removed must not linger there (and ship).
require('node:fs').rmSync(require('node:path').join(__dirname, '..', 'dist'), { recursive: true, force: true });
