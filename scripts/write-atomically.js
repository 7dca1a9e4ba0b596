'use strict';
// A build output written whole or not at all: a reader (a launcher starting meanwhile, a
// build run twice at once) sees the old file or the new one, never half of one.
const fs = require('node:fs');

function writeAtomically(file, data) {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

module.exports = { writeAtomically };
